"""``autocapture sync`` as a child process: start it, watch its commits, kill it.

The crash tests reduce "how far did it get" to the number of committed
source copies, read from the SQLite file by a second, read-only connection,
exactly as a CRM would see it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.sample import ROOT, captured_so_far


def start_sync(config: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), "sync"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return {int(c) for c in path.read_text().split()}
    except OSError:
        return set()


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's reaper may be slow, or absent in a container)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def kill_once_captured(
    proc: subprocess.Popen[bytes],
    db: Path | str,
    sources: int,
    delay: float = 0.0,
    deadline: float = 120.0,
    last: int | None = None,
) -> set[int]:
    """SIGKILL ``proc`` ``delay`` s after ``sources`` copies are committed; its children then.

    With ``last`` (the run's final count) the delay is cut short once that
    many are committed: a ``sync`` exits some 70 ms after its final commit,
    and a kill due later would find it gone.
    """
    stop = time.monotonic() + deadline
    orphans: set[int] = set()
    while proc.poll() is None and time.monotonic() < stop:
        if captured_so_far(db) >= sources:
            _sleep_until_last(db, delay, last)
            orphans = children(proc.pid)
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.01)
    proc.communicate(timeout=60)  # waits, and closes our end of its stderr pipe
    return orphans


def _sleep_until_last(db: Path | str, delay: float, last: int | None) -> None:
    until = time.monotonic() + delay
    while (left := until - time.monotonic()) > 0:
        if last is not None and captured_so_far(db) >= last:
            return
        time.sleep(min(left, 0.002))


def wait_gone(pids: set[int], seconds: float = 30.0) -> list[int]:
    """The pids still running after ``seconds`` (polled; an empty list is the good answer)."""
    gone = time.monotonic() + seconds
    while any(running(pid) for pid in pids) and time.monotonic() < gone:
        time.sleep(0.05)
    return [pid for pid in pids if running(pid)]
