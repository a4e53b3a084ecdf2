"""The change feed: "everything since N" for a CRM, without ever missing a commit.

Each write transaction appends rows ``(id, entity, entity_id, operation, at,
other_id)`` to ``changes`` (``other_id``: the survivor of a ``merge`` or
``unmerge``); a reader keeps the highest id it has processed and asks for
rows above it.

The trap is concurrent writers. On PostgreSQL ids come from a sequence, and
a sequence hands out numbers at INSERT time, not at COMMIT time: writer A
takes id 7, writer B takes id 8 and commits first. A reader that sees 8 and
remembers "8" would never see 7 once A commits.

So change ids are drawn under a transaction-scoped advisory lock
(``pg_advisory_xact_lock``), as the last write of every apply: a writer
draws its ids only after the previous holder has committed (PostgreSQL makes
a commit visible before it releases the transaction's locks), so ids become
visible in id order and a reader that only moves forward skips nothing. The
lock is held only from the last INSERT to COMMIT, so writers still do all
their other work in parallel.

Why not filter readers by transaction-id horizon
(``xact_id < pg_snapshot_xmin(...)``) instead: that is wrong when two
writers draw sequence ids in the opposite order of their transaction ids
(B: xid 99, id 8; A: xid 100, id 7; B commits; 8 passes the horizon while
A is still running), and it also delayed the whole feed behind any long
write transaction on the server. ``xact_id`` is still written: it tells an
operator which transaction wrote a row.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so ids are already in
commit order and no filter is needed; ``AUTOINCREMENT`` keeps them from being
reused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from storage.bulk import write_rows
from storage.schema import changes

# Any constant works; this one spells "autocapture feed" so operators can spot it in pg_locks.
FEED_LOCK = 0x6175746F46656564
Entity = Literal["contact", "interaction", "company", "review", "employment"]
Operation = Literal["insert", "update", "delete", "merge", "unmerge", "forget"]
Feed = list[tuple[Entity, int, Operation]]  # the rows a transaction collects, recorded last


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    entity: str
    entity_id: int
    operation: str
    at: datetime
    other_id: int | None = None  # merge, unmerge: the surviving contact


def _xact_id(conn: sa.Connection) -> int | None:
    if conn.dialect.name != "postgresql":
        return None
    # xid8 has no cast to bigint; its text form is the 64-bit number.
    value = conn.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    return int(value)


def record(
    conn: sa.Connection,
    rows: Iterable[tuple[Entity, int, Operation]],
    at: datetime,
    others: Mapping[tuple[Entity, int, Operation], int] | None = None,
) -> int:
    """Append change rows in this transaction; returns how many.

    ``others``: the second contact of a row that names two (merge, unmerge).
    """
    others = others or {}
    items = list(dict.fromkeys(rows))  # one row per (entity, id, op) per transaction
    # A row inserted in this transaction is read whole by the CRM: its updates add nothing.
    inserted = {(e, i) for e, i, op in items if op == "insert"}
    items = [(e, i, op) for e, i, op in items if op != "update" or (e, i) not in inserted]
    if not items:
        return 0
    xact = _xact_id(conn)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": FEED_LOCK})
    write_rows(
        conn,
        changes.insert(),
        [
            {
                "entity": e,
                "entity_id": i,
                "operation": op,
                "at": at,
                "xact_id": xact,
                "other_id": others.get((e, i, op)),
            }
            for e, i, op in items
        ],
    )
    return len(items)


def changes_since(conn: sa.Connection, after: int, limit: int) -> list[Change]:
    c = changes.c
    query = sa.select(c.id, c.entity, c.entity_id, c.operation, c.at, c.other_id)
    rows = conn.execute(query.where(c.id > after).order_by(c.id).limit(limit)).all()
    return [Change(r.id, r.entity, r.entity_id, r.operation, r.at, r.other_id) for r in rows]
