"""Account health and completeness as stored: the state with its history, the last checks.

The state machine itself (which event leads to which state) is the agent's
(``agent.health``); storage keeps the current state on ``accounts`` and
appends a row to ``account_transitions`` whenever the state changes, in
the same transaction. A state re-entered with new detail (more backfill
progress, a new last error) updates the detail without a transition row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connectors.records import Inventory, SourceRef
from storage import changes as feed_rows
from storage import ledger
from storage.apply import ensure_accounts, remove_sources
from storage.bulk import select_in
from storage.changes import Feed
from storage.schema import interaction_sources
from storage.schema_accounts import account_transitions, accounts, completeness_checks, sync_cursors

# The connector's ``requeue``: (stored cursor, missing items) -> the cursor
# with which the next fetch captures them.
Requeue = Callable[[dict[str, Any], list[str]], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Transition:
    account: str
    at: datetime
    from_state: str | None
    to_state: str
    detail: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class StreamCheck:
    """The last ``verify`` of one stream, and how much of its finding is still open."""

    account: str
    stream: str
    checked_at: datetime
    since: datetime | None
    listed: int
    missing: int  # found missing by the check
    outstanding: int  # of those, not captured since (the next poll fetches them)
    removed: int  # copies marked removed: gone at the provider


def set_health(
    conn: sa.Connection, account_id: int, state: str, detail: dict[str, Any], now: datetime
) -> bool:
    """Store the state; True when it changed (a transition was recorded)."""
    a = accounts.c
    row = conn.execute(sa.select(a.health).where(a.id == account_id)).first()
    before = row.health if row is not None else None
    changed = before != state
    values: dict[str, Any] = {"health": state, "health_detail": detail}
    if changed:
        values["health_since"] = now
        conn.execute(
            sa.insert(account_transitions).values(
                account_id=account_id, at=now, from_state=before, to_state=state, detail=detail
            )
        )
    conn.execute(sa.update(accounts).where(a.id == account_id).values(**values))
    return changed


def transitions(conn: sa.Connection, account: str | None = None) -> list[Transition]:
    t, a = account_transitions.c, accounts.c
    query = (
        sa.select(a.name, t.at, t.from_state, t.to_state, t.detail)
        .join(accounts, a.id == t.account_id)
        .order_by(t.id)
    )
    if account is not None:
        query = query.where(a.name == account)
    return [Transition(*row) for row in conn.execute(query)]


def checks(conn: sa.Connection, account: str | None = None) -> list[StreamCheck]:
    c, a = completeness_checks.c, accounts.c
    query = (
        sa.select(
            a.name, c.account_id, c.stream, c.checked_at, c.since, c.listed, c.missing, c.removed
        )
        .join(accounts, a.id == c.account_id)
        .order_by(a.name, c.stream)
    )
    if account is not None:
        query = query.where(a.name == account)
    found = []
    for row in conn.execute(query).all():
        missing = list(row.missing or [])
        left = ledger.outstanding(conn, row.account_id, row.stream, missing)
        found.append(
            StreamCheck(
                row.name,
                row.stream,
                row.checked_at,
                row.since,
                row.listed,
                len(missing),
                left,
                row.removed,
            )
        )
    return found


def verify_stream(
    conn: sa.Connection,
    account: str,
    stream: str,
    listing: Inventory,
    requeue: Requeue,
    now: datetime,
) -> StreamCheck:
    """Compare, remove what is gone, queue what is missing, store the check."""
    account_id = ensure_accounts(conn, [account], now)[account]
    comparison = ledger.compare(conn, account_id, stream, listing)
    gone = ledger.forget(conn, account_id, stream, comparison.gone)
    s = interaction_sources.c
    live = [
        r.provider_id
        for r in select_in(conn, [s.provider_id, s.removed_at, s.account_id], s.provider_id, gone)
        if r.account_id == account_id and r.removed_at is None
    ]
    feed: Feed = []
    remove_sources(
        conn, [SourceRef(account, stream, pid) for pid in live], {account: account_id}, now, feed
    )
    feed_rows.record(conn, feed, now)
    if comparison.missing:
        _requeue(conn, account_id, stream, [item for item, _ in comparison.missing], requeue)
    ledger.store_check(conn, account_id, stream, listing, comparison, len(live), now)
    missing = len(comparison.missing)
    return StreamCheck(
        account, stream, now, listing.since, len(listing.items), missing, missing, len(live)
    )


def _requeue(
    conn: sa.Connection, account_id: int, stream: str, items: list[str], requeue: Requeue
) -> None:
    """Rewrite the stream's cursor so the next poll fetches ``items``; a stream
    never synced has no cursor, and its first poll reads everything anyway."""
    c = sync_cursors.c
    where = (c.account_id == account_id, c.stream == stream)
    row = conn.execute(sa.select(c.cursor).where(*where)).first()
    if row is None:
        return
    cursor = requeue(dict(row.cursor), items)
    conn.execute(sa.update(sync_cursors).where(*where).values(cursor=cursor))
