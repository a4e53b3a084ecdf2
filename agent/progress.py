"""Backfill progress: a live bar on a terminal, plain lines otherwise.

Totals are unknown before a source is read to its end (an IMAP backfill or
a Gmail history walk does not say how much is left), so the bar counts items
per account rather than pretending to know a percentage.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from agent.sync import BatchListener


@contextmanager
def batch_progress() -> Iterator[BatchListener]:
    if not sys.stdout.isatty():

        def plain(account: str, stream: str, items: int) -> None:
            print(f"{account} {stream}: {items} items", file=sys.stderr, flush=True)

        yield plain
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed} items"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as progress:
        tasks: dict[str, TaskID] = {}

        def live(account: str, stream: str, items: int) -> None:
            key = account
            if key not in tasks:
                tasks[key] = progress.add_task(account, total=None)
            progress.update(tasks[key], advance=items, description=f"{account} {stream}")

        yield live
