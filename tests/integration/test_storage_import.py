"""Contacts seeded from a CRM export, on SQLite and PostgreSQL: crm locks, idempotent, no duplicates."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from connectors.contact_files import CardError, read_csv, read_vcards
from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database, Imported
from storage.schema import contact_field_locks
from tests.builders import OWNER, mail, policy
from tests.crm_files import csv_and_vcards, imported
from tests.plans import contact_of, settled_feed, snapshot

CSV = (
    "First Name,Last Name,Company,Job Title,E-mail Address,E-mail 2 Address\n"
    "Ann,Lee,Acme,CFO,ann.lee@acme.com,\n"
    "Bob,Smith,Smith & Co,Founder,Robert.Smith@gmail.com,bob@smithco.example\n"
    "Cy,Park,Acme,,,\n"
)


def capture(db: Database, *messages: Message) -> None:
    db.apply(plan_batch(list(messages), policy("always"), db.directory()), "INBOX", None)


def message(n: int, sender: str, text: str | None = None) -> Message:
    m = mail(("From", sender), ("To", OWNER), message_id=f"m{n}@x", text=text)
    return replace(m, source=SourceRef("acct", "INBOX", str(n)))


def test_import_creates_locks_and_a_second_import_changes_nothing(db: Database) -> None:
    first = imported(db, list(read_csv(CSV)))
    assert first == Imported(2, 0, 0, (CardError(4, "no-email", "no email address"),))
    bob = contact_of(db, "robertsmith@gmail.com")
    detail = db.get_contact(bob)
    assert detail is not None
    assert detail.emails == ("bob@smithco.example", "robert.smith@gmail.com")
    assert detail.created_rule == "import:crm"
    assert [(f.field, f.value, f.owner) for f in detail.fields] == [
        ("given_name", "Bob", "crm"),
        ("family_name", "Smith", "crm"),
        ("title", "Founder", "crm"),
        ("company", "Smith & Co", "crm"),
    ]
    before, top = snapshot(db), max(c.id for c in settled_feed(db))

    again = imported(db, list(read_csv(CSV)))

    assert again == Imported(0, 0, 2, (CardError(4, "no-email", "no email address"),))
    assert snapshot(db) == before
    assert settled_feed(db, top) == []
    # The CRM changed Ann's title: one update, still crm-owned.
    changed = imported(db, list(read_csv(CSV.replace("CFO", "CEO"))))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    ann = db.get_contact(contact_of(db, "ann.lee@acme.com"))
    assert ann is not None and ("title", "CEO", "crm") in [
        (f.field, f.value, f.owner) for f in ann.fields
    ]


def test_captured_mail_links_to_imported_contacts_and_keeps_crm_fields(db: Database) -> None:
    imported(db, list(read_csv(CSV)))
    bob = contact_of(db, "robertsmith@gmail.com")
    signed = "Thanks!\n\nBobby Smith\nCEO, Smith & Co\n"
    capture(db, message(1, "Bobby <r.o.b.e.r.t.smith+news@gmail.com>", signed))
    assert db.counts()["contacts"] == 2
    detail = db.get_contact(bob)
    assert detail is not None
    assert "r.o.b.e.r.t.smith+news@gmail.com" in detail.emails
    assert detail.value("title") == "Founder"  # the CRM owns it; the signature is history
    assert ("title", "CEO") in {(o.field, o.value) for o in detail.history}


def test_a_card_spanning_two_contacts_is_reported_not_merged(db: Database) -> None:
    imported(db, list(read_csv(CSV)))
    ann, bob = contact_of(db, "ann.lee@acme.com"), contact_of(db, "robertsmith@gmail.com")
    both = "Name,Email\nAnn Bob,ann.lee@acme.com; bob@smithco.example\n"
    assert imported(db, list(read_csv(both))).errors == (
        CardError(2, "ambiguous", f"its addresses are contacts {min(ann, bob)}, {max(ann, bob)}"),
    )


def people(n: int) -> list[tuple[str, str, str]]:
    """(given, family, address): every third at Gmail, written with dots."""
    return [
        (
            f"Given{i}",
            f"Family{i}",
            f"given.family{i}@gmail.com" if i % 3 == 0 else f"p{i}@co{i % 7}.example",
        )
        for i in range(n)
    ]


def test_csv_and_vcard_of_the_same_500_then_their_mail_give_no_duplicate(db: Database) -> None:
    crowd = people(500)
    csv_text, vcf_text = csv_and_vcards(crowd)
    assert imported(db, list(read_csv(csv_text))).created == 500
    second = imported(db, list(read_vcards(vcf_text)))
    assert (second.created, second.errors) == (0, ())
    # Their mail: Gmail users write without dots and with tags.
    written = [
        e.replace(".", "", 1).replace("@", "+crm@") if "gmail" in e else e for _, _, e in crowd
    ]
    capture(
        db,
        *(
            message(i, f"{g} {f} <{e}>")
            for i, ((g, f, _), e) in enumerate(zip(crowd, written, strict=True))
        ),
    )
    assert db.counts()["contacts"] == 500
    with db.engine.connect() as conn:
        owners = conn.execute(
            sa.select(sa.func.count(sa.distinct(contact_field_locks.c.contact_id)))
        ).scalar()
    assert owners == 500
