"""What ``status`` shows of each account: its state, stored copies, newest item,
health and last check, read in one query per figure.

``items_captured`` and ``status`` count stored copies (``interaction_sources``),
however often a replay or a resync fetched them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.schema import ingest_errors, interaction_sources, interactions
from storage.schema_accounts import accounts, completeness_checks


@dataclass(frozen=True, slots=True)
class AccountStatus:
    name: str
    kind: str
    state: str  # ok | error | needs_reauth
    message: str | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    items_captured: int
    newest_interaction_at: datetime | None
    health: str | None = None  # agent.health's state; None before the first pass that set one
    health_since: datetime | None = None
    health_detail: dict[str, Any] | None = None


def statuses(conn: sa.Connection, now: datetime) -> list[AccountStatus]:
    """Every account's status, by name; the newest item is the newest not after ``now``."""
    s, i = interaction_sources.c, interactions.c
    newest = (
        sa.select(sa.func.max(i.occurred_at))
        .join(interaction_sources, s.interaction_id == i.id)
        .where(s.account_id == accounts.c.id, i.occurred_at <= now)
        .scalar_subquery()
    )
    a = accounts.c
    query = sa.select(
        a.name,
        a.kind,
        a.state,
        a.message,
        a.last_success_at,
        a.last_error_at,
        stored_copies(),
        sa.type_coerce(newest, interactions.c.occurred_at.type),
        a.health,
        a.health_since,
        a.health_detail,
    ).order_by(a.name)
    return [AccountStatus(*r) for r in conn.execute(query)]


def error_counts(conn: sa.Connection) -> dict[str, int]:
    """Ingest errors stored per account (each item and reason once)."""
    e = ingest_errors.c
    query = (
        sa.select(accounts.c.name, sa.func.count())
        .select_from(ingest_errors)
        .join(accounts, accounts.c.id == e.account_id)
        .group_by(accounts.c.name)
    )
    return {name: int(n) for name, n in conn.execute(query)}


def stored_items(conn: sa.Connection, account: str) -> int:
    query = sa.select(stored_copies()).where(accounts.c.name == account)
    return int(conn.execute(query).scalar() or 0)


def last_checked(conn: sa.Connection, account: str) -> datetime | None:
    """When ``account``'s least recently checked stream was verified (None: never)."""
    c = completeness_checks.c
    query = (
        sa.select(sa.func.min(c.checked_at))
        .join(accounts, accounts.c.id == c.account_id)
        .where(accounts.c.name == account)
    )
    # min() keeps the column's type, so the value comes back aware (UTCDateTime).
    value: datetime | None = conn.execute(query).scalar()
    return value


def stored_copies() -> sa.ScalarSelect[int]:
    """The number of copies stored for the account of the enclosing row."""
    s = interaction_sources.c
    return (
        sa.select(sa.func.count())
        .select_from(interaction_sources)
        .where(s.account_id == accounts.c.id)
        .scalar_subquery()
    )
