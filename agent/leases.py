"""``autocapture run`` as one of several workers sharing a PostgreSQL database.

Each worker (id ``host:pid:random``) runs only the accounts whose lease it
holds (``storage.leases``); there is no coordinator. Every tick of the
poller (at most a second apart) the worker:

- every ``lease_ttl / 3``: says it is alive and renews its leases in one
  UPDATE each. An account missing from the renewal was taken over after its
  lease expired: its pass is told to stop, and its store refuses to commit.
- every second: counts the live workers, and claims free or expired
  accounts up to its fair share, ceil(accounts / live workers), at most
  ``CLAIM_BATCH`` at a time (so a worker starting alone does not take
  everything before the others have said they are alive); above its share it
  releases idle accounts (none with a pass running) for the others to claim.
- when no renewal has succeeded for two thirds of ``lease_ttl`` (the
  database is unreachable, the process was stopped): stops every pass, since
  another worker may take the accounts once their leases expire.

A pass's store carries the lease into ``Database.apply``: the batch and its
cursor commit only while the lease row still names this worker at the epoch
of its claim (the fence), so a worker that lost an account mid-pass writes
nothing. On a clean exit the passes finish their batch in hand and every
lease is released at once; a killed worker's leases expire after
``lease_ttl`` and are claimed by the others.

On SQLite there is one ``run`` per database (``agent.commands.single_run``);
this module is not used there.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from agent.metrics import Activity
from agent.poller import Poller
from connectors.records import Held as Item  # a ledger item; ``Held`` here is a lease
from connectors.records import Inventory
from matcher.plan import Directory, Plan
from storage import Database, StorageError
from storage.apply import ApplyResult
from storage.health import Requeue, StreamCheck
from storage.leases import Lease, LeaseLost, LeaseTable

log = logging.getLogger("autocapture.leases")

CLAIM_EVERY = 1.0  # seconds between two looks for free accounts
CLAIM_BATCH = 100  # accounts claimed in one statement at most


def worker_id() -> str:
    """host:pid:random: unique across machines and across restarts that reuse a pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class AccountStop(threading.Event):
    """A pass's stop request: set for this account alone (lease lost or handed
    over), or through the whole worker's stop (SIGTERM)."""

    def __init__(self, worker_stop: threading.Event) -> None:
        super().__init__()
        self.worker_stop = worker_stop

    def is_set(self) -> bool:
        return super().is_set() or self.worker_stop.is_set()

    @property
    def lost(self) -> bool:
        return super().is_set()


@dataclass
class Held:
    lease: Lease
    stop: AccountStop


class LeasedStore:
    """``agent.store.Store`` for one pass of a leased account: every write that
    moves the account is fenced by the lease, and a pass that lost its lease
    leaves the account's state to its new worker."""

    def __init__(self, db: Database, held: Held) -> None:
        self.db = db
        self.held = held

    def hold(self, account: str) -> AbstractContextManager[None]:
        return self.db.hold(account)

    def ensure_account(self, name: str, kind: str) -> None:
        self.db.ensure_account(name, kind)

    def load_position(
        self, account: str, stream: str
    ) -> tuple[dict[str, Any] | None, datetime | None]:
        return self.db.load_position(account, stream)

    def has_cursors(self, account: str) -> bool:
        return self.db.has_cursors(account)

    def load_cursors(self, account: str) -> dict[str, dict[str, Any]]:
        return self.db.load_cursors(account)

    def reset_cursors(self, account: str) -> None:
        self.db.reset_cursors(account, lease=self.held.lease)

    def directory(self) -> Directory:
        return self.db.directory()

    def apply(
        self,
        plan: Plan,
        stream: str,
        cursor: Mapping[str, Any] | None,
        window_since: datetime | None = None,
        *,
        held: Sequence[Item] = (),
    ) -> ApplyResult:
        try:
            return self.db.apply(
                plan, stream, cursor, window_since, lease=self.held.lease, held=held
            )
        except LeaseLost:
            self.held.stop.set()  # before the pass records its failure: not ours to record
            raise

    def stored_items(self, account: str) -> int:
        return self.db.stored_items(account)

    def completeness(self, account: str | None = None) -> list[StreamCheck]:
        return self.db.completeness(account)

    def last_checked(self, account: str) -> datetime | None:
        return self.db.last_checked(account)

    def check_stream(
        self, account: str, stream: str, listing: Inventory, requeue: Requeue
    ) -> StreamCheck:
        return self.db.check_stream(account, stream, listing, requeue)

    def record_health(self, account: str, state: str, detail: Mapping[str, Any]) -> bool:
        # A worker that lost the account no longer speaks for its health.
        return False if self.held.stop.lost else self.db.record_health(account, state, detail)

    def record_success(self, account: str) -> None:
        if not self.held.stop.lost:
            self.db.record_success(account)

    def record_failure(
        self, account: str, state: Literal["error", "needs_reauth"], message: str
    ) -> None:
        if not self.held.stop.lost:
            self.db.record_failure(account, state, message)


class LeasedPoller(Poller):
    """A ``Poller`` that runs only the accounts this worker holds a lease on."""

    def __init__(
        self,
        settings: Any,
        db: Database,
        stop: threading.Event,
        worker: str | None = None,
        activity: Activity | None = None,
    ) -> None:
        super().__init__(settings, db, stop, activity=activity)
        self.database = db
        self.table: LeaseTable = db.leases()
        self.worker = worker or worker_id()
        self.ttl = settings.lease_ttl.total_seconds()
        self.held: dict[str, Held] = {}
        self.due = {}  # only held accounts are ever due
        self.live = 1
        self.valid_until = 0.0  # monotonic: past it, no lease is trusted
        self.next_beat = self.next_claim = 0.0
        self.idle: set[str] = set()  # let go of; their connectors close once no pass runs
        self.table.offer(self.accounts)

    def pass_for(self, name: str) -> tuple[LeasedStore, threading.Event]:
        held = self.held[name]
        return LeasedStore(self.database, held), held.stop

    def tend(self, now: float) -> None:
        try:
            if now >= self.next_beat:
                self._renew(now)
            if now >= self.next_claim:
                self._balance(now)
        except StorageError as exc:  # the database is away: try again next tick
            log.warning("worker %s: leases not renewed: %s", self.worker, exc)
        if self.held and time.monotonic() > self.valid_until:
            log.warning("worker %s: leases not renewed in time; pausing every account", self.worker)
            for name in list(self.held):
                self._let_go(name)
        for name in list(self.due):
            if name not in self.held:  # a pass that ended after its lease went
                del self.due[name]
        for name in list(self.idle):
            if name not in self.running:
                self.idle.discard(name)
                self.connections.discard(name)

    def _renew(self, now: float) -> None:
        sent = time.monotonic()
        self.live = self.table.beat(self.worker, self.ttl)
        leases = {lease.account: lease for lease in self.table.renew(self.worker, self.ttl)}
        # One missed renewal is tolerated; after a second the leases may be gone.
        self.valid_until = sent + self.ttl * 2 / 3
        self.next_beat = now + self.ttl / 3
        for name, held in list(self.held.items()):
            if leases.get(name) != held.lease:
                log.warning("worker %s: %s was taken over; stopping its pass", self.worker, name)
                self._let_go(name)
        for name, lease in leases.items():
            if name not in self.held and name in self.accounts:
                self._adopt(lease, now)

    def _balance(self, now: float) -> None:
        self.next_claim = now + CLAIM_EVERY
        share = math.ceil(len(self.accounts) / max(1, self.live))
        if len(self.held) < share:
            sent = time.monotonic()
            wanted = [name for name in self.accounts if name not in self.held]
            limit = min(share - len(self.held), CLAIM_BATCH)
            claimed = self.table.claim(self.worker, wanted, limit, self.ttl)
            if claimed and not self.held:
                self.valid_until = sent + self.ttl * 2 / 3
            for lease in claimed:
                self._adopt(lease, now)
            if claimed:
                log.info(
                    "worker %s: claimed %d accounts, holds %d",
                    self.worker,
                    len(claimed),
                    len(self.held),
                )
        elif len(self.held) > share:
            spare = [name for name in self.held if name not in self.running]
            handed = spare[: len(self.held) - share]
            if handed:
                self.table.release(self.worker, handed)
                for name in handed:
                    self._let_go(name)
                log.info("worker %s: handed %d accounts to newer workers", self.worker, len(handed))

    def _adopt(self, lease: Lease, now: float) -> None:
        self.held[lease.account] = Held(lease, AccountStop(self.stop))
        self.idle.discard(lease.account)  # back before its connector was closed: keep it
        self.due[lease.account] = now + self.rng.uniform(0, CLAIM_EVERY)

    def _let_go(self, name: str) -> None:
        held = self.held.pop(name)
        held.stop.set()
        self.due.pop(name, None)
        self.idle.add(name)

    def run(self) -> None:
        log.info("worker %s: sharing %d accounts", self.worker, len(self.accounts))
        try:
            super().run()
        finally:
            try:
                self.table.release(self.worker)
            except StorageError as exc:  # they expire after lease_ttl instead
                log.warning("worker %s: leases not released: %s", self.worker, exc)
