"""Signatures enrich contacts through the real matcher and storage.

Each message goes through ``matcher.plan_batch`` against the database's own
Directory and is applied by ``Database.apply``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database
from tests.builders import mail, signing_policy
from tests.plans import T0, contact_of, settled_feed

OWNER = "ann@northwind.com"
PRIYA = "priya.shah@acme-robotics.com"
POLICY = signing_policy(OWNER)


def signed(title: str, office: str = "(202) 555-0143") -> str:
    return (
        "Thanks Ann, the revised quote works for us.\n\nBest regards,\nPriya Shah\n"
        f"{title}\nAcme Robotics\nOffice: {office} | Mobile: +1 202 555 0144\n"
    )


def from_priya(msgid: str, when: datetime, text: str, subject: str = "Quote") -> Message:
    sender = mail(("From", f"Priya Shah <{PRIYA}>"), ("To", OWNER), text=text)
    return Message(
        source=SourceRef("alice", "INBOX", msgid),
        message_id=msgid,
        date=when,
        subject=subject,
        headers=sender.headers,
        text=text,
    )


def capture(db: Database, *messages: Message) -> None:
    db.apply(plan_batch(list(messages), POLICY, db.directory()), "INBOX", None)


def interaction_id(db: Database, msgid: str) -> int:
    [view] = [i for i in db.list_interactions(limit=100) if i.identity == f"msgid:{msgid}"]
    return view.id


def test_capture_enriches_the_sender_with_observations_of_the_interaction(db: Database) -> None:
    capture(db, from_priya("1@acme", T0, signed("VP Operations")))
    detail = db.get_contact(contact_of(db, PRIYA))
    assert detail is not None
    assert [(f.field, f.value, f.owner) for f in detail.fields] == [
        ("name", "Priya Shah", "observed"),
        ("given_name", "Priya", "observed"),
        ("family_name", "Shah", "observed"),
        ("title", "VP Operations", "observed"),
        ("company", "Acme Robotics", "observed"),
        ("phone:mobile", "+12025550144", "observed"),
        ("phone:office", "+12025550143", "observed"),  # national format, region US
    ]
    first = interaction_id(db, "1@acme")
    for field in detail.fields:
        assert field.observation is not None
        assert (field.observation.interaction_id, field.observation.observed_at) == (first, T0)
        assert (field.observation.account, field.observation.subject) == ("alice", "Quote")
    title = next(f for f in detail.fields if f.field == "title")
    assert title.observation is not None and title.observation.confidence == 0.8


def test_a_hand_set_title_is_never_overwritten_by_capture(db: Database) -> None:
    capture(db, from_priya("1@acme", T0, signed("VP Operations")))
    priya = contact_of(db, PRIYA)
    db.set_contact_field(priya, "title", "Chief Operating Officer")
    capture(db, from_priya("2@acme", T0 + timedelta(days=30), signed("SVP Operations")))
    detail = db.get_contact(priya)
    assert detail is not None
    title = next(f for f in detail.fields if f.field == "title")
    assert (title.value, title.owner, title.observation) == (
        "Chief Operating Officer",
        "manual",
        None,
    )
    # The later signature is kept as history all the same.
    assert [(o.value, o.observed_at) for o in detail.history if o.field == "title"] == [
        ("SVP Operations", T0 + timedelta(days=30)),
        ("VP Operations", T0),
    ]


def test_a_new_title_becomes_current_keeps_the_old_one_and_enters_the_feed(db: Database) -> None:
    capture(db, from_priya("1@acme", T0, signed("VP Operations")))
    priya = contact_of(db, PRIYA)
    after = max(c.id for c in settled_feed(db))
    later = T0 + timedelta(days=60)
    capture(db, from_priya("2@acme", later, signed("COO", office="(202) 555-0199"), "Renewal"))
    detail = db.get_contact(priya)
    assert detail is not None
    assert detail.value("title") == "COO"
    assert detail.value("phone:office") == "+12025550199"
    assert detail.value("phone:mobile") == "+12025550144"
    assert [(o.value, o.observed_at, o.subject) for o in detail.history if o.field == "title"] == [
        ("COO", later, "Renewal"),
        ("VP Operations", T0, "Quote"),
    ]
    contact_changes = [
        (c.entity_id, c.operation) for c in settled_feed(db, after) if c.entity == "contact"
    ]
    assert contact_changes == [(priya, "update")]
    # An older message arriving late changes neither the title nor the feed.
    before = max(c.id for c in settled_feed(db))
    capture(db, from_priya("0@acme", T0 - timedelta(days=9), signed("Director")))
    detail = db.get_contact(priya)
    assert detail is not None and detail.value("title") == "COO"
    assert [(c.entity, c.operation) for c in settled_feed(db, before)] == [
        ("interaction", "insert")
    ]


def test_a_quoted_contact_is_linked_without_exchange_evidence(db: Database) -> None:
    capture(db, from_priya("1@acme", T0, signed("VP Operations")))
    forward = (
        "FYI\n\n---------- Forwarded message ---------\n"
        "From: Jorge Ramos <jorge@acme-robotics.com>\nSubject: Budget\n"
        f"To: Priya Shah <{PRIYA}>\n\nApproved.\n\nJorge Ramos\nCFO\n+1 202 555 0190\n"
    )
    outbound = mail(
        ("From", f"Ann <{OWNER}>"), ("To", "tom@initech.com"), text=forward, message_id="fw@nw"
    )
    capture(db, outbound)
    [view] = [i for i in db.list_interactions(limit=100) if i.identity == "msgid:fw@nw"]
    rows = {(p.email, p.role): (p.decision, p.contact_id) for p in view.participants}
    assert rows[(PRIYA, "quoted")] == ("link", contact_of(db, PRIYA))
    assert rows[("jorge@acme-robotics.com", "quoted")] == ("skip", None)
    assert db.directory().contact_ids(["jorge@acme-robotics.com"]) == {}
    assert db.directory().evidence([PRIYA])[PRIYA].sent_to is False  # quoted is not "we wrote"
