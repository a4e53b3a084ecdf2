"""The change feed: content, paging, and no missed commit with concurrent writers."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from connectors.records import SourceRef
from matcher.plan import Plan
from storage import ApplyResult, Database, open_database
from storage.apply import apply_plan
from storage.engine import WRITE
from storage.schema import changes
from tests.plans import contact_of, first_batch, mail, person, settled_feed


def test_feed_describes_what_apply_wrote(db: Database) -> None:
    db.apply(first_batch(), "INBOX", None)
    feed = settled_feed(db)
    assert [c.id for c in feed] == sorted(c.id for c in feed)
    interactions = {i.identity: i.id for i in db.list_interactions()}
    company = db.get_contact(contact_of(db, "carol@acme.com")).company_id  # type: ignore[union-attr]
    assert [(c.entity, c.entity_id, c.operation) for c in feed] == [
        ("interaction", interactions["msgid:m1@x"], "insert"),
        ("interaction", interactions["msgid:m2@x"], "insert"),
        ("interaction", interactions["msgid:m3@x"], "insert"),
        ("company", company, "insert"),
        ("contact", contact_of(db, "carol@acme.com"), "insert"),
        ("contact", contact_of(db, "dan@acme.com"), "insert"),
        ("contact", contact_of(db, "eve@gmail.com"), "insert"),
    ]
    # Paging: a reader that remembers the last id gets the rest, then nothing.
    assert db.changes_since(feed[2].id, 2) == feed[3:5]
    assert db.changes_since(feed[-1].id, 100) == []
    db.apply(first_batch(), "INBOX", None)  # a replay writes no change rows
    assert db.changes_since(feed[-1].id, 100) == []


def plan_of(account: str, email: str) -> Plan:
    return Plan(account, (mail(f"{email}-msg", person(email, "from"), account=account),))


class Writer(threading.Thread):
    """``db.apply(plan)`` in a thread of its own, keeping its result or its exception."""

    def __init__(self, db: Database, plan: Plan) -> None:
        super().__init__(daemon=True)
        self.db, self.plan = db, plan
        self.outcome: ApplyResult | BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.outcome = self.db.apply(self.plan, "INBOX", None)
        except BaseException as exc:
            self.outcome = exc

    def result(self, timeout: float) -> ApplyResult:
        self.join(timeout)
        assert not self.is_alive(), "the writer never finished"
        assert isinstance(self.outcome, ApplyResult), self.outcome
        return self.outcome


def lock_waiters(db: Database) -> int:
    """Backends of this database waiting for a lock (PostgreSQL)."""
    with db.engine.connect() as conn:
        query = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return int(conn.execute(sa.text(query)).scalar_one())


def until_waiting(db: Database, writer: Writer) -> None:
    """Poll until ``writer`` waits for a lock on PostgreSQL; fail if it finished instead."""
    deadline = time.monotonic() + 30
    while lock_waiters(db) == 0 and writer.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert writer.is_alive(), f"the writer did not wait: {writer.outcome}"
    assert lock_waiters(db) == 1


def test_ids_become_visible_in_id_order_with_concurrent_writers(pg_url: str) -> None:
    db = open_database(pg_url)
    db.apply(plan_of("alice", "old@acme.com"), "INBOX", None)
    start = settled_feed(db)[-1].id
    with db.engine.connect() as early, db.engine.connect() as slow:
        # "early" takes the older transaction id, "slow" draws change ids first:
        # the order in which a transaction-id horizon would have lost a row.
        first = early.begin()
        early.execute(sa.text("SELECT pg_current_xact_id()"))
        transaction = slow.begin()
        apply_plan(slow, plan_of("alice", "slow@acme.com"), "INBOX", None, datetime.now(UTC))
        low = list(slow.execute(sa.select(changes.c.id).where(changes.c.id > start)).scalars())
        fast = Writer(db, plan_of("alice", "fast@acme.com"))
        until_waiting(db, fast)  # it may not draw an id before "slow" commits
        assert db.changes_since(start, 100) == []
        transaction.commit()
        fast.result(30)
        first.commit()
    feed = [c.id for c in settled_feed(db, start)]
    assert len(low) == 2 and len(feed) == 4 and feed[:2] == low and max(low) < min(feed[2:])
    db.close()


def test_reader_skips_nothing_of_an_aborted_writer(pg_url: str) -> None:
    db = open_database(pg_url)
    db.ensure_account("alice", "imap")  # else both writers would insert it: one waits
    with db.engine.connect() as doomed:
        transaction = doomed.begin()
        apply_plan(doomed, plan_of("alice", "gone@acme.com"), "INBOX", None, datetime.now(UTC))
        kept_writer = Writer(db, plan_of("alice", "kept@acme.com"))
        assert db.changes_since(0, 100) == []
        transaction.rollback()
        kept_writer.result(30)
    feed = settled_feed(db)
    kept = contact_of(db, "kept@acme.com")
    assert [(c.entity, c.operation) for c in feed] == [
        ("interaction", "insert"),
        ("contact", "insert"),
    ]
    assert feed[1].entity_id == kept
    db.close()


def test_sqlite_writers_wait_their_turn_in_commit_order(sqlite_url: str) -> None:
    first, second = open_database(sqlite_url), open_database(sqlite_url)
    first.ensure_account("alice", "imap")
    holding, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with first.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            apply_plan(conn, plan_of("alice", "slow@acme.com"), "INBOX", None, datetime.now(UTC))
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert holding.wait(10)
    fast = Writer(second, plan_of("alice", "fast@acme.com"))
    # SQLite shows no lock waiter, so the second writer gets a window to fail
    # in: one that gave up with "database is locked" would be done by then.
    fast.join(0.5)
    assert fast.is_alive(), f"the second writer did not wait: {fast.outcome}"
    release.set()
    thread.join(30)
    assert fast.result(30) == ApplyResult(new_contacts=1, new_interactions=1, new_sources=1)
    feed = second.changes_since(0, 100)
    owners = [c.entity_id for c in feed if c.entity == "contact"]
    assert owners == [contact_of(second, "slow@acme.com"), contact_of(second, "fast@acme.com")]
    assert [c.id for c in feed] == sorted(c.id for c in feed)
    first.close()
    second.close()


def race(db: Database, first: Plan, second: Plan) -> tuple[ApplyResult, ApplyResult]:
    """Apply ``first`` in an open transaction while ``second`` runs; commit; both finish."""
    with db.engine.connect() as conn:
        transaction = conn.begin()
        result = apply_plan(conn, first, "INBOX", None, datetime.now(UTC))
        writer = Writer(db, second)
        until_waiting(db, writer)  # on a unique index the first one holds
        transaction.commit()
    return result, writer.result(30)


def test_same_message_from_two_mailboxes_at_once(pg_url: str) -> None:
    db = open_database(pg_url)
    for name in ("alice", "bob"):
        db.ensure_account(name, "imap")
    at_alice = plan_of("alice", "carol@acme.com")
    at_bob = Plan(
        "bob", (replace(at_alice.interactions[0], source=SourceRef("bob", "INBOX", "7")),)
    )
    first, second = race(db, at_alice, at_bob)
    assert first == ApplyResult(new_contacts=1, new_interactions=1, new_sources=1)
    assert second == ApplyResult(new_sources=1)
    assert db.counts() == {"contacts": 1, "interactions": 1, "sources": 2, "errors": 0}
    db.close()


def test_same_new_person_in_two_messages_at_once(pg_url: str) -> None:
    db = open_database(pg_url)
    db.ensure_account("alice", "imap")
    first, second = race(
        db,
        Plan("alice", (mail("one@x", person("dora@acme.com", "from"), provider_id="1"),)),
        Plan("alice", (mail("two@x", person("dora@acme.com", "to"), provider_id="2"),)),
    )
    assert (first.new_contacts, second.new_contacts) == (1, 0)
    dora = contact_of(db, "dora@acme.com")
    assert db.counts()["contacts"] == 1  # the loser's contact row was removed again
    linked = {(i.identity, p.contact_id) for i in db.list_interactions() for p in i.participants}
    assert linked == {("msgid:one@x", dora), ("msgid:two@x", dora)}
    inserts = [
        c.entity_id for c in settled_feed(db) if (c.entity, c.operation) == ("contact", "insert")
    ]
    assert inserts == [dora]
    db.close()


def test_two_spellings_of_one_new_mailbox_at_once(pg_url: str) -> None:
    db = open_database(pg_url)
    db.ensure_account("alice", "imap")
    key = "robertsmith@gmail.com"
    dotted = replace(person("robert.smith@gmail.com", "from"), mailbox=key)
    tagged = replace(person("robertsmith+crm@gmail.com", "to"), mailbox=key)
    first, second = race(
        db,
        Plan("alice", (mail("one@x", dotted, provider_id="1"),)),
        Plan("alice", (mail("two@x", tagged, provider_id="2"),)),
    )
    # The second waited on the mailbox's lock, then found the first one's contact.
    assert (first.new_contacts, second.new_contacts) == (1, 0)
    robert = contact_of(db, key)
    detail = db.get_contact(robert)
    assert detail is not None
    assert detail.emails == ("robert.smith@gmail.com", "robertsmith+crm@gmail.com")
    assert db.counts()["contacts"] == 1
    db.close()
