"""A hard bounce marks the address bouncing, on SQLite and PostgreSQL; nobody is created."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from connectors.base import Limits
from connectors.mail.mime import parse_message
from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database
from storage.schema import contact_emails
from tests.builders import mail, policy
from tests.plans import contact_of, settled_feed

DATA = Path(__file__).resolve().parents[1] / "data" / "bounces"
OWNER = "me@ourco.com"
BOB = "bob.smith@acme.com"


def read(name: str) -> Message:
    return parse_message((DATA / name).read_bytes(), SourceRef("acct", "INBOX", name), Limits())


def exchange(msgid: str, sender: str, to: str) -> Message:
    m = mail(("From", sender), ("To", to), message_id=msgid)
    return replace(m, source=SourceRef("acct", "INBOX", msgid))


def capture(db: Database, *messages: Message) -> None:
    for m in messages:
        db.apply(plan_batch([m], policy(), db.directory()), "INBOX", None)


def statuses(db: Database) -> list[tuple[str, str, str | None]]:
    c = contact_emails.c
    with db.engine.connect() as conn:
        query = sa.select(c.email, c.status, c.status_reason).order_by(c.email)
        return [(r.email, r.status, r.status_reason) for r in conn.execute(query)]


def test_one_hard_bounce_marks_the_address_and_creates_nobody(db: Database) -> None:
    capture(
        db,
        exchange("p0@ourco.com", OWNER, f"Bob Smith <{BOB}>"),
        exchange("b0@acme.com", f"Bob Smith <{BOB}>", OWNER),
        exchange("p1@ourco.com", OWNER, "dana@acme.com"),
        exchange("d1@acme.com", "dana@acme.com", OWNER),
    )
    bob = contact_of(db, BOB)
    top = max(c.id for c in settled_feed(db))
    contacts = db.counts()["contacts"]

    capture(db, read("out-of-office.eml"))  # Bob's auto-reply: not a bounce
    assert statuses(db) == [(BOB, "current", None), ("dana@acme.com", "current", None)]

    # Postfix: bob failed for good (5.1.1), dana only delayed (4.4.1).
    capture(db, read("postfix-dsn.eml"), read("qmail-text.eml"))

    assert statuses(db) == [
        (BOB, "bouncing", "bounce:5.1.1:dsn"),
        ("dana@acme.com", "current", None),
    ]
    assert db.counts()["contacts"] == contacts  # frank@hosting.example: no contact, none made
    detail = db.get_contact(bob)
    assert detail is not None
    assert [(a.email, a.status, a.status_at) for a in detail.addresses] == [
        (BOB, "bouncing", read("postfix-dsn.eml").date)
    ]
    feed = [(c.entity, c.entity_id, c.operation) for c in settled_feed(db, top)]
    assert ("contact", bob, "update") in feed
    top = max(c.id for c in settled_feed(db))
    capture(db, read("postfix-dsn.eml"))  # the same report again changes nothing
    assert [c for c in settled_feed(db, top) if c.entity == "contact"] == []


def test_a_bounce_marks_every_spelling_of_the_mailbox(db: Database) -> None:
    capture(
        db,
        exchange("o1@ourco.com", OWNER, "Carol <carol.old+work@gmail.com>"),
        exchange("c1@gmail.com", "Carol <Carol.Old@gmail.com>", OWNER),
    )
    report = read("gmail-dsn.eml")
    status = (report.delivery_status or "").replace(
        "carol.old@initech.example", "carolold@gmail.com"
    )
    capture(db, replace(report, delivery_status=status))
    assert statuses(db) == [
        ("carol.old+work@gmail.com", "bouncing", "bounce:5.1.1:dsn"),
        ("carol.old@gmail.com", "bouncing", "bounce:5.1.1:dsn"),
    ]


def test_mail_from_the_address_after_its_bounce_makes_it_current_in_any_order(
    db: Database,
) -> None:
    report = read("postfix-dsn.eml")
    assert report.date is not None
    later = replace(
        exchange("b9@acme.com", f"Bob Smith <{BOB}>", OWNER), date=report.date + timedelta(days=2)
    )
    capture(
        db,
        exchange("p0@ourco.com", OWNER, f"Bob Smith <{BOB}>"),
        exchange("b0@acme.com", f"Bob Smith <{BOB}>", OWNER),
    )
    capture(db, report)
    assert statuses(db) == [(BOB, "bouncing", "bounce:5.1.1:dsn")]
    capture(db, later)
    assert statuses(db) == [(BOB, "current", "wrote-after-bounce")]
    capture(db, report)  # read again: he has written since, so it stays current
    assert statuses(db) == [(BOB, "current", "wrote-after-bounce")]


def test_a_report_read_after_newer_mail_from_the_address_changes_nothing(db: Database) -> None:
    report = read("postfix-dsn.eml")
    assert report.date is not None
    capture(
        db,
        exchange("p0@ourco.com", OWNER, f"Bob Smith <{BOB}>"),
        replace(
            exchange("b9@acme.com", f"Bob Smith <{BOB}>", OWNER),
            date=report.date + timedelta(days=2),
        ),
    )
    capture(db, report)  # a backfill reads the older report last
    assert statuses(db) == [(BOB, "current", None)]


def test_a_report_read_before_the_contact_exists_still_marks_its_address(db: Database) -> None:
    report = read("postfix-dsn.eml")
    assert report.date is not None
    # The owner wrote to Bob, the report came back; his earlier mail is read last.
    capture(db, exchange("p0@ourco.com", OWNER, f"Bob Smith <{BOB}>"), report)
    assert db.counts()["contacts"] == 0
    capture(db, exchange("b0@acme.com", f"Bob Smith <{BOB}>", OWNER))
    assert statuses(db) == [(BOB, "bouncing", "bounce:5.1.1:dsn")]
