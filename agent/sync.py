"""One account, one pass: the design's data flow, with its failure handling.

Per stream the pass is a small state machine::

    cursor = db.load_cursor(account, stream)
    loop:
        batch = connector.fetch(stream, cursor, limit)      # TransientError: retried
        plan  = matcher.plan_batch(batch.records, ...)       # pure
        db.apply(plan, stream, batch.next_cursor)            # ONE transaction
        cursor = batch.next_cursor
    until not batch.has_more, or a stop was requested (checked between batches,
    so a SIGTERM never leaves a half-applied batch).

A cursor is stored with the backfill window start it covers. When the
configured window starts earlier (an admin widened ``backfill``), the
stream is read again from its start over the wider window: the cursor is
past the older items, and upserts keep the items read twice single.

Outcomes for the account as a whole:
- ``CursorExpired``: every cursor of the account is reset and the account is
  resynced once over its backfill window; upserts on natural keys make the
  replay harmless (docs/ARCHITECTURE.md, invariants 1 and 3).
- ``AuthError``: the account is marked ``needs_reauth``; other accounts go on.
- ``SecretUnavailable`` (checked before connecting), any other
  ``ConnectorError`` (a ``TransientError`` that outlived its retries, a
  ``ConfigurationError``, ...) or a ``StorageError``: the account is marked
  ``error`` with the error's redacted message; other accounts go on, and the
  next poll tries again. Only an exception outside these trees (a bug) is
  logged with its traceback as "unexpected".
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import matcher
from agent import health
from agent.connections import Connections
from agent.health import Progress
from agent.policy import account_policy
from agent.readahead import ReadAhead
from agent.redact import redact
from agent.retry import fetch_with_retry
from agent.store import Store
from agent.tokens import StoredTokens
from config.accounts import AccountBase
from config.errors import SecretUnavailable
from config.settings import Settings
from connectors.base import (
    AuthError,
    Connector,
    ConnectorError,
    CursorExpired,
    TransientError,
    Window,
)
from connectors.records import Batch, Cursor
from matcher.plan import AccountPolicy, Plan
from storage.account_lock import AccountBusy
from storage.errors import DatabaseUnavailable, StorageError

log = logging.getLogger("autocapture.sync")

Outcome = Literal["ok", "needs_reauth", "error", "stopped", "busy"]
BatchListener = Callable[[str, str, int], None]  # account, stream, records in batch


@dataclass
class AccountReport:
    account: str
    outcome: Outcome = "ok"
    records: int = 0
    new_contacts: int = 0
    new_interactions: int = 0
    errors: int = 0
    resynced: bool = False
    message: str = ""
    streams: list[str] = field(default_factory=list)
    retry_after: float | None = None  # the server asked to wait this long (throttled)
    remedy: str | None = None  # what mends refused credentials, when the connector knows


@dataclass
class AccountSync:
    """Everything one account's pass needs; built by ``sync_account``."""

    db: Store
    connector: Connector
    policy: AccountPolicy
    batch_size: int
    stop: threading.Event
    now: datetime
    window: Window  # the connector's
    listener: BatchListener | None = None
    ahead: ReadAhead | None = None  # None: every batch fetched and read in this process
    covered: dict[str, datetime] = field(default_factory=dict)  # stream -> window start
    kept: bool = False  # the connector stays open for later polls
    progress: Progress | None = None  # backfill progress for the health state

    def position(self, stream: str) -> Cursor | None:
        """The stream's cursor; None (read it all again) when the window now
        reaches back further than the cursor covers."""
        cursor: Cursor | None
        covered: datetime | None
        cursor, covered = self.db.load_position(self.policy.account, stream)
        since = self.window.since
        if cursor is not None and covered is not None:
            if since < covered:
                log.info(
                    "%s: %s: backfill now starts %s, not %s; reading it again",
                    self.policy.account,
                    stream,
                    since.date(),
                    covered.date(),
                )
                cursor = None
            else:
                since = covered
        self.covered[stream] = since
        return cursor

    def run_stream(self, stream: str, report: AccountReport) -> bool:
        """Sync one stream to its end; False when a stop was requested.

        With read-ahead on, a stream that has never been synced (its backfill
        is all backlog) is read ahead from its start; any other reads ahead
        once a batch says more follows, so an idle poll stays one request.
        """
        cursor = self.position(stream)
        if cursor is None and self.ahead is not None:
            return self.run_ahead(self.ahead, stream, None, report)
        while True:
            if self.stop.is_set():
                return False
            batch = fetch_with_retry(self.connector, stream, cursor, self.batch_size)
            plan = matcher.plan_batch(
                batch.records,
                self.policy,
                self.db.directory(),
                errors=batch.errors,
                removed=batch.removed,
                fetched_at=self.now,  # dates mail that carries no usable date at all
            )
            self.store(stream, plan, batch, len(batch.records), report)
            cursor = batch.next_cursor
            if not batch.has_more:
                return True
            if self.ahead is not None:  # a backlog: the rest is fetched and read ahead
                return self.run_ahead(self.ahead, stream, cursor, report)

    def run_ahead(
        self, ahead: ReadAhead, stream: str, cursor: Cursor | None, report: AccountReport
    ) -> bool:
        """``run_stream``'s loop over batches a child process fetched and read."""
        with closing(ahead.batches(stream, cursor)) as batches:
            for item in batches:
                if self.stop.is_set():
                    return False
                plan = matcher.plan_reading(
                    item.reading,
                    self.policy,
                    self.db.directory(),
                    errors=item.batch.errors,
                    removed=item.batch.removed,
                )
                self.store(stream, plan, item.batch, item.records, report)
        return True

    def store(
        self, stream: str, plan: Plan, batch: Batch, records: int, report: AccountReport
    ) -> None:
        """Apply one batch's plan with its cursor (one transaction) and count it."""
        result = self.db.apply(
            plan, stream, batch.next_cursor, self.covered[stream], held=batch.held
        )
        report.records += records
        report.new_contacts += result.new_contacts
        report.new_interactions += result.new_interactions
        report.errors += result.errors
        if self.listener:
            self.listener(self.policy.account, stream, records + len(batch.errors))
        if self.progress is not None:
            state = self.progress.add(stream, batch, records + len(batch.errors))
            if state is not None:
                health.record(self.db, self.policy.account, state)

    def stream_names(self) -> list[str]:
        """The account's streams. On a first sync (no cursor at all) with a
        connector that will not be kept, the read-ahead child lists them: it
        reads them all anyway, and the connector need not log in for a LIST."""
        ahead = self.ahead
        if ahead is not None and not self.kept and not self.db.has_cursors(self.policy.account):
            return ahead.streams()
        return self.connector.streams()

    def run_streams(self, report: AccountReport) -> bool:
        resume = getattr(self.connector, "resume", None)
        if resume is not None:  # a connector that keeps its stream listing in its cursors
            resume(self.db.load_cursors(self.policy.account))
        for stream in self.stream_names():
            report.streams.append(stream)
            if not self.run_stream(stream, report):
                return False
        return True

    def run(self, report: AccountReport) -> None:
        try:
            finished = self.run_streams(report)
        except CursorExpired as exc:
            log.warning("%s: %s; resyncing the backfill window", self.policy.account, exc)
            self.db.reset_cursors(self.policy.account)
            report.resynced = True
            finished = self.run_streams(report)
        report.outcome = "ok" if finished else "stopped"


def sync_account(
    settings: Settings,
    account: AccountBase,
    db: Store,
    *,
    now: datetime | None = None,
    stop: threading.Event | None = None,
    listener: BatchListener | None = None,
    connections: Connections | None = None,
) -> AccountReport:
    """One pass over one account; never raises for the account's own failures.

    With ``connections`` the account's connector stays open for the next pass
    (the long-running agent); without, it is built and closed here. An
    account another process is syncing is left to it: outcome "busy".
    """
    report = AccountReport(account.name)
    try:
        with db.hold(account.name):
            _sync_held(settings, account, db, report, now, stop, listener, connections)
    except AccountBusy as exc:
        report.outcome = "busy"
        report.message = f"{exc}; skipped"
        log.info("%s: %s", account.name, report.message)
        return report
    except DatabaseUnavailable as exc:  # the account could not be held
        _fail(db, report, "error", str(exc))
    _record_health(db, account, report, now or datetime.now(UTC))
    return report


def _record_health(db: Store, account: AccountBase, report: AccountReport, now: datetime) -> None:
    """The health state a finished pass leads to (``agent.health``)."""
    if report.outcome == "ok":
        state = health.Health("live")
    elif report.outcome == "needs_reauth":
        state = health.reauth(account, report.remedy)
    elif report.outcome == "error":
        state = health.after_failure(report.outcome, report.message, report.retry_after, now)
    else:  # stopped: the last batch's state stands
        return
    try:
        health.record(db, account.name, state)
    except StorageError as exc:  # the database refused: the pass's own outcome stands
        log.error("%s: health state not stored: %s", account.name, exc)


def _sync_held(
    settings: Settings,
    account: AccountBase,
    db: Store,
    report: AccountReport,
    now: datetime | None,
    stop: threading.Event | None,
    listener: BatchListener | None,
    connections: Connections | None,
) -> None:
    now = now or datetime.now(UTC)
    db.ensure_account(account.name, account.kind)
    pool = connections or Connections(
        fetch_ahead=not settings.read_ahead, tokens=StoredTokens.of(settings)
    )
    try:
        # Before any connection: a secret that cannot be read is a setup
        # mistake that no retry or reconnect will mend.
        account.check_secrets()
        sync = _account_sync(settings, account, db, pool, now)
        sync.stop, sync.listener = stop or sync.stop, listener
        sync.kept = connections is not None  # passes come back to it: it must list
        try:
            sync.run(report)
        finally:
            if sync.ahead is not None:
                sync.ahead.close()
    except AuthError as exc:
        remedy = "" if exc.remedy else "; sign in again"  # the connector named the remedy
        _fail(db, report, "needs_reauth", f"credentials refused: {exc}{remedy}")
        report.remedy = exc.remedy
    except (ConnectorError, StorageError, SecretUnavailable) as exc:  # typed, made to be shown
        _fail(db, report, "error", str(exc))
        if isinstance(exc, TransientError):
            report.retry_after = exc.retry_after
    except Exception as exc:  # an account's bug must not stop the other accounts
        log.exception("%s: unexpected failure", account.name)
        _fail(db, report, "error", f"{type(exc).__name__}: {exc}")
    finally:
        if connections is None:
            pool.close_all()
        elif report.outcome in ("error", "needs_reauth"):
            pool.discard(account.name)
    if report.outcome in ("ok", "stopped"):
        db.record_success(account.name)


def _account_sync(
    settings: Settings, account: AccountBase, db: Store, pool: Connections, now: datetime
) -> AccountSync:
    """The account's pass with its connector (from ``pool``) and read-ahead, if on."""
    policy = account_policy(settings, account)
    connector = pool.open(account, now)
    window = pool.window(account)
    sync = AccountSync(
        db=db,
        connector=connector,
        policy=policy,
        batch_size=account.batch_size,
        stop=threading.Event(),
        now=now,
        window=window,
    )
    sync.progress = health.Progress(db.stored_items(account.name))
    if settings.read_ahead:
        sync.ahead = ReadAhead(
            account, window, pool.limits, policy, account.batch_size, now, tokens=pool.tokens
        )
    return sync


def _fail(db: Store, report: AccountReport, outcome: Outcome, message: str) -> None:
    report.outcome = outcome
    report.message = redact(message)
    state: Literal["error", "needs_reauth"] = (
        "needs_reauth" if outcome == "needs_reauth" else "error"
    )
    db.record_failure(report.account, state, report.message)
    log.error("%s: %s", report.account, report.message)


def sync_once(
    settings: Settings,
    db: Store,
    only: str | None = None,
    *,
    stop: threading.Event | None = None,
    listener: BatchListener | None = None,
    connections: Connections | None = None,
) -> list[AccountReport]:
    """One pass over every enabled account (or the one named); each fails alone."""
    accounts = [a for a in settings.accounts if a.enabled and (only is None or a.name == only)]
    if only is not None and not accounts:
        raise KeyError(only)
    health.mark_disabled(db, [a for a in settings.accounts if only is None or a.name == only])
    return [
        sync_account(settings, a, db, stop=stop, listener=listener, connections=connections)
        for a in accounts
    ]
