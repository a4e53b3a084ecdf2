"""The agent's side of a capture (plan and store), replayed for a steady CPU figure.

    python bench/agent_side.py [--messages 20000] [--seed 1] [--batch-size 500] [--replays 5]

During a backlog the read-ahead process fetches and reads the next batches
(``agent.readahead``) while the agent plans and stores this one; the agent
is the slower side in ``bench/imap_backfill.py`` and ``bench/pipeline.py``,
so its CPU sets their pace. Their wall-clock figures move by a tenth from
one run to the next on a shared machine, which hides a change of a few
percent on this side. This fixes everything but this side:

1. generates the pipeline benchmark's mbox (``bench.mailgen``) and reads
   it once, as the read-ahead process would (archive connector,
   ``matcher.read_batch``);
2. replays the agent's work on those readings ``--replays`` times, each
   into a fresh SQLite database: ``matcher.plan_reading`` then
   ``Database.apply``, batch after batch, each timed in CPU seconds;
3. prints the fastest replay's plan and store seconds, all the replays,
   and the ratio of plan plus store to the standard library's parse of
   the same mail (``bench/pipeline.py``'s reference).

It asserts nothing: figures are for people, to compare two trees.
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def readings(config: Path) -> tuple[Any, list[tuple[str, Any, Any]]]:
    """The policy and every batch's (stream, batch, reading), read as the child reads them."""
    import matcher
    from bench.phases import batches, first_account

    account, policy, connector = first_account(config)
    read = [
        (stream, batch, matcher.read_batch(batch.records, policy))
        for stream, batch in batches(connector, account.batch_size)
    ]
    connector.close()
    return policy, read


def replay(policy: Any, read: list[tuple[str, Any, Any]], folder: Path) -> tuple[float, float]:
    """CPU seconds of (plan, store) for every batch, into a fresh database in ``folder``."""
    import matcher
    from storage import open_database

    db = open_database(f"sqlite:///{folder}/replay.db")
    plan_s = store_s = 0.0
    for stream, batch, reading in read:
        start = time.process_time()
        plan = matcher.plan_reading(reading, policy, db.directory())
        planned = time.process_time()
        db.apply(plan, stream, batch.next_cursor, held=batch.held)
        plan_s += planned - start
        store_s += time.process_time() - planned
    db.close()
    return plan_s, store_s


def main() -> None:
    from agent import heap
    from bench.pipeline import prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--replays", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autocapture-bench-") as tmp:
        work = Path(tmp)
        _, parse_s, config = prepare(work, args.messages, args.seed, args.batch_size)
        policy, read = readings(config)
        heap.settle()  # as the agent does before its first sync
        gc.freeze()  # the readings stay: out of the collector's sight, as a handed-over batch is
        runs = []
        for n in range(args.replays):
            folder = work / f"replay{n}"
            folder.mkdir()
            runs.append(replay(policy, read, folder))
    report(args.messages, parse_s, runs)


def report(n: int, parse_s: float, runs: list[tuple[float, float]]) -> None:
    plan_s = min(p for p, _ in runs)
    store_s = min(s for _, s in runs)
    print(f"messages            {n}, {len(runs)} replays of the agent's side")
    print(f"stdlib parse        {parse_s:.2f} s (email.message_from_bytes, policy=default)")
    print(f"plan (CPU s)        {plan_s:.2f} fastest; all {' '.join(f'{p:.2f}' for p, _ in runs)}")
    print(f"store (CPU s)       {store_s:.2f} fastest; all {' '.join(f'{s:.2f}' for _, s in runs)}")
    print(f"ratio agent/parse   {(plan_s + store_s) / parse_s:.2f}  (plan and store, fastest each)")


if __name__ == "__main__":
    main()
