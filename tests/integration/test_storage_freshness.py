"""Last seen per address (from, to, meeting) and per contact, and the stale listing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from connectors.contact_files import Card
from matcher.plan import Plan
from storage import Database
from storage.schema import contact_emails, contacts
from tests.identity import CAROL, HOME, WORK, bob_plan, me
from tests.plans import T0, contact_of, mail, person

DAY = timedelta(days=1)


def seen(db: Database) -> tuple[dict[str, tuple[Any, ...]], dict[int, Any]]:
    e, c = contact_emails.c, contacts.c
    with db.engine.connect() as conn:
        by_address = {
            r.email: (r.last_from_at, r.last_to_at, r.last_met_at)
            for r in conn.execute(sa.select(e.email, e.last_from_at, e.last_to_at, e.last_met_at))
        }
        by_contact = dict(conn.execute(sa.select(c.id, c.last_seen_at)).all())
    return by_address, by_contact


def test_last_seen_per_role_and_contact(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    by_address, by_contact = seen(db)
    assert by_address == {
        WORK: (T0, None, T0 + 9 * DAY),
        HOME: (T0 + 3 * DAY, T0 + 5 * DAY, T0 + 9 * DAY),
        CAROL: (None, T0 + 5 * DAY, T0 + 9 * DAY),
    }
    assert by_contact == {contact_of(db, a): T0 + 9 * DAY for a in (WORK, HOME, CAROL)}


def test_older_mail_never_moves_last_seen_back(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    old = Plan(
        account="alice",
        interactions=(mail("old@acme", person(WORK, "from"), me(), at=T0 - 30 * DAY),),
    )
    newer = Plan(
        account="alice",
        interactions=(mail("new@acme", me("from"), person(WORK, "to"), at=T0 + 40 * DAY),),
    )
    db.apply(old, "INBOX", None)
    db.apply(newer, "Sent", None)
    by_address, by_contact = seen(db)
    assert by_address[WORK] == (T0, T0 + 40 * DAY, T0 + 9 * DAY)
    assert by_contact[contact_of(db, WORK)] == T0 + 40 * DAY


def test_an_address_owned_later_is_credited_with_its_earlier_mail(db: Database) -> None:
    """A first message kept without a contact (on_exchange), then a reply makes one."""
    first = mail("d1@dyn", person("dan@dyn.com", "from", "skip", rule="policy:wait"), me())
    reply = mail("d2@ourco", me("from"), person("dan@dyn.com", "to"), at=T0 + 2 * DAY)
    db.apply(Plan(account="alice", interactions=(first,)), "INBOX", None)
    assert seen(db) == ({}, {})
    db.apply(Plan(account="alice", interactions=(reply,)), "Sent", None)
    by_address, by_contact = seen(db)
    assert by_address == {"dan@dyn.com": (T0, T0 + 2 * DAY, None)}
    assert by_contact == {contact_of(db, "dan@dyn.com"): T0 + 2 * DAY}


def test_stale_lists_the_unseen_longest_first(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    late = Plan(
        account="alice",
        interactions=(
            mail("e1@x", person("erin@x.com", "from"), me(), at=T0 + 100 * DAY),
            mail("f1@x", person("fay@x.com", "from"), me(), at=T0 + 50 * DAY),
        ),
    )
    db.apply(late, "INBOX", None)
    db.set_contact_field(contact_of(db, CAROL), "title", "CFO")  # an edit is no sighting
    never = Card(2, ("gil@crm.com",), (("name", "Gil Crm"),))
    db.import_contacts([never], {"gil@crm.com": "gil@crm.com"})
    stale = db.list_contacts(seen_before=T0 + 60 * DAY)
    assert [(s.emails, s.last_seen_at) for s in stale] == [
        (("gil@crm.com",), None),  # never seen: the stalest of all
        ((WORK,), T0 + 9 * DAY),
        ((HOME,), T0 + 9 * DAY),
        ((CAROL,), T0 + 9 * DAY),
        (("fay@x.com",), T0 + 50 * DAY),
    ]
    assert [s.emails for s in db.list_contacts(seen_before=T0 + 9 * DAY)] == [("gil@crm.com",)]
    assert len(db.list_contacts(seen_before=T0 + 101 * DAY)) == 6
