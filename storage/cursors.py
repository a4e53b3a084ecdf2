"""Sync cursors: where each (account, stream) stands, and the backfill window it covers.

A cursor is written only by ``apply``, in the transaction of the batch it
follows (docs/ARCHITECTURE.md, invariant 1); everything else reads it, or
forgets an account's cursors after ``CursorExpired`` together with the
completeness ledger they vouch for.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import upsert
from storage.schema_accounts import accounts, provider_items, sync_cursors


def store(
    conn: sa.Connection,
    account_id: int,
    stream: str,
    cursor: Mapping[str, Any],
    now: datetime,
    window_since: datetime | None,
) -> None:
    stmt = upsert(conn, sync_cursors).values(
        account_id=account_id,
        stream=stream,
        cursor=dict(cursor),
        updated_at=now,
        window_since=window_since,
    )
    excluded = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "stream"],
        set_={
            "cursor": excluded.cursor,
            "updated_at": excluded.updated_at,
            "window_since": excluded.window_since,
        },
    )
    conn.execute(stmt)


def _of_account(account: str, *columns: Any) -> sa.Select[Any]:
    """``columns`` of the cursor rows of the account named ``account``."""
    return (
        sa.select(*columns)
        .join(accounts, accounts.c.id == sync_cursors.c.account_id)
        .where(accounts.c.name == account)
    )


def position(
    conn: sa.Connection, account: str, stream: str
) -> tuple[dict[str, Any] | None, datetime | None]:
    """The stream's cursor and the backfill window start it covers (None: unknown)."""
    c = sync_cursors.c
    query = _of_account(account, c.cursor, c.window_since).where(c.stream == stream)
    row = conn.execute(query).first()
    if row is None:
        return None, None
    return dict(row.cursor), row.window_since


def cursors_of(conn: sa.Connection, account: str) -> dict[str, dict[str, Any]]:
    """{stream: cursor} of every stream of ``account`` that has one."""
    c = sync_cursors.c
    rows = conn.execute(_of_account(account, c.stream, c.cursor)).all()
    return {stream: dict(cursor) for stream, cursor in rows if cursor is not None}


def synced_before(conn: sa.Connection, account: str) -> bool:
    """Whether any stream of ``account`` was ever synced (a first sync has none)."""
    query = _of_account(account, sync_cursors.c.stream).limit(1)
    return conn.execute(query).first() is not None


def window_starts(conn: sa.Connection) -> dict[str, datetime]:
    """Per account, the latest window start any of its cursors covers:
    items before it are certainly captured on no stream."""
    c = sync_cursors.c
    query = (
        sa.select(accounts.c.name, sa.func.max(c.window_since))
        .join(accounts, accounts.c.id == c.account_id)
        .group_by(accounts.c.name)
    )
    return {name: when for name, when in conn.execute(query) if when is not None}


def forget(conn: sa.Connection, account: str) -> None:
    """Drop every cursor of ``account``, and the ledger of what they captured; data stays."""
    ids = sa.select(accounts.c.id).where(accounts.c.name == account).scalar_subquery()
    conn.execute(sa.delete(sync_cursors).where(sync_cursors.c.account_id == ids))
    conn.execute(sa.delete(provider_items).where(provider_items.c.account_id == ids))
