"""Where a capture's CPU goes, phase by phase, for bench/imap_backfill.py.

The agent captures in two processes (``agent.readahead``): a child fetches
and reads the next batches while the parent resolves and stores this one,
so the capture's time is its slower side's. This runs the same phases in
one process, one after the other, and times each in CPU seconds:

- ``connector``: ``fetch`` with no thread fetching ahead (the child's work);
- ``read``: ``matcher.read_batch``, participants and zones (the child's);
- ``plan``: ``matcher.plan_reading``, resolution and signatures (the parent's);
- ``store``: ``Database.apply``, one transaction per batch (the parent's).

Into a fresh SQLite database of its own, whatever the configuration names.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def batches(connector: Any, batch_size: int) -> Iterator[tuple[str, Any]]:
    """Every batch of every stream, each stream from its start to its end, with its stream."""
    for stream in connector.streams():
        cursor = None
        while True:
            batch = connector.fetch(stream, cursor, batch_size)
            yield stream, batch
            if not batch.has_more:
                break
            cursor = batch.next_cursor


def first_account(config: Path) -> tuple[Any, Any, Any]:
    """The configuration's first account, its policy, and a connector to it with no
    thread fetching ahead (the read-ahead process's): (account, policy, connector)."""
    from agent.connections import build_connector
    from agent.policy import account_policy, account_window
    from config.loader import load
    from connectors.base import Limits

    settings = load(config)
    account = settings.accounts[0]
    policy = account_policy(settings, account)
    window = account_window(account, datetime.now(UTC))
    return account, policy, build_connector(account, window, Limits(), fetch_ahead=False)


def phases(config: Path) -> dict[str, float]:
    import matcher
    from storage import open_database

    spent = dict.fromkeys(("connector", "read", "plan", "store"), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/phases.db")
        account, policy, connector = first_account(config)
        records = 0
        fetched = batches(connector, account.batch_size)
        start = time.process_time()
        for stream, batch in fetched:
            spent["connector"] += time.process_time() - start
            start = time.process_time()
            reading = matcher.read_batch(batch.records, policy)
            spent["read"] += time.process_time() - start
            start = time.process_time()
            plan = matcher.plan_reading(reading, policy, db.directory())
            spent["plan"] += time.process_time() - start
            start = time.process_time()
            db.apply(plan, stream, batch.next_cursor, held=batch.held)
            spent["store"] += time.process_time() - start
            records += len(batch.records)
            start = time.process_time()  # the next fetch is timed from here
        connector.close()
        db.close()
    return {**spent, "records": float(records)}


def phases_line(spent: dict[str, float]) -> str:
    child = spent["connector"] + spent["read"]
    parent = spent["plan"] + spent["store"]
    return (
        f"phases (CPU s)      connector {spent['connector']:.2f} + read {spent['read']:.2f} "
        f"= {child:.2f} (read-ahead child); plan {spent['plan']:.2f} + store "
        f"{spent['store']:.2f} = {parent:.2f} (agent); one process, in order"
    )
