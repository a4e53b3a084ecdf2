"""Scored resolution through the real matcher and storage, on SQLite and PostgreSQL.

Mail shaped like a sales team's: a colleague's alias with the same mobile,
two John Smiths at one company, a father and son in a family business, a
shared team@ mailbox, a job change, and the old address given to a new
hire. Each case asserts which contacts exist afterwards, which addresses
they hold with what status, and why.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database
from storage.engine import MIGRATIONS, WRITE, migrate
from storage.reviews import ReviewView
from storage.schema import contact_keys, review_queue
from tests.builders import mail, signing_policy
from tests.plans import T0, settled_feed

OWNER = "ann@northwind.com"
POLICY = signing_policy(OWNER)
MOBILE = "+1 415 555 0123"
OTHER_MOBILE = "+1 415 555 0187"


def signature(name: str, title: str, company: str, phone: str, label: str = "Mobile") -> str:
    return f"Thanks Ann, see you Thursday.\n\nBest regards,\n{name}\n{title}\n{company}\n{label}: {phone}\n"


def letter(
    n: int,
    sender: str,
    text: str | None = None,
    *,
    at: datetime = T0,
    thread: str | None = None,
    cc: str | None = None,
    extra: tuple[tuple[str, str], ...] = (),
) -> Message:
    headers = [("From", sender), ("To", OWNER), *extra] + ([("Cc", cc)] if cc else [])
    m = mail(*headers, text=text)
    return Message(
        source=SourceRef("alice", "INBOX", f"m{n}"),
        message_id=f"m{n}@mail",
        date=at + timedelta(hours=n),
        subject="Renewal",
        headers=m.headers,
        thread_key=thread or f"m{n}@mail",
        text=text,
    )


def capture(db: Database, *messages: Message) -> None:
    db.apply(plan_batch(list(messages), POLICY, db.directory()), "INBOX", None)


def owners(db: Database) -> dict[str, tuple[int, str]]:
    """Every stored address -> (contact, status)."""
    found = {}
    for summary in db.list_contacts(limit=1000):
        detail = db.get_contact(summary.id)
        assert detail is not None
        for a in detail.addresses:
            found[a.email] = (detail.id, a.status)
    return found


def origin(db: Database, contact: int, email: str) -> str | None:
    detail = db.get_contact(contact)
    assert detail is not None
    return next(a.origin for a in detail.addresses if a.email == email)


def test_an_alias_with_the_same_mobile_links_with_its_reasons(db: Database) -> None:
    capture(
        db, letter(1, "Bob Smith <bob@acme.com>", signature("Bob Smith", "CFO", "Acme", MOBILE))
    )
    (bob, _) = owners(db)["bob@acme.com"]
    top = max(c.id for c in settled_feed(db))
    text = signature("Robert Smith", "CFO", "Acme", MOBILE)
    capture(db, letter(2, "Robert Smith <robert.smith@acme.com>", text))
    assert owners(db) == {
        "bob@acme.com": (bob, "current"),
        "robert.smith@acme.com": (bob, "current"),
    }
    why = "scored:1.00:name 0.97 + same company domain + same mobile + same title"
    assert origin(db, bob, "robert.smith@acme.com") == why
    [view] = [i for i in db.list_interactions(limit=10) if i.identity == "msgid:m2@mail"]
    sender = next(p for p in view.participants if p.role == "from")
    assert (sender.contact_id, sender.decision, sender.rule) == (bob, "link", why)
    assert ("contact", bob, "update") in {
        (c.entity, c.entity_id, c.operation) for c in settled_feed(db, top)
    }


def test_two_john_smiths_at_one_company_stay_two(db: Database) -> None:
    sales = signature("John Smith", "Account Executive", "Acme", MOBILE)
    capture(db, letter(1, "John Smith <jsmith@acme.com>", sales))
    engineer = signature("John Smith", "Senior Engineer", "Acme", OTHER_MOBILE)
    capture(db, letter(2, "John Smith <john.smith@acme.com>", engineer))
    found = owners(db)
    assert found["jsmith@acme.com"][0] != found["john.smith@acme.com"][0]
    assert len({c for c, _ in found.values()}) == 2
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(review_queue)).scalar() == 0


def test_two_john_smiths_copied_on_one_message_are_two_people(db: Database) -> None:
    capture(
        db, letter(1, "John Smith <jsmith@acme.com>", signature("John Smith", "AE", "Acme", MOBILE))
    )
    # The second John writes in the first one's thread, with the first one on copy.
    text = signature("John Smith", "AE", "Acme", MOBILE, label="Office")
    capture(
        db,
        letter(
            2,
            "John Smith <john.smith@acme.com>",
            text,
            thread="m1@mail",
            cc="John Smith <jsmith@acme.com>",
        ),
    )
    found = owners(db)
    assert found["jsmith@acme.com"][0] != found["john.smith@acme.com"][0]


def test_father_and_son_sharing_a_surname_and_a_phone_stay_two(db: Database) -> None:
    office = "+1 312 555 0100"
    capture(
        db,
        letter(
            1,
            "Frank Rossi <frank@rossiplumbing.com>",
            signature("Frank Rossi", "Owner", "Rossi Plumbing", office, "Office"),
        ),
    )
    capture(
        db,
        letter(
            2,
            "Marco Rossi <marco@rossiplumbing.com>",
            signature("Marco Rossi", "Estimator", "Rossi Plumbing", office, "Office"),
        ),
    )
    capture(
        db,
        letter(
            3,
            "Frank Rossi Jr. <frank.jr@rossiplumbing.com>",
            signature("Frank Rossi Jr.", "Foreman", "Rossi Plumbing", office, "Office"),
        ),
    )
    found = owners(db)
    assert len({c for c, _ in found.values()}) == 3
    with db.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(review_queue)).scalar() == 0


def test_a_shared_team_address_is_never_linked_to_the_person_writing_from_it(db: Database) -> None:
    capture(db, letter(1, "Jane Doe <jane@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    (jane, _) = owners(db)["jane@acme.com"]
    capture(db, letter(2, "Jane Doe <team@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    capture(
        db,
        letter(3, "Tom Lee <team@acme.com>", signature("Tom Lee", "Analyst", "Acme", OTHER_MOBILE)),
    )
    assert owners(db) == {"jane@acme.com": (jane, "current")}
    views = {i.identity: i for i in db.list_interactions(limit=10)}
    for n in (2, 3):
        sender = next(p for p in views[f"msgid:m{n}@mail"].participants if p.role == "from")
        assert (sender.klass, sender.decision, sender.contact_id) == ("role", "skip", None)


def test_a_job_change_is_one_contact_with_the_old_address_former(db: Database) -> None:
    capture(db, letter(1, "Jane Doe <jane@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    (jane, _) = owners(db)["jane@acme.com"]
    top = max(c.id for c in settled_feed(db))
    later = T0 + timedelta(days=90)
    moved = signature("Jane Doe", "CFO", "Globex", MOBILE)
    capture(db, letter(2, "Jane Doe <jane.doe@globex.com>", moved, at=later))
    assert owners(db) == {
        "jane@acme.com": (jane, "former"),
        "jane.doe@globex.com": (jane, "current"),
    }
    detail = db.get_contact(jane)
    assert detail is not None
    old = next(a for a in detail.addresses if a.email == "jane@acme.com")
    assert (old.status_reason, old.status_at) == (
        "job-change:globex.com",
        later + timedelta(hours=2),
    )
    assert [
        (j.domain, j.title, j.first_seen, j.last_seen, j.ended_reason is not None)
        for j in detail.employments
    ] == [
        ("acme.com", "CFO", T0 + timedelta(hours=1), T0 + timedelta(hours=1), True),
        ("globex.com", "CFO", later + timedelta(hours=2), later + timedelta(hours=2), False),
    ]
    assert detail.company_domains == ("globex.com",)
    feed = {(c.entity, c.operation) for c in settled_feed(db, top)}
    assert {("contact", "update"), ("employment", "insert")} <= feed
    assert db.counts()["contacts"] == 1


def test_a_former_address_given_to_a_new_hire_is_not_merged(db: Database) -> None:
    capture(db, letter(1, "Jane Doe <jane@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    later = T0 + timedelta(days=90)
    capture(
        db,
        letter(
            2,
            "Jane Doe <jane.doe@globex.com>",
            signature("Jane Doe", "CFO", "Globex", MOBILE),
            at=later,
        ),
    )
    (jane, _) = owners(db)["jane.doe@globex.com"]
    # Old mail of Jane's own, read again, still finds her through her former address.
    capture(db, letter(3, "Jane Doe <jane@acme.com>", "See attached.", at=T0))
    assert owners(db)["jane@acme.com"] == (jane, "former")
    # Acme gives the address to a new hire.
    hire = signature("Jane Park", "Sales Associate", "Acme", OTHER_MOBILE)
    capture(db, letter(4, "Jane Park <jane@acme.com>", hire, at=later + timedelta(days=30)))
    found = owners(db)
    (park, status) = found["jane@acme.com"]
    assert park != jane and status == "current"
    assert found["jane.doe@globex.com"] == (jane, "current")
    park_detail = db.get_contact(park)
    assert park_detail is not None and park_detail.value("name") == "Jane Park"


def ann_and_a_proposal(db: Database) -> tuple[int, ReviewView]:
    """Ann signs from her work address; then writes from another one at Initech, unsigned."""
    signed = signature("Ann Lee", "VP Sales", "Initech", MOBILE)
    capture(db, letter(1, "Ann Lee <ann.lee@initech.com>", signed))
    (ann, _) = owners(db)["ann.lee@initech.com"]
    capture(db, letter(2, "Ann Lee <alee@initech.com>", "Quick note from my phone."))
    [item] = db.reviews()
    return ann, item


def test_name_and_domain_alone_go_to_review_then_accept_links_everything(db: Database) -> None:
    ann, item = ann_and_a_proposal(db)
    assert set(owners(db)) == {"ann.lee@initech.com"}  # held, not created, not linked
    assert (item.email, item.contact_id, item.score, item.reasons) == (
        "alee@initech.com",
        ann,
        0.75,
        "name 1.00 + same company domain",
    )
    top = max(c.id for c in settled_feed(db))
    db.decide_review(item.id, accept=True)
    assert owners(db)["alee@initech.com"] == (ann, "current")
    assert (
        origin(db, ann, "alee@initech.com")
        == "review:accepted:0.75:name 1.00 + same company domain"
    )
    [view] = [i for i in db.list_interactions(limit=10) if i.identity == "msgid:m2@mail"]
    assert next(p.contact_id for p in view.participants if p.role == "from") == ann
    assert {(c.entity, c.entity_id, c.operation) for c in settled_feed(db, top)} == {
        ("review", item.id, "update"),
        ("contact", ann, "update"),
    }
    assert db.reviews() == []


def test_a_rejected_pair_is_never_proposed_again(db: Database) -> None:
    ann, item = ann_and_a_proposal(db)
    db.decide_review(item.id, accept=False)
    capture(db, letter(3, "Ann Lee <alee@initech.com>", "Another note."))
    found = owners(db)
    assert found["alee@initech.com"][0] != ann  # the policy created her namesake
    assert [r.state for r in db.reviews(None)] == ["rejected"]


def test_contacts_are_found_by_their_keys_as_they_change(db: Database) -> None:
    capture(
        db, letter(1, "Bob Smith <bob@acme.com>", signature("Bob Smith", "CFO", "Acme", MOBILE))
    )
    (bob, _) = owners(db)["bob@acme.com"]
    with db.engine.connect() as conn:
        keys = set(
            conn.execute(
                sa.select(contact_keys.c.key).where(contact_keys.c.contact_id == bob)
            ).scalars()
        )
    assert {"n:smith:bob", "n:smith:robert", "n:smith:r", "p:+14155550123", "d:acme.com"} <= keys
    db.set_contact_field(bob, "family_name", "Smythe")  # by hand: found by the new name
    with db.engine.connect() as conn:
        keys = set(
            conn.execute(
                sa.select(contact_keys.c.key).where(contact_keys.c.contact_id == bob)
            ).scalars()
        )
    assert "n:smythe:bob" in keys and "n:smith:bob" not in keys
    assert db.reindex_contacts() == 1


# From the first revision and from the last one before the keys existed.
@pytest.mark.parametrize("before", ["0011", "0013"])
def test_an_upgrade_gives_contacts_stored_before_it_their_keys(db: Database, before: str) -> None:
    signed = signature("Bob Smith", "CFO", "Acme", MOBILE)
    capture(db, letter(1, "Bob Smith <bob@acme.com>", signed))
    (bob, _) = owners(db)["bob@acme.com"]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with db.engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.downgrade(config, before)

    migrate(db.engine)

    with db.engine.connect() as conn:
        keys = set(
            conn.execute(
                sa.select(contact_keys.c.key).where(contact_keys.c.contact_id == bob)
            ).scalars()
        )
    assert {"n:smith:bob", "p:+14155550123", "d:acme.com"} <= keys


NOTICE = (
    "Thank you for your message. I have left Acme as of March 1st.\n"
    "You can reach me at Jane.Doe@globex.com from now on. For Acme matters please\n"
    "contact bob@acme.com.\n"
)


def test_a_departure_notice_makes_the_old_address_former_and_the_new_one_hers(
    db: Database,
) -> None:
    capture(db, letter(1, "Jane Doe <jane@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    (jane, _) = owners(db)["jane@acme.com"]
    top = max(c.id for c in settled_feed(db))
    auto = (("Auto-Submitted", "auto-replied"),)
    later = T0 + timedelta(days=40)
    capture(db, letter(2, "Jane Doe <jane@acme.com>", NOTICE, at=later, extra=auto))
    assert owners(db) == {
        "jane@acme.com": (jane, "former"),
        "jane.doe@globex.com": (jane, "current"),
    }
    assert origin(db, jane, "jane.doe@globex.com") == "notice:new-address"
    detail = db.get_contact(jane)
    assert detail is not None
    old = next(a for a in detail.addresses if a.email == "jane@acme.com")
    assert (old.status, old.status_reason) == ("former", "notice:left")
    assert [(j.domain, j.ended_reason) for j in detail.employments] == [
        ("acme.com", "notice:left"),
        ("globex.com", None),
    ]
    feed = {(c.entity, c.operation) for c in settled_feed(db, top)}
    assert {("contact", "update"), ("employment", "insert")} <= feed
    # Her next mail from Globex is hers by exact address; the colleague named is nobody's.
    capture(db, letter(3, "Jane Doe <jane.doe@globex.com>", "Hello from Globex.", at=later))
    assert db.counts()["contacts"] == 1


def test_an_out_of_office_reply_is_no_departure(db: Database) -> None:
    capture(db, letter(1, "Jane Doe <jane@acme.com>", signature("Jane Doe", "CFO", "Acme", MOBILE)))
    (jane, _) = owners(db)["jane@acme.com"]
    away = "I am out of the office until Monday with limited access to email.\n"
    capture(
        db, letter(2, "Jane Doe <jane@acme.com>", away, extra=(("Auto-Submitted", "auto-replied"),))
    )
    # A person writing (not an automatic reply) about someone else leaving is no notice either.
    told = "Tom has left Acme, so I am your contact now. Reach me at jane@acme.com.\n"
    capture(db, letter(3, "Jane Doe <jane@acme.com>", told))
    assert owners(db) == {"jane@acme.com": (jane, "current")}


def test_two_addresses_of_one_person_in_one_batch_make_one_contact(db: Database) -> None:
    capture(
        db,
        letter(1, "Bob Smith <bob@acme.com>", signature("Bob Smith", "CFO", "Acme", MOBILE)),
        letter(
            2,
            "Robert Smith <robert.smith@acme.com>",
            signature("Robert Smith", "CFO", "Acme", MOBILE),
        ),
        # Namesakes in the same batch stay apart: another mobile, another title.
        letter(
            3,
            "John Smith <jsmith@acme.com>",
            signature("John Smith", "AE", "Acme", "+1 415 555 0166"),
        ),
        letter(
            4,
            "John Smith <john.smith@acme.com>",
            signature("John Smith", "Engineer", "Acme", OTHER_MOBILE),
        ),
    )
    found = owners(db)
    (bob, _) = found["bob@acme.com"]
    assert found["robert.smith@acme.com"] == (bob, "current")
    assert found["jsmith@acme.com"][0] != found["john.smith@acme.com"][0]
    assert db.counts()["contacts"] == 3
    assert origin(db, bob, "robert.smith@acme.com") == (
        "scored:1.00:name 0.97 + same company domain + same mobile + same title"
        ":same-as=bob@acme.com"
    )
