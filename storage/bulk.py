"""Bulk statements that read the same on SQLite and PostgreSQL.

Both dialects spell ``INSERT ... ON CONFLICT`` the same way in SQLAlchemy,
but through two different ``insert`` constructs; ``upsert`` picks the one of
the connection. Lookups go through ``chunks`` so an ``IN`` list never passes
SQLite's bound-parameter limit nor makes PostgreSQL plan a huge statement.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")

CHUNK = 900  # below SQLite's historic 999 bound-parameter limit

# PostgreSQL refuses a btree entry above ~2.7 kB, so a hostile iCalendar UID
# or href would fail the whole batch; longer keys are stored as a digest.
MAX_KEY_CHARS = 512

# RFC 5321 caps a path at 256 octets; a longer "address" is not one and would
# only bloat (or, on PostgreSQL, overflow) the email indexes.
MAX_EMAIL_CHARS = 320


def upsert(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for this dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def select_in(
    conn: sa.Connection,
    query: Sequence[Any] | sa.Select[Any],
    key: sa.ColumnElement[Any],
    values: Iterable[Any],
) -> list[sa.Row[Any]]:
    """``query`` (a select, or the columns of one) ``WHERE key IN values``, chunked."""
    base = query if isinstance(query, sa.Select) else sa.select(*query)
    rows: list[sa.Row[Any]] = []
    for part in chunks(sorted(set(values))):
        rows.extend(conn.execute(base.where(key.in_(part))).all())
    return rows


def text_value(value: str | None) -> str | None:
    """Text a database accepts: PostgreSQL rejects NUL and lone surrogates break UTF-8."""
    if value is None:
        return None
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "") if "\x00" in value else value


def key_value(value: str) -> str:
    """A natural key short enough to index on both engines (see MAX_KEY_CHARS)."""
    value = text_value(value) or ""
    if len(value) <= MAX_KEY_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def usable_email(email: str) -> bool:
    return 0 < len(email) <= MAX_EMAIL_CHARS


def update_by_id(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """One executemany ``UPDATE table SET ... WHERE id = ...``; every row has the same keys.

    The bound names get a prefix because SQLAlchemy reserves a column's own
    name for its SET clause.
    """
    if not rows:
        return
    columns = [c for c in rows[0] if c != "id"]
    stmt = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({c: sa.bindparam(f"v_{c}") for c in columns})
    )
    conn.execute(stmt, [{"row_id": r["id"], **{f"v_{c}": r[c] for c in columns}} for r in rows])
