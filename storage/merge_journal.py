"""What a merge changed, row by row, so ``unmerge`` can put every row back.

Each changed row is kept as its table, its key after the merge, and the
columns the merge changed with their values before and after; a row the
merge deleted is kept whole (``before`` alone), one it added too (``after``
alone). Values travel as JSON:
timestamps as ISO 8601 text, read back through the column's type.

Undo is per column: a column whose value is still what the merge wrote
gets its old value back; one that changed since (a later capture, a
person) keeps the newer value, so undoing a merge never loses what
happened after it.

Also here: which contact a merged-away id stands for now (``survivors_of``),
and the lock that keeps merges and captures from interleaving on
PostgreSQL (``identity_lock``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import select_in
from storage.schema import (
    contact_emails,
    contact_field_locks,
    contact_keys,
    contact_observations,
    contacts,
    employments,
    interaction_participants,
    merge_rows,
    merges,
    review_queue,
)
from storage.schema_types import UTCDateTime

TABLES = {
    t.name: t
    for t in (
        contacts,
        contact_emails,
        contact_observations,
        contact_field_locks,
        interaction_participants,
        contact_keys,
        employments,
        review_queue,
    )
}

# Any constant works; the same in every process. Spells "identity".
IDENTITY_LOCK = 0x6964656E74697479


def identity_lock(conn: sa.Connection, *, exclusive: bool) -> None:
    """PostgreSQL: captures and imports share this lock, a merge or unmerge holds it alone.

    A capture reads which contact owns each mailbox and then writes rows that
    point at it; a merge committing in between would leave those rows on a
    deleted contact. Captures do not wait for each other. SQLite has one
    writer at a time already.
    """
    if conn.dialect.name != "postgresql":
        return
    how = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    conn.execute(sa.text(f"SELECT {how}(:key)"), {"key": IDENTITY_LOCK})


def survivors_of(conn: sa.Connection, ids: Iterable[int]) -> dict[int, int]:
    """For each merged-away id of ``ids``, the contact it stands for now (merges chain).

    A contact is merged away by at most one standing merge: its row is gone,
    so nothing can merge it again until that merge is undone.
    """
    m = merges.c
    query = sa.select(m.merged_id, m.survivor_id).where(m.undone_at.is_(None))
    points = {i: i for i in ids}  # start -> the contact it leads to so far
    frontier, seen = set(points), set()
    while frontier:
        step = {r.merged_id: r.survivor_id for r in select_in(conn, query, m.merged_id, frontier)}
        for start, at in points.items():
            points[start] = step.get(at, at)
        seen |= frontier
        frontier = set(step.values()) - seen
    return {start: at for start, at in points.items() if at != start}


def live_targets(conn: sa.Connection, ids: Iterable[int]) -> dict[int, int]:
    """The live contact each of ``ids`` stands for: itself, or the survivor of its merge;
    ids of contacts that are gone (and not merged away) are left out.

    A plan made before a merge committed may name the merged-away id.
    """
    wanted = set(ids)
    live = {r.id for r in select_in(conn, [contacts.c.id], contacts.c.id, wanted)}
    moved = survivors_of(conn, wanted - live) if wanted - live else {}
    alive = {r.id for r in select_in(conn, [contacts.c.id], contacts.c.id, set(moved.values()))}
    targets = {i: i for i in live}
    targets.update({i: s for i, s in moved.items() if s in alive})
    return targets


def _encode(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def decode(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in row.items():
        stamp = isinstance(table.c[k].type, UTCDateTime) and v is not None
        out[k] = datetime.fromisoformat(v) if stamp else v
    return out


def key_of(table: sa.Table, row: Mapping[str, Any]) -> dict[str, Any]:
    return {c.name: row[c.name] for c in table.primary_key.columns}


class Journal:
    """The rows one merge changed, in the order it changed them."""

    def __init__(self, merge_id: int) -> None:
        self.merge_id = merge_id
        self.rows: list[dict[str, Any]] = []

    def changed(
        self,
        table: sa.Table,
        key: Mapping[str, Any],
        before: Mapping[str, Any],
        after: Mapping[str, Any],
    ) -> None:
        """A row now at ``key`` whose columns went from ``before`` to ``after``."""
        self.rows.append(
            {
                "table_name": table.name,
                "row_key": _encode(table, key),
                "before": _encode(table, before),
                "after": _encode(table, after),
            }
        )

    def deleted(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        self.rows.append(
            {
                "table_name": table.name,
                "row_key": _encode(table, key_of(table, row)),
                "before": _encode(table, row),
                "after": None,
            }
        )

    def inserted(self, table: sa.Table, row: Mapping[str, Any]) -> None:
        """A row the merge added (``after`` alone): undo deletes it."""
        self.rows.append(
            {
                "table_name": table.name,
                "row_key": _encode(table, key_of(table, row)),
                "before": None,
                "after": _encode(table, row),
            }
        )

    def write(self, conn: sa.Connection) -> None:
        # Plain executemany: PostgreSQL's array insert has no JSON arrays, and merges are rare.
        if self.rows:
            conn.execute(merge_rows.insert(), [{"merge_id": self.merge_id, **r} for r in self.rows])
