"""Pipeline benchmark: capture a generated mbox end to end, against a bare stdlib parse.

    python bench/pipeline.py [--messages 20000] [--seed 1] [--batch-size 500]

Generates a realistic mbox (``bench.mailgen``: threads with signatures and
quoted replies, newsletters, notifications, ~15% with a 150 KB attachment),
then

1. times ``email.message_from_bytes(raw, policy=email.policy.default)`` over
   every message (the reference: merely parsing the mail with the standard
   library's modern policy), in this process;
2. captures the same mbox with the real agent (archive connector, matcher,
   SQLite storage, one transaction per batch) into a fresh database, in a
   child process so its peak RSS is its own;

and prints messages/s, peak RSS, and the ratio capture time / parse time
(target: <= 1.0). It asserts nothing: figures are for people to read.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONFIG = """\
database_url: sqlite:///{db}
org_domains: [{org}]
accounts:
  - name: bench
    kind: archive
    owner: [{owner}]
    paths: [{mbox}]
    backfill: 36500d
    batch_size: {batch}
    privacy: full
"""


def write_mbox(path: Path, n: int, seed: int) -> tuple[int, list[bytes]]:
    from bench.mailgen import generate_messages

    messages = list(generate_messages(n, seed=seed))
    with path.open("wb") as out:
        for raw in messages:
            out.write(b"From bench@localhost Thu Jan  1 00:00:00 2026\n")
            out.write(raw.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From "))
            out.write(b"\n")
    return path.stat().st_size, messages


def baseline_parse(messages: list[bytes]) -> float:
    start = time.perf_counter()
    for raw in messages:
        email.message_from_bytes(raw, policy=email.policy.default)
    return time.perf_counter() - start


def peak_rss_mb() -> float:
    """This process's peak RSS since exec.

    Not ru_maxrss: Linux keeps it across fork and execve, so a child forked
    from the parent that held the generated mail would report the parent's
    peak. VmHWM belongs to the address space the exec created.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class PeakMemory:
    """The peak, while it runs, of this process's PSS plus its children's.

    The agent forks a read-ahead child during a backlog (``agent.readahead``).
    Adding the two RSS figures would count every page they share twice (the
    child starts as a copy of the agent); PSS splits a shared page between
    them, so the sum is the memory the capture really holds. Sampled from
    /proc every 20 ms in a thread.
    """

    def __init__(self, every: float = 0.02) -> None:
        self.peak_mb = 0.0
        self.child_rss_mb = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(every,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self, every: float) -> None:
        while not self._done.wait(every):
            children = _children(os.getpid())
            total = _kb(os.getpid(), "smaps_rollup", "Pss:")
            total += sum(_kb(c, "smaps_rollup", "Pss:") for c in children)
            self.peak_mb = max(self.peak_mb, total / 1024)
            for c in children:
                self.child_rss_mb = max(self.child_rss_mb, _kb(c, "status", "VmHWM:") / 1024)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _kb(pid: int, name: str, key: str) -> int:
    try:
        text = Path(f"/proc/{pid}/{name}").read_text()
    except OSError:  # the child left between listing and reading
        return 0
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def capture(config: Path) -> dict[str, float]:
    """Runs in the child: one full capture, timed from the first fetch to the last commit.

    The same steps as ``autocapture sync``: load, open the database, settle
    the heap (``agent.heap``), sync every account once.
    """
    from agent import heap
    from agent.sync import sync_once
    from config.loader import load
    from storage import open_database

    settings = load(config)
    db = open_database(settings.database_url)
    heap.settle()
    memory = PeakMemory()
    start = time.perf_counter()
    reports = sync_once(settings, db)
    seconds = time.perf_counter() - start
    memory.stop()
    counts = db.counts()
    rss_mb = peak_rss_mb()
    return {
        "seconds": seconds,
        "records": sum(r.records for r in reports),
        "errors": sum(r.errors for r in reports),
        "rss_mb": rss_mb,
        "child_rss_mb": memory.child_rss_mb,
        "pss_mb": memory.peak_mb,
        **{f"db_{k}": float(v) for k, v in counts.items()},
    }


def memory_line(r: dict[str, float]) -> str:
    return (
        f"peak memory         {r['pss_mb']:.0f} MB PSS, agent and read-ahead child together "
        f"(RSS: agent {r['rss_mb']:.0f} MB, child {r['child_rss_mb']:.0f} MB, "
        f"sharing pages)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--capture", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.capture:
        print(json.dumps(capture(args.capture)))
        return
    with tempfile.TemporaryDirectory(prefix="autocapture-bench-") as tmp:
        size, parse_s, config = prepare(Path(tmp), args.messages, args.seed, args.batch_size)
        child = subprocess.run(
            [sys.executable, __file__, "--capture", str(config)],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        result = json.loads(child.stdout.strip().splitlines()[-1])
    report(args.messages, size, parse_s, result)


def prepare(work: Path, n: int, seed: int, batch: int) -> tuple[int, float, Path]:
    """In ``work``: the generated mbox, the stdlib's time to parse its mail, and a
    configuration capturing it into ``work``/bench.db: (mbox bytes, seconds, config)."""
    from bench.mailgen import ORG_DOMAIN, OWNER

    mbox = work / "bench.mbox"
    size, messages = write_mbox(mbox, n, seed)
    parse_s = baseline_parse(messages)
    del messages
    config = work / "bench.yaml"
    db = work / "bench.db"
    config.write_text(CONFIG.format(db=db, owner=OWNER, org=ORG_DOMAIN, mbox=mbox, batch=batch))
    return size, parse_s, config


def report(n: int, size: int, parse_s: float, r: dict[str, float]) -> None:
    print(f"messages            {n}")
    print(f"mbox size           {size / 1e6:.1f} MB ({size / n / 1024:.1f} KiB/message)")
    print(f"stdlib parse        {parse_s:.2f} s (email.message_from_bytes, policy=default)")
    print(f"capture             {r['seconds']:.2f} s ({n / r['seconds']:.0f} messages/s)")
    print(f"records / errors    {r['records']:.0f} / {r['errors']:.0f}")
    print(
        f"database            {r.get('db_contacts', 0):.0f} contacts, "
        f"{r.get('db_interactions', 0):.0f} interactions"
    )
    print(memory_line(r))
    print(f"ratio capture/parse {r['seconds'] / parse_s:.2f}  (target <= 1.0)")


if __name__ == "__main__":
    main()
