"""The tables of the agent's own bookkeeping, per account: its state and health
history, sync cursors, the completeness ledger and its last check, encrypted
tokens, and the leases of ``run`` workers. Captured data is in ``storage.schema``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from storage.schema_types import Base, BigId, UTCDateTime, table


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text, unique=True)
    kind: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.Text, default="ok")  # ok | error | needs_reauth
    message: Mapped[str | None] = mapped_column(sa.Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    items_captured: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # The health state machine (``agent.health``): backfilling | live |
    # throttled | needs_reauth | failing | disabled, since when, and what the
    # state carries (progress, until, the command to run, the last error).
    health: Mapped[str | None] = mapped_column(sa.Text)
    health_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    health_detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class AccountTransition(Base):
    """Every change of an account's health state, kept as history."""

    __tablename__ = "account_transitions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    from_state: Mapped[str | None] = mapped_column(sa.Text)
    to_state: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class ProviderItem(Base):
    """The completeness ledger: each provider item a sync accounted for, by the
    name the provider lists it under (``connectors.records.Held``), with the
    copy it gave ("" when it gave none: blocked, outside the window)."""

    __tablename__ = "provider_items"
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    item: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    provider_id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    version: Mapped[str] = mapped_column(sa.Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompletenessCheck(Base):
    """The last ``verify`` of a stream: what the provider listed, what was missing."""

    __tablename__ = "completeness_checks"
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    listed: Mapped[int] = mapped_column(sa.Integer)
    missing: Mapped[list[str]] = mapped_column(sa.JSON)  # items queued for the next poll
    removed: Mapped[int] = mapped_column(sa.Integer)


class SyncCursor(Base):
    __tablename__ = "sync_cursors"
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"), primary_key=True)
    stream: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    cursor: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The earliest backfill window start the cursor's stream was read from:
    # a wider window must read the stream again, the cursor being past it.
    window_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StoredToken(Base):
    """A credential kept for an account (refresh token, token cache), encrypted:
    ``storage.tokens``. No column holds the value in plain text."""

    __tablename__ = "stored_tokens"
    account: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the account's name
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # "refresh_token", ...
    nonce: Mapped[bytes] = mapped_column(sa.LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)  # AES-GCM, tag appended
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AccountLease(Base):
    """Which ``run`` worker works an account, on PostgreSQL (``storage.leases``)."""

    __tablename__ = "account_leases"
    account: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # the configured name
    worker: Mapped[str | None] = mapped_column(sa.Text, index=True)  # None: free
    # Raised by every claim: a commit must show the epoch it was claimed
    # under, so a worker that lost the account and got it back cannot reuse
    # a fence from before.
    epoch: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LeaseWorker(Base):
    """A live ``run`` worker: the fair share of accounts is theirs divided by these."""

    __tablename__ = "lease_workers"
    worker: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # host:pid:random
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


accounts = table(Account)
account_transitions = table(AccountTransition)
provider_items = table(ProviderItem)
completeness_checks = table(CompletenessCheck)
sync_cursors = table(SyncCursor)
stored_tokens = table(StoredToken)
account_leases = table(AccountLease)
lease_workers = table(LeaseWorker)
