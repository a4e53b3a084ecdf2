"""The long-running agent: every account polled on its own interval by a bounded pool.

Each account is due at ``last finish + poll_interval ± 10 %`` (jitter keeps
many agents from hitting one server in lockstep); the first pass starts
within a few seconds of start-up, spread the same way. An account is never
synced twice at once. A stop request (SIGTERM/SIGINT) is seen by every
running pass between two batches: the batch in hand is applied and
committed, then the pass returns, and ``run_forever`` returns once all have.

After a pass that finished, an account whose last completeness check is
``verify_every`` old is verified on the same worker (``agent.completeness``);
a throttled account (the server's Retry-After) is next due no sooner than
the server asked.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime

from agent.completeness import verify_account, verify_due
from agent.connections import Connections
from agent.health import mark_disabled
from agent.metrics import Activity
from agent.notify import ServiceNotifier
from agent.store import Store
from agent.sync import AccountReport, sync_account
from agent.tokens import StoredTokens
from config.accounts import AccountBase
from config.settings import Settings
from connectors.retry import retry_scope

log = logging.getLogger("autocapture.run")

Sync = Callable[[Settings, AccountBase, Store, threading.Event], AccountReport]


def jittered(seconds: float, rng: random.Random, spread: float = 0.1) -> float:
    return max(1.0, seconds * (1.0 + rng.uniform(-spread, spread)))


class Poller:
    """Schedules accounts onto a worker pool until ``stop`` is set."""

    def __init__(
        self,
        settings: Settings,
        db: Store,
        stop: threading.Event,
        sync: Sync | None = None,
        rng: random.Random | None = None,
        notifier: ServiceNotifier | None = None,
        activity: Activity | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.stop = stop
        # Connectors stay open between passes: an idle poll is then one cheap
        # request per folder or calendar, not a login and a discovery.
        self.connections = Connections(
            fetch_ahead=not settings.read_ahead, tokens=StoredTokens.of(settings)
        )
        self.sync = sync or self._sync
        self.rng = rng or random.Random()
        self.notifier = notifier or ServiceNotifier()
        self.activity = activity or Activity()  # what the metrics endpoint counts
        self.accounts = {a.name: a for a in settings.accounts if a.enabled}
        mark_disabled(db, settings.accounts)
        start = time.monotonic()
        self.due = {name: start + self.rng.uniform(0, 2.0) for name in self.accounts}
        self.running: dict[str, Future[AccountReport]] = {}

    def _sync(
        self, settings: Settings, account: AccountBase, db: Store, stop: threading.Event
    ) -> AccountReport:
        scope = retry_scope.set(account.name)  # retries in this thread count for the account
        try:
            report = sync_account(
                settings,
                account,
                db,
                stop=stop,
                connections=self.connections,
                listener=self.activity.batch,
            )
            # The completeness check rides on a finished pass, on the same worker.
            now = datetime.now(UTC)
            if report.outcome == "ok" and verify_due(db, account.name, settings.verify_every, now):
                checked = verify_account(
                    settings, account, db, now=now, connections=self.connections
                )
                self.activity.count(account.name, "list", len(checked.streams))
            return report
        finally:
            retry_scope.reset(scope)

    def pass_for(self, name: str) -> tuple[Store, threading.Event]:
        """The store and stop request a pass of ``name`` gets (``agent.leases`` fences both)."""
        return self.db, self.stop

    def tend(self, now: float) -> None:
        """Each tick, before due passes start: which accounts are this poller's to run."""

    def _start_due(self, pool: ThreadPoolExecutor, now: float) -> None:
        for name, when in self.due.items():
            if when <= now and name not in self.running:
                account = self.accounts[name]
                db, stop = self.pass_for(name)
                self.running[name] = pool.submit(self.sync, self.settings, account, db, stop)

    def _reap(self, now: float) -> None:
        for name, future in list(self.running.items()):
            if not future.done():
                continue
            del self.running[name]
            interval = self.accounts[name].poll_interval.total_seconds()
            self.due[name] = now + jittered(interval, self.rng)
            exc = future.exception()
            if exc is not None:  # sync_account catches account failures; this is a bug
                log.error("%s: pass crashed: %s", name, exc)
                continue
            report = future.result()
            if report.retry_after is not None:  # throttled: wait as long as the server asked
                self.due[name] = max(self.due[name], now + report.retry_after)
            log.info(
                "%s: %s, %d records, %d new interactions, %d new contacts, %d errors",
                name,
                report.outcome,
                report.records,
                report.new_interactions,
                report.new_contacts,
                report.errors,
            )

    def run(self) -> None:
        if not self.accounts:
            log.warning("no enabled accounts in the configuration; nothing to poll")
        workers = max(1, min(self.settings.workers, len(self.accounts) or 1))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="account") as pool:
            self.notifier.ready(f"polling {len(self.accounts)} accounts")
            while not self.stop.is_set():
                now = time.monotonic()
                self._reap(now)
                self.tend(now)
                self._start_due(pool, now)
                # The watchdog sees the scheduler alive; a stuck server call
                # is bounded by the connectors' own timeouts, not by this.
                self.notifier.ping(now)
                next_due = min(self.due.values(), default=now + 60.0)
                self.stop.wait(timeout=min(max(next_due - now, 0.05), 1.0))
            log.info("stopping: finishing the batches in hand")
            self.notifier.stopping()
        self._reap(time.monotonic())
        self.connections.close_all()
