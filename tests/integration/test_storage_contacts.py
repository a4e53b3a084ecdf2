"""Contact fields from observations, locks that capture never overwrites, read queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from matcher.plan import Observation, Plan
from storage import Database
from tests.plans import T0, contact_of, first_batch, mail, person, settled_feed


def seen(msgid: str, hours: int, *observations: Observation, account: str = "alice") -> Plan:
    """Carol writing at T0 + hours, her signature giving ``observations``."""
    sender = person("carol@acme.com", "from", observations=observations, company_domain="acme.com")
    return Plan(account, (mail(msgid, sender, at=T0 + timedelta(hours=hours), account=account),))


def test_fields_follow_the_newest_confident_observation(db: Database) -> None:
    db.apply(seen("1@x", 0, Observation("name", "Carol Diaz", 0.9)), "INBOX", None)
    carol = contact_of(db, "carol@acme.com")
    newer = seen(
        "2@x",
        5,
        Observation("name", "Caroline Diaz", 0.8),
        Observation("title", "CFO", 0.4),  # below 0.5: kept as history, never a field
        Observation("company", "Acme Corp", 0.7),
    )
    db.apply(newer, "INBOX", None)
    # An older message arriving late does not win over what is newer.
    db.apply(seen("0@x", -5, Observation("name", "C. Diaz", 0.95)), "INBOX", None)
    detail = db.get_contact(carol)
    assert detail is not None
    assert [(f.field, f.value, f.owner) for f in detail.fields] == [
        ("name", "Caroline Diaz", "observed"),
        ("company", "Acme Corp", "observed"),
    ]
    name = detail.fields[0]
    assert name.since == T0 + timedelta(hours=5)
    assert name.observation is not None
    assert (name.observation.account, name.observation.confidence) == ("alice", 0.8)
    assert [(o.field, o.value, o.observed_at) for o in detail.history] == [
        ("company", "Acme Corp", T0 + timedelta(hours=5)),  # one time: by field
        ("name", "Caroline Diaz", T0 + timedelta(hours=5)),
        ("title", "CFO", T0 + timedelta(hours=5)),
        ("name", "Carol Diaz", T0),
        ("name", "C. Diaz", T0 - timedelta(hours=5)),
    ]


def test_a_tie_in_time_goes_to_the_later_observation(db: Database) -> None:
    db.apply(seen("1@x", 3, Observation("name", "Carol Diaz", 0.9)), "INBOX", None)
    db.apply(seen("2@x", 3, Observation("name", "Carol D.", 0.6)), "INBOX", None)
    # A field seen only in an older message still takes that message's value.
    db.apply(seen("0@x", -5, Observation("title", "CFO", 0.9)), "INBOX", None)
    detail = db.get_contact(contact_of(db, "carol@acme.com"))
    assert detail is not None
    assert [(f.field, f.value) for f in detail.fields] == [("name", "Carol D."), ("title", "CFO")]


def test_manual_value_is_never_overwritten_and_history_is_kept(db: Database) -> None:
    db.apply(seen("1@x", 0, Observation("name", "Carol Diaz", 0.9)), "INBOX", None)
    carol = contact_of(db, "carol@acme.com")
    db.set_contact_field(carol, "name", "Carol D. (Board)")
    db.set_contact_field(carol, "title", "Chair", owner="crm")
    db.apply(
        seen(
            "2@x", 9, Observation("name", "Carol Diaz-Ruiz", 0.99), Observation("title", "CEO", 0.9)
        ),
        "INBOX",
        None,
    )
    detail = db.get_contact(carol)
    assert detail is not None
    assert [(f.field, f.value, f.owner) for f in detail.fields] == [
        ("name", "Carol D. (Board)", "manual"),
        ("title", "Chair", "crm"),
    ]
    assert {(o.field, o.value) for o in detail.history} == {
        ("name", "Carol Diaz"),
        ("name", "Carol Diaz-Ruiz"),
        ("title", "CEO"),
    }
    # Unlocked, the field goes back to what capture observed last.
    db.unlock_contact_field(carol, "title")
    assert db.get_contact(carol).value("title") == "CEO"  # type: ignore[union-attr]
    updates = [c for c in settled_feed(db) if (c.entity, c.entity_id) == ("contact", carol)]
    assert [c.operation for c in updates] == ["insert", "update", "update", "update"]


def test_set_contact_field_rejects_unknown_fields_and_contacts(db: Database) -> None:
    db.apply(seen("1@x", 0), "INBOX", None)
    carol = contact_of(db, "carol@acme.com")
    with pytest.raises(ValueError, match="not a contact field"):
        db.set_contact_field(carol, "password", "x")
    with pytest.raises(LookupError):
        db.set_contact_field(carol + 1000, "name", "Nobody")


def test_observations_replayed_are_stored_once(db: Database) -> None:
    plan = seen("1@x", 0, Observation("name", "Carol Diaz", 0.9), Observation("name", "Carol", 0.6))
    db.apply(plan, "INBOX", None)
    db.apply(plan, "INBOX", None)
    detail = db.get_contact(contact_of(db, "carol@acme.com"))
    assert detail is not None
    # One value per field and interaction: the most confident one.
    assert [(o.field, o.value, o.confidence) for o in detail.history] == [
        ("name", "Carol Diaz", 0.9)
    ]


def test_search_and_listing(db: Database) -> None:
    db.apply(first_batch(), "INBOX", None)
    carol, dan = contact_of(db, "carol@acme.com"), contact_of(db, "dan@acme.com")
    eve = contact_of(db, "eve@gmail.com")
    assert [c.id for c in db.search_contacts("CAROL diaz")] == [carol]  # by name
    assert [c.id for c in db.search_contacts("ACME.com")] == [carol, dan]  # email and company
    assert [c.id for c in db.search_contacts("GMAIL")] == [eve]
    assert db.search_contacts("%") == []  # a wildcard is only a character
    listed = db.list_contacts(limit=2, offset=1)
    assert [(c.id, c.emails, c.company) for c in listed] == [
        (dan, ("dan@acme.com",), "acme.com"),
        (eve, ("eve@gmail.com",), None),
    ]
    assert [c.name for c in db.list_contacts()] == ["Carol Diaz", None, None]
    mine = db.list_interactions(contact_id=carol)
    assert [i.identity for i in mine] == ["msgid:m2@x", "msgid:m1@x"]  # same time: newest id first
    assert db.get_contact(10_000) is None


def test_a_contact_created_from_several_messages_takes_the_newest_values(db: Database) -> None:
    newer = seen(
        "b@x", 5, Observation("name", "Caroline Diaz", 0.8), Observation("title", "VP", 0.3)
    )
    older = seen("a@x", 1, Observation("name", "Carol Diaz", 0.9), Observation("title", "CFO", 0.7))
    batch = Plan("alice", newer.interactions + older.interactions)
    assert db.apply(batch, "INBOX", None).new_contacts == 1
    carol = contact_of(db, "carol@acme.com")
    detail = db.get_contact(carol)
    assert detail is not None
    assert [(f.field, f.value) for f in detail.fields] == [
        ("name", "Caroline Diaz"),
        ("title", "CFO"),
    ]
    # The same answer as a contact re-derived from its stored observations.
    db.apply(seen("c@x", 0, Observation("name", "C.", 0.9)), "INBOX", None)
    assert db.get_contact(carol).value("name") == "Caroline Diaz"  # type: ignore[union-attr]
    assert [c.operation for c in settled_feed(db) if c.entity == "contact"] == ["insert"]
