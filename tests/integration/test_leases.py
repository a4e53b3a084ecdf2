"""Account leases on the real PostgreSQL: claim, renew, takeover, release, and the fence
that keeps a worker that lost an account from committing into it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from matcher.plan import Plan
from storage import Database, open_database
from storage.leases import Lease, LeaseLost, LeaseTable
from storage.schema import interaction_sources
from storage.schema_accounts import account_leases
from tests.plans import mail, person, ticking_clock

pytestmark = pytest.mark.server

NAMES = [f"rep{n}" for n in range(5)]
EXPIRED = -1.0  # a lease whose time is already up, without waiting for it


@pytest.fixture
def shared(pg_url: str) -> Iterator[Database]:
    database = open_database(pg_url, clock=ticking_clock())
    database.leases().offer(NAMES)
    yield database
    database.close()


def one_mail_plan(account: str) -> Plan:
    return Plan(
        account=account,
        interactions=(
            mail("q1@customer.example", person("ann@customer.example", "from"), account=account),
        ),
    )


def stored_copies(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(interaction_sources)).scalar_one()
        )


def test_two_workers_claim_disjoint_accounts_and_a_third_finds_none(shared: Database) -> None:
    table = shared.leases()
    first = table.claim("a", NAMES, 3, 60)
    second = table.claim("b", NAMES, 5, 60)
    assert len(first) == 3
    assert sorted(x.account for x in first + second) == NAMES
    assert {x.epoch for x in first + second} == {1}
    assert table.claim("c", NAMES, 5, 60) == []
    held = {h.account: h.worker for h in table.holdings()}
    assert held == {x.account: x.worker for x in first + second}


def test_renew_returns_what_is_held_and_a_takeover_after_expiry_is_seen(shared: Database) -> None:
    table = shared.leases()
    assert table.claim("a", ["rep0"], 1, EXPIRED) == [Lease("rep0", "a", 1)]
    (taken,) = table.claim("b", ["rep0"], 1, 60)
    assert taken == Lease("rep0", "b", 2)  # a new epoch: a's fence no longer fits
    assert table.renew("a", 60) == []
    assert table.renew("b", 60) == [taken]


def test_a_live_lease_is_not_taken_over(shared: Database) -> None:
    table = shared.leases()
    table.claim("a", NAMES, 5, 60)
    assert table.claim("b", NAMES, 5, 60) == []


def test_a_worker_that_lost_its_lease_commits_nothing(shared: Database) -> None:
    table = shared.leases()
    (old,) = table.claim("a", ["rep0"], 1, EXPIRED)
    (new,) = table.claim("b", ["rep0"], 1, 60)
    with pytest.raises(LeaseLost) as lost:
        shared.apply(one_mail_plan("rep0"), "INBOX", {"next": 1}, lease=old)
    assert lost.value.holder == "b"
    assert str(lost.value) == "lease lost: worker b holds the account now; batch not committed"
    assert stored_copies(shared) == 0
    assert shared.load_cursor("rep0", "INBOX") is None
    result = shared.apply(one_mail_plan("rep0"), "INBOX", {"next": 1}, lease=new)
    assert result.new_sources == 1
    assert shared.load_cursor("rep0", "INBOX") == {"next": 1}


def test_a_lease_given_back_and_claimed_again_needs_the_new_epoch(shared: Database) -> None:
    table = shared.leases()
    (first,) = table.claim("a", ["rep0"], 1, 60)
    table.release("a", ["rep0"])
    (again,) = table.claim("a", ["rep0"], 1, 60)
    assert again.epoch == first.epoch + 1
    with pytest.raises(LeaseLost):
        shared.reset_cursors("rep0", lease=first)
    shared.reset_cursors("rep0", lease=again)


def test_release_frees_at_once_and_the_worker_leaves(shared: Database) -> None:
    table = shared.leases()
    assert table.beat("a", 60) == 1
    assert table.beat("b", 60) == 2
    table.claim("a", NAMES, 5, 60)
    table.release("a")
    assert {h.worker for h in table.holdings()} == {None}
    assert table.beat("b", 60) == 1  # a said goodbye
    assert len(table.claim("b", NAMES, 5, 60)) == 5


def test_holdings_show_the_worker_and_until_when(shared: Database) -> None:
    table = shared.leases()
    table.claim("vm:4242:ab12cd", ["rep1"], 1, 60)
    table.claim("gone", ["rep2"], 1, EXPIRED)
    rows = {h.account: h for h in table.holdings()}
    assert list(rows) == NAMES
    assert rows["rep1"].worker == "vm:4242:ab12cd"
    until = rows["rep1"].expires_at
    assert until is not None and until.tzinfo is not None
    with shared.engine.connect() as conn:  # the database's now() at the claim, + 60 s
        claimed = conn.execute(
            sa.select(account_leases.c.claimed_at).where(account_leases.c.account == "rep1")
        ).scalar_one()
    assert until - claimed.replace(tzinfo=until.tzinfo) == timedelta(seconds=60)
    assert (rows["rep2"].worker, rows["rep2"].expires_at) == (None, None)  # expired: free
    assert (rows["rep0"].worker, rows["rep0"].expires_at) == (None, None)


def test_sqlite_has_no_leases(sqlite_url: str) -> None:
    database = open_database(sqlite_url)
    assert LeaseTable(database.engine).holdings() == []
    database.close()
