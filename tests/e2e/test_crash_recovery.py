"""Nothing lost, nothing doubled: SIGKILL in the middle of a capture, then restart.

The capture runs as a real ``autocapture sync`` process with tiny batches so
that it commits hundreds of times; the test kills it at three points, restarts
it, and finally compares the whole database, by natural keys, with an
uninterrupted capture of the same archive. The killed agent reads ahead
(agent.readahead) in a child process it does not get to stop: the child
must leave by itself.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.processes import children, kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import ROOT, captured_so_far, demo_config, snapshot


def kill_after(config: Path, db: Path, sources: int, deadline: float = 120.0) -> tuple[int, int]:
    """Start a capture and SIGKILL it once ``sources`` copies are committed;
    its exit status and how many children it had then.

    Its read-ahead child (agent.readahead) is not killed: it must notice
    that its parent is gone and leave by itself.
    """
    proc = start_sync(config)
    orphans = kill_once_captured(proc, db, sources, deadline=deadline)
    assert not wait_gone(orphans), "a read-ahead child outlived its agent"
    return proc.returncode, len(orphans)


def test_sigkill_mid_capture_then_restart_equals_uninterrupted_run(tmp_path: Path) -> None:
    reference = demo_config(tmp_path, "reference", batch_size=4)
    settings = load(reference)
    sync_once(settings, open_database(settings.database_url))
    expected = snapshot(open_database(settings.database_url).engine)

    victim = demo_config(tmp_path, "victim", batch_size=4)
    victim_db = tmp_path / "victim.db"
    kills = [kill_after(victim, victim_db, n) for n in (10, 80, 170)]
    # Really killed mid-capture (not finished), and mid read-ahead at least once.
    assert [code for code, _ in kills].count(-signal.SIGKILL) >= 2, kills
    assert any(orphans for _, orphans in kills), kills
    assert 0 < captured_so_far(victim_db) < len(expected["sources"])

    final = start_sync(victim)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode(errors="replace")[-2000:]
    got = snapshot(open_database(f"sqlite:///{victim_db}").engine)
    for table in expected:
        assert got[table] == expected[table], table


def test_sigterm_mid_read_ahead_stops_the_agent_and_its_child(tmp_path: Path) -> None:
    """The agent's SIGTERM handler asks for a stop; the forked read-ahead child
    must not keep it (it would then ignore the agent's terminate and be
    waited for forever): the agent stops after the batch in hand, and the
    child is gone with it."""
    config = demo_config(tmp_path, "stopped", batch_size=2)
    db = tmp_path / "stopped.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), "sync"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stop = time.monotonic() + 120
    readers: set[int] = set()
    while proc.poll() is None and time.monotonic() < stop and not readers:
        if captured_so_far(db) >= 10:
            readers = children(proc.pid)
        time.sleep(0.01)
    assert readers, "no read-ahead child to stop"
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]
    outcomes = [line.split(" - ")[0] for line in stdout.decode().splitlines()]
    assert outcomes == ["alice: stopped", "bob: stopped"]
    assert not wait_gone(readers)
