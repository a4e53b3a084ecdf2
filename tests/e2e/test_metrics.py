"""The Prometheus endpoint of ``autocapture run``, scraped over loopback after a real sync.

The agent runs as a child process against real Dovecot behind a proxy that
cuts the first FETCH once (so exactly one retry happens), with the endpoint
on; the test scrapes it once the first pass and its completeness check are
done, and asserts every sample.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from agent.metrics import AccountMetrics, Activity
from agent.redact import register_secret
from storage.database import open_database
from tests.e2e.sample import ROOT
from tests.health_accounts import imap_config
from tests.imap_mailbox import WHEN, load
from tests.servers.dovecot import MailUser
from tests.servers.imap_proxy import ImapProxy
from tests.watchdog import HANG, wait_until

pytestmark = pytest.mark.server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name.startswith("autocapture_") and not s.name.endswith("_created")
    }


def test_after_a_sync_the_endpoint_reports_exact_per_account_values(
    dovecot: MailUser, imap_proxy: ImapProxy, tmp_path: Path
) -> None:
    load(dovecot)  # INBOX 4, Sent 1: three batches of at most 2
    imap_proxy.cut_fetch_after(200)  # the first FETCH breaks once: one retry
    port = free_port()
    metrics = f"metrics: {{enabled: true, port: {port}}}\n"
    path = imap_config(tmp_path, imap_proxy.port, dovecot.name, metrics)
    started = datetime.now(UTC)
    agent = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(path), "run"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REP_PASSWORD": dovecot.password},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        listed = ("autocapture_requests_total", (("account", "rep"), ("call", "list")))

        def checked() -> bool:
            try:
                return scrape(port).get(listed) == 2.0
            except OSError:  # not listening yet
                return False

        wait_until(checked, "the first pass and its completeness check")
        before = datetime.now(UTC)
        got = scrape(port)
        after = datetime.now(UTC)
        agent.send_signal(signal.SIGTERM)
        _, stderr = agent.communicate(timeout=HANG)
        assert agent.returncode == 0, stderr
    finally:
        if agent.poll() is None:
            agent.kill()
    rep = (("account", "rep"),)
    lag = got.pop(("autocapture_lag_seconds", rep))
    newest = (WHEN + timedelta(minutes=5)).replace(microsecond=0)  # m5's Date header
    assert (before - newest).total_seconds() <= lag <= (after - newest).total_seconds()
    success = got.pop(("autocapture_last_success_timestamp_seconds", rep))
    assert started.timestamp() <= success <= before.timestamp()
    states: Samples = {
        ("autocapture_account_state", (("account", "rep"), ("state", s))): 1.0
        if s == "live"
        else 0.0
        for s in ("backfilling", "disabled", "failing", "live", "needs_reauth", "throttled")
    }
    assert got == {
        ("autocapture_database_up", ()): 1.0,
        ("autocapture_items", rep): 5.0,
        ("autocapture_ingest_errors", rep): 0.0,
        ("autocapture_missing_items", rep): 0.0,
        **states,
        ("autocapture_requests_total", (("account", "rep"), ("call", "fetch"))): 3.0,
        listed: 2.0,
        ("autocapture_retries_total", rep): 1.0,
    }


def test_every_label_passes_through_the_redaction(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'capture.db'}")
    db.ensure_account("ops-k3y-9f2a", "imap")
    register_secret("k3y-9f2a")  # an account named after a secret by mistake
    activity = Activity()
    activity.count("ops-k3y-9f2a", "fetch")
    labels = {
        value
        for family in AccountMetrics(db, activity).collect()
        for sample in family.samples
        for value in sample.labels.values()
    }
    assert "ops-***" in labels
    assert not [v for v in labels if "k3y-9f2a" in v]
