"""The IMAP capture of two or more source trees, alternated on one loaded Dovecot.

    python bench/imap_trees.py TREE [TREE ...] [--rounds 3] [--messages 20000] [--seed 1]

``bench/imap_backfill.py`` loads a new mailbox and runs mbsync for every
figure, and mbsync alone moved between 7.5 and 21 s on this kind of
machine, so its ratio cannot tell two trees a tenth apart. This loads the
mailbox once into a private Dovecot, then captures it with each TREE (a
checkout, e.g. ``git worktree add /tmp/before <commit>``) in turn, round
after round, the order reversed every other round, each into a fresh
SQLite database. For every run it prints the wall time of the sync and the
CPU seconds of the agent and of its read-ahead child (``getrusage``): the
capture is CPU-bound on two cores, so both count.

Every tree runs with this interpreter and this tree's mailbox generator and
Dovecot; only the agent's code differs. It asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Runs in the child, with the tree's own code first on the path.
CAPTURE = """\
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from agent import heap
from agent.sync import sync_once
from config.loader import load
from storage import open_database
settings = load(Path(sys.argv[2]))
db = open_database(settings.database_url)
heap.settle()
def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime
agent, child, start = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
reports = sync_once(settings, db)
print(json.dumps({
    "wall": time.perf_counter() - start,
    "agent": cpu(resource.RUSAGE_SELF) - agent,
    "child": cpu(resource.RUSAGE_CHILDREN) - child,
    "records": sum(r.records for r in reports),
}))
"""


def capture(tree: Path, config: Path) -> dict[str, float]:
    from bench.imap_backfill import json_child

    db = config.parent / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return json_child(["-c", CAPTURE, str(tree), str(config)], tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", type=Path, nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    from bench.imap_backfill import load_mailbox, private_dovecot, write_config

    trees = [t.resolve() for t in args.trees]
    runs: dict[Path, list[dict[str, float]]] = {t: [] for t in trees}
    with private_dovecot("autocapture-imap-trees-") as (server, user, work):
        n, size = load_mailbox(user, args.messages, args.seed)
        print(f"mailbox             {n} messages, {size / 1e6:.1f} MB", flush=True)
        config = write_config(work, server.port, user.name, args.batch_size)
        capture(trees[0], config)  # Dovecot's caches warm before anything is timed
        for round_ in range(args.rounds):
            for tree in trees if round_ % 2 == 0 else trees[::-1]:
                r = capture(tree, config)
                runs[tree].append(r)
                print(f"round {round_}  {tree}  {line(r)}", flush=True)
    report(runs)


def line(r: dict[str, Any]) -> str:
    return (
        f"{r['wall']:.2f} s wall, agent {r['agent']:.2f} + child {r['child']:.2f} s CPU, "
        f"{r['records']:.0f} records"
    )


def report(runs: dict[Path, list[dict[str, float]]]) -> None:
    first = statistics.median(r["wall"] for r in next(iter(runs.values())))
    for tree, rs in runs.items():
        wall = statistics.median(r["wall"] for r in rs)
        print(
            f"{tree}: median {wall:.2f} s wall ({wall / first:.2f} x the first tree), "
            f"fastest {min(r['wall'] for r in rs):.2f} s; CPU medians agent "
            f"{statistics.median(r['agent'] for r in rs):.2f}, child "
            f"{statistics.median(r['child'] for r in rs):.2f} s"
        )


if __name__ == "__main__":
    main()
