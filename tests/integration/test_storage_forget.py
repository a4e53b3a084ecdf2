"""Forget: a person erased from every table, a salted digest kept, never re-created.

Mail goes through ``matcher.plan_batch`` against the stored Directory and
``Database.apply``, on SQLite and PostgreSQL, so recapture after the
erasure takes the path the agent takes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database
from storage.schema import contact_observations, forgotten_addresses
from storage.schema_types import Base
from tests.builders import mail, meeting, person, policy
from tests.plans import T0, contact_of, participants, settled_feed

OWNER = "me@ourco.com"
BOB = "bob.smith@gmail.com"
CAROL = "carol.diaz@acme.com"
# Everything that would betray Bob, lower-cased: spellings, mailbox key, name, phone.
TRACES = ("bob.smith", "bobsmith", "b.o.b", "bob smith", "7946 0958", "smith & co")

BOB_SIGNED = (
    "Happy to talk next week.\n\nBob Smith\nFounder, Smith & Co\nMobile: +44 20 7946 0958\n"
)


def message(
    msgid: str, hours: int, *headers: tuple[str, str], subject: str, text: str = ""
) -> Message:
    m = mail(*headers, message_id=msgid, subject=subject, text=text or None)
    return Message(
        source=SourceRef("acct", "INBOX", msgid),
        message_id=msgid,
        date=T0 + timedelta(hours=hours),
        subject=subject,
        headers=m.headers,
        text=m.text,
    )


def mailbox() -> list[Message | object]:
    return [
        message(
            "b1@smithco",
            0,
            ("From", f"Bob Smith <{BOB}>"),
            ("To", OWNER),
            subject="Intro",
            text=BOB_SIGNED,
        ),
        message(
            "o1@ourco",
            1,
            ("From", OWNER),
            ("To", "B.O.B.Smith+work@gmail.com"),
            subject="Re: Intro",
        ),
        message(
            "c1@acme",
            2,
            ("From", f"Carol Diaz <{CAROL}>"),
            ("To", OWNER),
            ("Cc", f"Bob Smith <{BOB}>"),
            subject=f"Re: intro with {BOB.upper()}",
        ),
        message("o2@ourco", 3, ("From", OWNER), ("To", CAROL), subject="Pricing"),
        meeting(person(OWNER), person(CAROL, "Carol Diaz"), person(BOB, "Bob Smith")),
    ]


def capture(db: Database) -> None:
    for record in mailbox():
        db.apply(plan_batch([record], policy("always"), db.directory()), "INBOX", None)  # type: ignore[list-item]


def traces(db: Database) -> list[tuple[str, str, str]]:
    """(table, column, value) of every stored value that names Bob, in any table."""
    found = []
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    text = str(value).lower()
                    if any(t in text for t in TRACES):
                        found.append((table.name, column, str(value)))
    return found


def identities(db: Database) -> list[str]:
    return sorted(i.identity for i in db.list_interactions(limit=100))


def test_forget_erases_every_trace_and_recapture_does_not_bring_him_back(db: Database) -> None:
    capture(db)
    bob, carol = contact_of(db, "bobsmith@gmail.com"), contact_of(db, CAROL)
    with db.engine.connect() as conn:
        fields = {
            r.field
            for r in conn.execute(
                sa.select(contact_observations).where(contact_observations.c.contact_id == bob)
            )
        }
    assert {"name", "phone:mobile"} <= fields  # his signature was read: there is much to erase
    assert {t for t, _, _ in traces(db)} >= {
        "contacts",
        "contact_emails",
        "interactions",
        "interaction_participants",
    }
    before = max(c.id for c in settled_feed(db))
    meeting_id = "ical:uid-1@ourco.com|"

    done = db.forget(addresses=[BOB, "bobsmith@gmail.com"])

    assert (done.contact_id, done.erased_interactions, done.anonymised) == (bob, 2, 2)
    assert traces(db) == []
    assert identities(db) == [meeting_id, "msgid:c1@acme", "msgid:o2@ourco"]
    (anonymous,) = {
        e for e, _, c in participants(db, "msgid:c1@acme") if e.endswith("@forgotten.invalid")
    }
    assert participants(db, "msgid:c1@acme") == [
        (anonymous, "cc", None),
        (CAROL, "from", carol),
        (OWNER, "to", None),
    ]
    assert (anonymous, "attendee", None) in participants(db, meeting_id)
    [c1] = [i for i in db.list_interactions(limit=100) if i.identity == "msgid:c1@acme"]
    assert c1.subject == f"Re: intro with {anonymous}"
    assert db.get_contact(bob) is None and db.get_contact(carol) is not None
    with db.engine.connect() as conn:
        digests = conn.execute(sa.select(forgotten_addresses.c.digest)).scalars().all()
    # Two spellings and the mailbox key, as 64-hex-digit HMACs.
    assert len(digests) == 3 and all(len(d) == 64 for d in digests)
    feed = {(c.entity, c.entity_id, c.operation) for c in settled_feed(db, before)}
    erased = {i for i in feed if i[2] == "delete"}
    assert ("contact", bob, "forget") in feed
    assert len(erased) == 2 and {e for e, _, _ in erased} == {"interaction"}
    assert {("interaction", c1.id, "update")} <= feed

    capture(db)  # the same mail read again, e.g. a resync of the account

    assert traces(db) == []
    assert identities(db) == [meeting_id, "msgid:c1@acme", "msgid:o2@ourco"]
    assert db.counts()["contacts"] == 1
    assert db.directory().contact_ids(["bobsmith@gmail.com"]) == {}


def test_forget_by_contact_id_and_unknown_targets(db: Database) -> None:
    capture(db)
    carol = contact_of(db, CAROL)
    done = db.forget(contact_id=carol)
    assert (done.contact_id, done.erased_interactions) == (carol, 1)  # "Pricing" was hers alone
    assert db.directory().contact_ids([CAROL]) == {}
    with pytest.raises(LookupError):
        db.forget(contact_id=carol)
    with pytest.raises(LookupError):
        db.forget(addresses=["nobody@nowhere.example"])
