"""storage.apply on SQLite and PostgreSQL: idempotency, identities, contacts, atomicity.

Plans are built by hand (they are plain frozen dataclasses). The builders at
the top are shared by the other ``test_storage_*`` modules.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
import sqlalchemy as sa

from connectors.records import SourceRef
from matcher.plan import Evidence, Observation, Plan
from storage import ApplyResult, Database, StorageError, open_database
from storage.schema_types import Base
from tests.plans import contact_of, first_batch, mail, meeting, participants, person, snapshot


def test_apply_stores_exactly_the_plan(db: Database) -> None:
    result = db.apply(first_batch(), "INBOX", {"uid": 3})
    assert result == ApplyResult(new_contacts=3, new_interactions=3, new_sources=3, errors=1)
    assert db.counts() == {"contacts": 3, "interactions": 3, "sources": 3, "errors": 1}
    carol, dan = contact_of(db, "carol@acme.com"), contact_of(db, "dan@acme.com")
    assert participants(db, "msgid:m2@x") == [
        ("dan@acme.com", "cc", dan),
        ("alice@us.com", "from", None),
        ("carol@acme.com", "to", carol),
    ]
    detail = db.get_contact(carol)
    assert detail is not None
    assert detail.emails == ("carol@acme.com",)
    assert detail.value("name") == "Carol Diaz"
    assert (detail.company_name, detail.company_domains) == ("acme.com", ("acme.com",))
    assert detail.created_rule == "policy:on_exchange"
    assert db.get_contact(dan).company_id == detail.company_id  # type: ignore[union-attr]
    assert db.directory().contact_ids(["noreply@shop.com", "alice@us.com"]) == {}
    assert db.load_cursor("alice", "INBOX") == {"uid": 3}


def test_replay_changes_nothing_and_reports_zeros(db: Database) -> None:
    db.apply(first_batch(), "INBOX", {"uid": 3})
    before = snapshot(db, skip=("sync_cursors", "ingest_errors"))
    again = db.apply(first_batch(), "INBOX", {"uid": 3})
    assert again == ApplyResult()
    assert snapshot(db, skip=("sync_cursors", "ingest_errors")) == before
    (error,) = db.list_errors("alice")
    # A repeat sighting of a bad item is counted, not duplicated.
    assert (error.reason, error.provider_id, error.count) == ("header-too-large", "INBOX/9", 2)
    assert error.last_seen > error.first_seen


def test_same_message_in_two_accounts_is_one_interaction_two_sources(db: Database) -> None:
    sent = mail(
        "shared@x",
        person("alice@us.com", "from", "skip", rule="owner"),
        person("carol@acme.com", "to"),
        direction="outbound",
        stream="Sent",
    )
    received = replace(sent, source=SourceRef("bob", "INBOX", "INBOX/17"), direction="inbound")
    first = db.apply(Plan("alice", (sent,)), "Sent", {"uid": 1})
    second = db.apply(Plan("bob", (received,)), "INBOX", {"uid": 17})
    assert first == ApplyResult(new_contacts=1, new_interactions=1, new_sources=1)
    assert second == ApplyResult(new_sources=1)
    (view,) = db.list_interactions()
    assert [(s.account, s.provider_id) for s in view.sources] == [
        ("alice", "Sent/shared@x"),
        ("bob", "INBOX/17"),
    ]
    assert db.counts() == {"contacts": 1, "interactions": 1, "sources": 2, "errors": 0}
    assert db.load_cursor("bob", "INBOX") == {"uid": 17}
    assert db.load_cursor("alice", "Sent") == {"uid": 1}


def test_same_email_created_twice_in_one_batch_is_one_contact(db: Database) -> None:
    plan = Plan(
        "alice",
        (
            mail("a@x", person("zoe@acme.com", "from")),
            mail("b@x", person("zoe@acme.com", "cc"), person("zoe@acme.com", "cc")),
        ),
    )
    assert db.apply(plan, "INBOX", None).new_contacts == 1
    zoe = contact_of(db, "zoe@acme.com")
    assert participants(db, "msgid:a@x") == [("zoe@acme.com", "from", zoe)]
    assert participants(db, "msgid:b@x") == [("zoe@acme.com", "cc", zoe)]
    assert db.load_cursor("alice", "INBOX") is None


def test_creation_links_earlier_rows_whatever_the_arrival_order(db_url: str) -> None:
    early = Plan("alice", (mail("1@x", person("fay@acme.com", "cc", "skip", rule="policy")),))
    late = Plan("alice", (mail("2@x", person("fay@acme.com", "from")),))
    linked: list[list[tuple[str, str, int | None]]] = []
    for order in ((early, late), (late, early)):
        database = open_database(db_url)
        with database.engine.begin() as conn:  # a fresh schema for the second order
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(sa.delete(table))
        for plan in order:
            database.apply(plan, "INBOX", None)
        fay = contact_of(database, "fay@acme.com")
        rows = participants(database, "msgid:1@x") + participants(database, "msgid:2@x")
        assert rows == [("fay@acme.com", "cc", fay), ("fay@acme.com", "from", fay)]
        linked.append([(e, r, 1 if c else 0) for e, r, c in rows])
        database.close()
    assert linked[0] == linked[1]


def test_link_decisions(db: Database) -> None:
    db.apply(Plan("alice", (mail("1@x", person("gus@acme.com", "from")),)), "INBOX", None)
    gus = contact_of(db, "gus@acme.com")
    plan = Plan(
        "alice",
        (
            mail(
                "2@x",
                person("gus@acme.com", "from", "link", rule="exact-email", contact_id=gus),
                # A scored link: the new address becomes the contact's second one.
                person("g.smith@acme.com", "cc", "link", rule="name+domain", contact_id=gus),
                # A link to a contact that no longer exists must not fail the batch.
                person("hal@acme.com", "to", "link", rule="exact-email", contact_id=999_999),
            ),
        ),
    )
    assert db.apply(plan, "INBOX", None).new_contacts == 1
    hal = contact_of(db, "hal@acme.com")
    assert db.directory().contact_ids(["gus@acme.com", "g.smith@acme.com"]) == {
        "gus@acme.com": gus,
        "g.smith@acme.com": gus,
    }
    assert participants(db, "msgid:2@x") == [
        ("g.smith@acme.com", "cc", gus),
        ("gus@acme.com", "from", gus),
        ("hal@acme.com", "to", hal),
    ]
    assert db.get_contact(gus).emails == ("g.smith@acme.com", "gus@acme.com")  # type: ignore[union-attr]


def test_failed_apply_moves_no_cursor_and_leaves_no_data(db: Database) -> None:
    db.apply(first_batch(), "INBOX", {"uid": 3})
    before = snapshot(db)
    # confidence None violates NOT NULL late in the transaction, after the
    # interaction, its source, the contact and the company were written.
    broken = Observation("title", "CTO", None)  # type: ignore[arg-type]
    plan = Plan(
        "alice",
        (
            mail(
                "4@x",
                person("ivy@newco.io", "from", observations=(broken,), company_domain="newco.io"),
            ),
        ),
    )
    with pytest.raises(StorageError) as failure:
        db.apply(plan, "INBOX", {"uid": 4})
    assert "contact_observations" in str(failure.value)
    assert "CTO" not in str(failure.value)  # values stay out of messages and logs
    assert failure.value.__cause__ is None and not failure.value.transient
    assert db.load_cursor("alice", "INBOX") == {"uid": 3}
    assert snapshot(db) == before
    assert db.directory().contact_ids(["ivy@newco.io"]) == {}


def test_directory_reads_contacts_and_evidence(db: Database) -> None:
    db.apply(first_batch(), "INBOX", None)
    plan = Plan("alice", (meeting("k1", 0, person("eve@gmail.com", "attendee", "skip")),))
    db.apply(plan, "calendar", None)
    directory = db.directory()
    assert directory.evidence(["carol@acme.com", "dan@acme.com", "eve@gmail.com", "x@y.z"]) == {
        "carol@acme.com": Evidence(sent_to=True, received_from=True),
        "dan@acme.com": Evidence(sent_to=True),
        "eve@gmail.com": Evidence(met=True),
    }
    many = [f"p{i}@bulk.com" for i in range(2500)] + ["carol@acme.com"]
    assert directory.contact_ids(many) == {"carol@acme.com": contact_of(db, "carol@acme.com")}


def test_hostile_values_are_stored_not_fatal(db: Database) -> None:
    long_uid = "u" * 5000
    plan = Plan(
        "alice",
        (
            mail("nul@x", person("kim@acme.com", "from", name="K\x00im\udcff"), subject="a\x00b"),
            replace(
                meeting(long_uid, 0, person("kim@acme.com", "attendee")),
                source=SourceRef("alice", "calendar", "p" * 5000),
            ),
            mail("big@x", person("x" * 400 + "@acme.com", "from")),
        ),
    )
    result = db.apply(plan, "INBOX", None)
    assert result == ApplyResult(new_contacts=1, new_interactions=3, new_sources=3)
    assert db.apply(plan, "INBOX", None) == ApplyResult()
    stored = {i.identity: i for i in db.list_interactions()}
    assert stored["msgid:nul@x"].subject == "ab"
    (hashed,) = [key for key in stored if key.startswith("sha256:")]
    assert len(hashed) == len("sha256:") + 64
    assert [s.provider_id[:7] for s in stored[hashed].sources] == ["sha256:"]
    assert participants(db, "msgid:big@x") == []  # 400 characters is no address
    kim = contact_of(db, "kim@acme.com")
    (row,) = stored["msgid:nul@x"].participants
    assert (row.email, row.name, row.contact_id) == ("kim@acme.com", "Kim?", kim)
