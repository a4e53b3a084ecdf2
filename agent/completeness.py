"""``autocapture verify``: prove nothing was silently missed, and repair what was.

Per stream of an account whose connector offers ``inventory`` and
``requeue`` (docs/ARCHITECTURE.md, "The completeness ledger")::

    listing = connector.inventory(stream)          # one listing, no bodies
    check   = db.check_stream(account, stream,      # ONE transaction:
                  listing, requeue)                 #   compare with the ledger,
                                                    #   mark gone copies removed,
                                                    #   queue the missing in the cursor

The next poll fetches what the cursor now queues, through the ordinary
loop, so a repaired item is stored exactly as any other (upserts, the
ledger row with it). The account is held for the check like for a pass: a
poll of the same account waits for neither, and never sees half a check.

``run`` verifies each account every ``verify_every`` (default daily), right
after one of its passes and on the same worker, so a check never runs
beside the account's own pass.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from agent.connections import Connections
from agent.redact import redact
from agent.store import Store
from agent.tokens import StoredTokens
from config.accounts import AccountBase
from config.errors import SecretUnavailable
from config.settings import Settings
from connectors.base import AuthError, Connector, ConnectorError
from storage.account_lock import AccountBusy
from storage.errors import StorageError
from storage.health import StreamCheck

log = logging.getLogger("autocapture.verify")

VerifyOutcome = Literal["ok", "unsupported", "busy", "needs_reauth", "error"]


@dataclass
class VerifyReport:
    account: str
    outcome: VerifyOutcome = "ok"
    streams: list[StreamCheck] = field(default_factory=list)
    message: str = ""

    @property
    def missing(self) -> int:
        return sum(s.missing for s in self.streams)

    @property
    def removed(self) -> int:
        return sum(s.removed for s in self.streams)


def describe_check(check: StreamCheck) -> str:
    """ "12 missing in INBOX since 2026-11-02", and what became of them."""
    since = f" since {check.since.date()}" if check.since else ""
    text = f"{check.missing} missing in {check.stream}{since}"
    if check.missing and check.outstanding < check.missing:
        text += f" ({check.missing - check.outstanding} captured since)"
    elif check.missing:
        text += " (queued for the next poll)"
    if check.removed:
        text += f"; {check.removed} removed at the provider"
    return text


def verify_account(
    settings: Settings,
    account: AccountBase,
    db: Store,
    *,
    now: datetime | None = None,
    connections: Connections | None = None,
) -> VerifyReport:
    """Check every stream of ``account``; never raises for the account's own failures."""
    report = VerifyReport(account.name)
    pool = connections or Connections(fetch_ahead=False, tokens=StoredTokens.of(settings))
    try:
        with db.hold(account.name):
            account.check_secrets()
            connector = pool.open(account, now or datetime.now(UTC))
            _check_streams(connector, account.name, db, report)
    except AccountBusy as exc:
        report.outcome, report.message = "busy", f"{exc}; not checked"
    except AuthError as exc:
        report.outcome, report.message = "needs_reauth", redact(f"credentials refused: {exc}")
        pool.discard(account.name)
    except (ConnectorError, StorageError, SecretUnavailable) as exc:
        report.outcome, report.message = "error", redact(str(exc))
        pool.discard(account.name)
    finally:
        if connections is None:
            pool.close_all()
    _log(report)
    return report


def _check_streams(connector: Connector, account: str, db: Store, report: VerifyReport) -> None:
    inventory: Any = getattr(connector, "inventory", None)
    requeue: Any = getattr(connector, "requeue", None)
    if inventory is None or requeue is None:
        report.outcome = "unsupported"
        report.message = f"{connector.kind} accounts cannot be listed without fetching"
        return
    resume = getattr(connector, "resume", None)
    if resume is not None:
        resume(db.load_cursors(account))
    for stream in connector.streams():
        listing = inventory(stream)
        if listing is None:  # a stream this connector cannot list (Gmail's calendars)
            continue
        requeue_here = functools.partial(requeue, stream)
        report.streams.append(db.check_stream(account, stream, listing, requeue_here))


def _log(report: VerifyReport) -> None:
    if report.outcome != "ok":
        log.warning("%s: verify %s: %s", report.account, report.outcome, report.message)
        return
    for check in report.streams:
        level = logging.WARNING if check.missing or check.removed else logging.INFO
        log.log(level, "%s: %s", report.account, describe_check(check))


def verify_due(db: Store, account: str, every: timedelta, now: datetime) -> bool:
    """Whether ``account``'s last complete check is ``every`` old (never checked: due)."""
    if every <= timedelta(0):
        return False
    checked = db.last_checked(account)
    return checked is None or now - checked >= every
