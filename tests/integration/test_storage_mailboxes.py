"""Addresses match by mailbox in storage: spellings kept as written, one contact per person."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from connectors.records import Message
from matcher import plan_batch
from storage import Database, open_database
from storage.engine import MIGRATIONS, WRITE, create_engine
from storage.schema import contact_emails, interaction_participants
from tests.builders import OWNER, mail, policy
from tests.plans import participants


def message(msgid: str, sender: str, to: str) -> Message:
    return replace(mail(("From", sender), ("To", to)), message_id=msgid)


def capture(db: Database, *messages: Message) -> None:
    """Each message as its own batch: lookups go through the stored directory."""
    for m in messages:
        db.apply(plan_batch([m], policy(), db.directory()), "INBOX", None)


def rows(db: Database) -> list[tuple[str, int, str]]:
    c = contact_emails.c
    with db.engine.connect() as conn:
        query = sa.select(c.email, c.contact_id, c.mailbox).order_by(c.email)
        return [tuple(r) for r in conn.execute(query)]


def test_spellings_of_one_gmail_mailbox_are_one_contact_kept_as_written(db: Database) -> None:
    capture(
        db,
        # He writes first; nothing is created until we answer (on_exchange).
        message("r1@gmail.com", "Robert Smith <Robert.Smith@gmail.com>", OWNER),
        message("o1@ourco.com", OWNER, "robertsmith+crm@googlemail.com"),
        message("r2@gmail.com", "Robert Smith <r.o.b.e.r.t.smith@gmail.com>", OWNER),
        # Another Gmail user whose name shares the letters but not the mailbox.
        message("s1@gmail.com", "Rob Smith <r.smith@gmail.com>", OWNER),
    )
    assert db.counts()["contacts"] == 1
    ((_, robert, _), *_) = rows(db)
    assert rows(db) == [
        ("r.o.b.e.r.t.smith@gmail.com", robert, "robertsmith@gmail.com"),
        ("robert.smith@gmail.com", robert, "robertsmith@gmail.com"),
        ("robertsmith+crm@googlemail.com", robert, "robertsmith@gmail.com"),
    ]
    # His first message, read before the contact existed, is linked to him too.
    assert participants(db, "msgid:r1@gmail.com") == [
        ("robert.smith@gmail.com", "from", robert),
        (OWNER, "to", None),
    ]
    assert participants(db, "msgid:s1@gmail.com") == [
        ("r.smith@gmail.com", "from", None),
        (OWNER, "to", None),
    ]
    assert db.directory().contact_ids(["robertsmith@gmail.com", "rsmith@gmail.com"]) == {
        "robertsmith@gmail.com": robert
    }
    contact = db.get_contact(robert)
    assert contact is not None
    assert contact.emails == (
        "r.o.b.e.r.t.smith@gmail.com",
        "robert.smith@gmail.com",
        "robertsmith+crm@googlemail.com",
    )


def test_a_tagged_address_at_an_unknown_domain_stays_its_own(db: Database) -> None:
    capture(
        db,
        message("a1@acme.com", "ann+eu@acme.com", OWNER),
        message("o1@ourco.com", OWNER, "ann@acme.com"),
        message("a2@acme.com", "ann@acme.com", OWNER),
    )
    (ann,) = {c for _, c, _ in rows(db)}
    assert rows(db) == [("ann@acme.com", ann, "ann@acme.com")]
    assert participants(db, "msgid:a1@acme.com") == [
        ("ann+eu@acme.com", "from", None),
        (OWNER, "to", None),
    ]


def _at_revision(url: str, revision: str) -> sa.Engine:
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return engine


def test_migration_keys_existing_rows_and_merges_evidence(db_url: str, tmp_path: Path) -> None:
    engine = _at_revision(db_url, "0003")
    now = "2026-11-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO contacts (id, created_rule, created_at, updated_at)"
                " VALUES (1, 'policy:person:on_exchange', :t, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            sa.text("INSERT INTO contact_emails (email, contact_id) VALUES (:e, 1)"),
            [{"e": "robert.smith@gmail.com"}, {"e": "bob+x@acme.com"}],
        )
        conn.execute(
            sa.text(
                "INSERT INTO address_evidence (email, sent_to, received_from, met)"
                " VALUES (:e, :s, :r, false)"
            ),
            [
                {"e": "robert.smith@gmail.com", "s": False, "r": True},
                {"e": "robertsmith+crm@googlemail.com", "s": True, "r": False},
                {"e": "bob+x@acme.com", "s": True, "r": False},
            ],
        )
    engine.dispose()
    database = open_database(db_url)
    assert rows(database) == [
        ("bob+x@acme.com", 1, "bob+x@acme.com"),
        ("robert.smith@gmail.com", 1, "robertsmith@gmail.com"),
    ]
    evidence = database.directory().evidence(
        ["robertsmith@gmail.com", "robert.smith@gmail.com", "bob+x@acme.com"]
    )
    assert {k: (e.sent_to, e.received_from) for k, e in evidence.items()} == {
        "robertsmith@gmail.com": (True, True),
        "bob+x@acme.com": (True, False),
    }
    with database.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(interaction_participants)).scalar()
            == 0
        )
    database.close()
