"""Account health: a state machine over what the sync passes report.

States, and what each carries (``detail``, stored as JSON on the account)::

    backfilling   {"done", "total"}   a batch said more follows (a first sync, a
                                      catch-up, a repair verify queued): items stored so far
                                      and the estimate (done + what the connector
                                      said remains in the streams it has listed)
    live          {}                  a pass reached the end of every stream
    throttled     {"until"}           the server asked to wait (Retry-After beyond
                                      what a pass sleeps); the poller waits as long
    needs_reauth  {"command", "fix"}  credentials refused: where to put new ones and
                                      the exact command that proves them
    failing       {"last_error"}      any other failure; "since" is when the state
                                      was entered, kept while failures repeat
    disabled      {}                  ``enabled: false`` in the configuration

Transitions::

    (any) --batch with has_more--> backfilling --pass finished--> live
    (any) --AuthError--> needs_reauth --pass finished--> live
    (any) --TransientError with retry_after--> throttled --pass finished--> live
    (any) --other error--> failing --pass finished--> live
    (any) --enabled: false seen at start--> disabled --enabled, a pass--> ...

A pass stopped by a signal leaves the state as its last batch set it. Every
change of state is stored with the time and the detail (``account_transitions``);
``autocapture status`` shows the current one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from config.accounts import AccountBase
from connectors.records import Batch

State = Literal["backfilling", "live", "throttled", "needs_reauth", "failing", "disabled"]
STATES: tuple[State, ...] = (
    "backfilling",
    "live",
    "throttled",
    "needs_reauth",
    "failing",
    "disabled",
)


class HealthStore(Protocol):
    def ensure_account(self, name: str, kind: str) -> None: ...
    def record_health(self, account: str, state: str, detail: Mapping[str, Any]) -> bool: ...


@dataclass(frozen=True, slots=True)
class Health:
    state: State
    detail: dict[str, Any] = field(default_factory=dict)


def reauth(account: AccountBase, remedy: str | None = None) -> Health:
    """needs_reauth: the connector's remedy when it named one (Gmail: "run `autocapture
    auth google NAME` ..."), its command picked out; else where new credentials go and
    the command that proves them."""
    if remedy and remedy.count("`") >= 2:
        return Health("needs_reauth", {"command": remedy.split("`")[1], "fix": remedy})
    keys = ", ".join(f"{key} ({secret.reference})" for key, secret in account.secrets().items())
    fix = remedy or (f"store new credentials in {keys}" if keys else "sign in again")
    return Health(
        "needs_reauth", {"command": f"autocapture sync --account {account.name}", "fix": fix}
    )


def after_failure(outcome: str, message: str, retry_after: float | None, now: datetime) -> Health:
    """The state a failed pass leads to (``outcome`` is the pass's, not needs_reauth)."""
    if retry_after is not None and retry_after > 0 and outcome == "error":
        until = now + timedelta(seconds=retry_after)
        return Health("throttled", {"until": until.isoformat(), "last_error": message})
    return Health("failing", {"last_error": message})


@dataclass
class Progress:
    """One pass's backfill progress: what is stored and what the streams said remains."""

    done: int  # items stored when the pass began, then counted up per batch
    remaining: dict[str, int] = field(default_factory=dict)  # stream -> items still to come
    moving: bool = False  # some batch said has_more: the pass is a backfill

    def add(self, stream: str, batch: Batch, items: int) -> Health | None:
        """The backfilling state after a stored batch; None for an idle poll's batch."""
        self.done += items
        if batch.remaining is not None:
            self.remaining[stream] = batch.remaining
        if not (batch.has_more or self.moving):
            return None
        self.moving = True
        return Health(
            "backfilling", {"done": self.done, "total": self.done + sum(self.remaining.values())}
        )


def record(store: HealthStore, account: str, health: Health) -> bool:
    return store.record_health(account, health.state, health.detail)


def mark_disabled(store: HealthStore, accounts: Iterable[AccountBase]) -> None:
    """Accounts the configuration turned off are ``disabled``; the others keep their state."""
    for account in accounts:
        if not account.enabled:
            store.ensure_account(account.name, account.kind)
            record(store, account.name, Health("disabled"))
