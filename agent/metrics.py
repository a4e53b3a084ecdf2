"""The optional Prometheus endpoint of ``autocapture run`` (``metrics:`` in the config).

Off by default; when on, it listens on 127.0.0.1:9464 unless the config
names another address. Every scrape reads the numbers anew: what the
database holds (items, ingest errors, lag, last success, health state, what
the last verify left missing) and what this process counted (fetches and
listings it asked of connectors, retries at every level). Per account::

    autocapture_items{account}                    copies stored
    autocapture_ingest_errors{account}            items that could not be captured
    autocapture_lag_seconds{account}              now - newest captured item (not in the future)
    autocapture_last_success_timestamp_seconds{account}
    autocapture_account_state{account,state}      1 for the health state, 0 for the others
    autocapture_missing_items{account}            found missing by verify, not yet captured
    autocapture_requests_total{account,call}      connector calls: fetch (a batch), list (verify)
    autocapture_retries_total{account}            retries of requests and fetches
    autocapture_database_up                       0 when the scrape could not read the database

Every label value passes through ``agent.redact``, like every log line. The
read-ahead child's own retries happen in another process and are not counted.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.health import STATES
from agent.redact import redact
from config.settings import MetricsSettings
from connectors.retry import retries

log = logging.getLogger("autocapture.metrics")


class Activity:
    """What this process asked of connectors, per account (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[tuple[str, str]] = Counter()

    def batch(self, account: str, stream: str, items: int) -> None:
        """A ``BatchListener``: one fetch returned a batch."""
        self.count(account, "fetch")

    def count(self, account: str, call: str, n: int = 1) -> None:
        with self._lock:
            self._calls[(account, call)] += n

    def calls(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._calls)


class AccountMetrics(Collector):
    """Reads the database and ``activity`` at each scrape."""

    def __init__(
        self, db: Any, activity: Activity, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.db = db
        self.activity = activity
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterator[Metric]:
        up = gauge("database_up", "1 when this scrape could read the database", [])
        try:
            found = list(self._accounts())
        except Exception as exc:
            # The type only: a database error's text may quote stored values.
            log.warning("metrics: the database could not be read (%s)", type(exc).__name__)
            found = None
        up.add_metric([], 0.0 if found is None else 1.0)
        yield up
        yield from found or ()
        yield from self._counters()

    def _accounts(self) -> Iterator[Metric]:
        now = self.clock()
        rows = self.db.account_status()
        errors = self.db.error_counts()
        missing: Counter[str] = Counter()
        for check in self.db.completeness():
            missing[check.account] += check.outstanding
        items = gauge("items", "Copies stored for the account")
        failed = gauge("ingest_errors", "Items of the account that could not be captured")
        lag = gauge("lag_seconds", "Seconds since the newest captured item")
        success = gauge("last_success_timestamp_seconds", "End of the last successful pass")
        state = gauge("account_state", "1 for the account's health state", ["account", "state"])
        left = gauge("missing_items", "Items the last verify found missing, not yet captured")
        for row in rows:
            name = redact(row.name)
            items.add_metric([name], row.items_captured)
            failed.add_metric([name], errors.get(row.name, 0))
            left.add_metric([name], missing[row.name])
            if row.newest_interaction_at is not None:
                lag.add_metric([name], (now - row.newest_interaction_at).total_seconds())
            if row.last_success_at is not None:
                success.add_metric([name], row.last_success_at.timestamp())
            for known in STATES:
                state.add_metric([name, known], 1.0 if row.health == known else 0.0)
        yield from (items, failed, lag, success, state, left)

    def _counters(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "autocapture_requests", "Connector calls by this process", labels=["account", "call"]
        )
        for (account, call), n in sorted(self.activity.calls().items()):
            calls.add_metric([redact(account), call], n)
        retried = CounterMetricFamily(
            "autocapture_retries", "Retries by this process", labels=["account"]
        )
        for scope, n in sorted(retries().items()):
            if scope:  # retries outside any account's pass (none today) are not an account's
                retried.add_metric([redact(scope)], n)
        yield calls
        yield retried


def gauge(name: str, text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"autocapture_{name}", text, labels=labels or ["account"])


class MetricsServer:
    """The endpoint's HTTP server on its own thread; ``close`` stops it."""

    def __init__(self, settings: MetricsSettings, db: Any, activity: Activity) -> None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(AccountMetrics(db, activity))
        self._server, self._thread = start_http_server(
            settings.port, addr=settings.address, registry=registry
        )
        self.port = int(self._server.server_port)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
