"""The change feed: "everything since N" for a CRM, without ever missing a commit.

Each write transaction appends rows ``(id, entity, entity_id, operation, at)``
to ``changes``; a reader keeps the highest id it has processed and asks for
rows above it.

The trap is concurrent writers. On PostgreSQL ids come from a sequence, and
a sequence hands out numbers at INSERT time, not at COMMIT time: writer A
takes id 7, writer B takes id 8 and commits first. A reader that sees 8 and
remembers "8" would never see 7 once A commits. So every row also records
the writing transaction's id (``pg_current_xact_id()``), and the reader
returns only rows written by transactions older than the oldest one still
running in its snapshot (``xact_id < pg_snapshot_xmin(pg_current_snapshot())``).
Any transaction that could still commit a lower id is then, by definition,
at or above that horizon, so the rows it would hide are held back too; they
appear on a later read, after it ends. The writer takes its transaction id
(``record`` selects it) before it draws any id from the sequence, so no row
can carry an id older than its transaction's place in that order.

The price: the horizon is the oldest transaction *with a transaction id*
on the whole server, so a long write transaction, even in another database
of the cluster, delays the feed until it ends. It never loses a row, and
read-only transactions do not count. A row once returned stays returnable:
the horizon only moves forward.

SQLite has one writer at a time (``BEGIN IMMEDIATE``), so ids are already in
commit order and no filter is needed; ``AUTOINCREMENT`` keeps them from being
reused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from storage.bulk import write_rows
from storage.schema import changes

Entity = Literal["contact", "interaction", "company"]
Operation = Literal["insert", "update", "delete", "merge", "forget"]


@dataclass(frozen=True, slots=True)
class Change:
    id: int
    entity: str
    entity_id: int
    operation: str
    at: datetime


def _xact_id(conn: sa.Connection) -> int | None:
    if conn.dialect.name != "postgresql":
        return None
    # xid8 has no cast to bigint; its text form is the 64-bit number.
    value = conn.execute(sa.text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    return int(value)


def record(conn: sa.Connection, rows: Iterable[tuple[Entity, int, Operation]], at: datetime) -> int:
    """Append change rows in this transaction; returns how many."""
    items = list(dict.fromkeys(rows))  # one row per (entity, id, op) per transaction
    # A row inserted in this transaction is read whole by the CRM: its updates add nothing.
    inserted = {(e, i) for e, i, op in items if op == "insert"}
    items = [(e, i, op) for e, i, op in items if op != "update" or (e, i) not in inserted]
    if not items:
        return 0
    xact = _xact_id(conn)
    write_rows(
        conn,
        changes.insert(),
        [
            {"entity": e, "entity_id": i, "operation": op, "at": at, "xact_id": xact}
            for e, i, op in items
        ],
    )
    return len(items)


def changes_since(conn: sa.Connection, after: int, limit: int) -> list[Change]:
    query = sa.select(
        changes.c.id, changes.c.entity, changes.c.entity_id, changes.c.operation, changes.c.at
    ).where(changes.c.id > after)
    if conn.dialect.name == "postgresql":
        horizon: sa.ColumnElement[int] = sa.literal_column(
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
        )
        query = query.where(changes.c.xact_id < horizon)
    rows = conn.execute(query.order_by(changes.c.id).limit(limit)).all()
    return [Change(r.id, r.entity, r.entity_id, r.operation, r.at) for r in rows]
