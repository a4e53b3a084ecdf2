"""One ``run`` worker's side of the leases, in-process on the real PostgreSQL: what it
holds, what it lets go of when another worker took an account over, and that a
pass on a lost account neither commits nor writes the account's state."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent.leases import AccountStop, LeasedPoller, LeasedStore
from config.loader import load_text
from config.settings import Settings
from matcher.plan import Plan
from storage import Database, open_database
from storage.leases import LeaseLost
from storage.schema_accounts import accounts
from tests.plans import mail, person
from tests.watchdog import HANG, wait_until

pytestmark = pytest.mark.server


def settings_for(url: str, log_dir: Path) -> Settings:
    lines = [f"database_url: {url}", "read_ahead: false", "accounts:"]
    for name in ("ann", "bob"):
        lines.append(
            f"  - {{name: {name}, kind: plugin, factory: tests.recording_connector:connector,"
            f" owner: rep@acme.example, options: {{items: 1, log_dir: '{log_dir}'}}}}"
        )
    return load_text("\n".join(lines) + "\n")


@pytest.fixture
def shared(pg_url: str) -> Iterator[Database]:
    database = open_database(pg_url)
    yield database
    database.close()


def test_an_account_taken_over_is_let_go_and_its_pass_commits_and_records_nothing(
    shared: Database, pg_url: str, tmp_path: Path
) -> None:
    poller = LeasedPoller(settings_for(pg_url, tmp_path), shared, threading.Event(), worker="w1")
    poller.tend(0.0)  # the first tick: alive, renew (nothing yet), claim the fair share
    assert sorted(poller.held) == sorted(poller.due) == ["ann", "bob"]
    ann = poller.held["ann"]
    store, stop = poller.pass_for("ann")
    assert isinstance(store, LeasedStore) and stop is ann.stop and not stop.is_set()

    # Another worker takes ann over (its lease was set free, as an expiry would).
    table = shared.leases()
    table.release("w1", ["ann"])
    (taken,) = table.claim("w2", ["ann"], 1, 60)
    poller.tend(poller.next_beat)  # the next heartbeat sees it
    assert sorted(poller.held) == sorted(poller.due) == ["bob"]
    assert ann.stop.lost and ann.stop.is_set()

    shared.ensure_account("ann", "plugin")
    plan = Plan(
        "ann", (mail("q1@customer.example", person("x@customer.example", "from"), account="ann"),)
    )
    with pytest.raises(LeaseLost):
        store.apply(plan, "INBOX", {"next": 1})
    store.record_failure("ann", "error", "lease lost")
    store.record_success("ann")
    with shared.engine.connect() as conn:
        row = conn.execute(
            sa.select(accounts.c.state, accounts.c.last_success_at, accounts.c.last_error_at).where(
                accounts.c.name == "ann"
            )
        ).one()
    assert tuple(row) == ("ok", None, None)  # w2's to say, not w1's
    assert shared.load_cursor("ann", "INBOX") is None
    assert (
        LeasedStore(shared, poller.held["bob"])
        .apply(
            Plan(
                "bob",
                (mail("q2@customer.example", person("y@customer.example", "from"), account="bob"),),
            ),
            "INBOX",
            {"next": 1},
        )
        .new_interactions
        == 1
    )
    assert taken.worker == "w2"


def test_a_stop_request_reaches_every_pass_and_a_clean_exit_releases_every_lease(
    shared: Database, pg_url: str, tmp_path: Path
) -> None:
    stop = threading.Event()
    poller = LeasedPoller(settings_for(pg_url, tmp_path), shared, stop, worker="w1")
    worker = threading.Thread(target=poller.run)
    worker.start()
    try:
        wait_until(
            lambda: shared.load_cursor("ann", "INBOX") and shared.load_cursor("bob", "INBOX"),
            "both accounts captured",
        )
        held = list(poller.held.values())
        stop.set()
    finally:
        stop.set()
        worker.join(HANG)
    assert not worker.is_alive()
    assert all(h.stop.is_set() and not h.stop.lost for h in held)
    assert [(h.account, h.worker) for h in shared.leases().holdings()] == [
        ("ann", None),
        ("bob", None),
    ]
    assert shared.leases().beat("w2", 60) == 1  # w1 left the live workers


def test_an_account_stop_follows_the_worker_stop() -> None:
    worker_stop = threading.Event()
    mine, other = AccountStop(worker_stop), AccountStop(worker_stop)
    mine.set()
    assert (mine.is_set(), mine.lost, other.is_set()) == (True, True, False)
    worker_stop.set()
    assert (other.is_set(), other.lost) == (True, False)
