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
from tests.integration.test_storage import (
    contact_of,
    db,
    first_batch,
    mail,
    person,
    settled_feed,
)

__all__ = ["db"]  # the fixture, shared


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


def _apply_in_thread(db: Database, plan: Plan) -> threading.Thread:
    thread = threading.Thread(target=db.apply, args=(plan, "INBOX", None), daemon=True)
    thread.start()
    return thread


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
        fast = _apply_in_thread(db, plan_of("alice", "fast@acme.com"))
        fast.join(timeout=1.0)
        assert fast.is_alive()  # it may not draw an id before "slow" commits
        assert db.changes_since(start, 100) == []
        transaction.commit()
        fast.join(timeout=30)
        assert not fast.is_alive()
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
        kept_writer = _apply_in_thread(db, plan_of("alice", "kept@acme.com"))
        assert db.changes_since(0, 100) == []
        transaction.rollback()
        kept_writer.join(timeout=30)
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
    holding = threading.Event()

    def slow_writer() -> None:
        with first.engine.connect().execution_options(**WRITE) as conn, conn.begin():
            apply_plan(conn, plan_of("alice", "slow@acme.com"), "INBOX", None, datetime.now(UTC))
            holding.set()
            time.sleep(0.5)  # the second writer must wait, not fail with "database is locked"

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert holding.wait(10)
    started = time.monotonic()
    second.apply(plan_of("alice", "fast@acme.com"), "INBOX", None)
    waited = time.monotonic() - started
    thread.join()
    assert waited > 0.2
    feed = second.changes_since(0, 100)
    owners = [c.entity_id for c in feed if c.entity == "contact"]
    assert owners == [contact_of(second, "slow@acme.com"), contact_of(second, "fast@acme.com")]
    assert [c.id for c in feed] == sorted(c.id for c in feed)
    first.close()
    second.close()


def race(db: Database, first: Plan, second: Plan) -> tuple[ApplyResult, ApplyResult]:
    """Apply ``first`` in an open transaction while ``second`` runs; commit; both finish."""
    results: list[ApplyResult] = []
    with db.engine.connect() as conn:
        transaction = conn.begin()
        results.append(apply_plan(conn, first, "INBOX", None, datetime.now(UTC)))
        thread = threading.Thread(target=lambda: results.append(db.apply(second, "INBOX", None)))
        thread.start()
        time.sleep(0.5)  # the second writer is now waiting on a unique index
        assert thread.is_alive()
        transaction.commit()
    thread.join(30)
    assert not thread.is_alive()
    return results[0], results[1]


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
