"""Merging two contacts and undoing it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from connectors.contact_files import Card
from matcher.plan import Observation, Plan
from storage import Database, MergeRefused
from storage.schema import contact_emails, contacts, interaction_participants, merge_rows, merges
from tests.identity import CAROL, HOME, WORK, bob_plan, by_natural_keys, me
from tests.plans import T0, contact_of, mail, meeting, participants, person, settled_feed

AUDIT = ("merges", "merge_rows", "changes")


def test_merge_moves_everything_to_the_survivor(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.set_contact_field(home, "title", "VP Sales", owner="crm")
    after = len(settled_feed(db))
    done = db.merge_contacts(work, home, actor="alice", reason="same mobile")
    assert (done.survivor_id, done.merged_id, done.actor, done.reason) == (
        work,
        home,
        "alice",
        "same mobile",
    )
    assert db.get_contact(home) is None
    assert db.resolve_contact(home) == work
    assert db.directory().contact_ids([HOME, WORK]) == {HOME: work, WORK: work}
    kept = db.get_contact(work)
    assert kept is not None
    assert sorted(kept.emails) == [WORK, HOME]
    assert {f.field: (f.value, f.owner) for f in kept.fields if f.field in ("name", "title")} == {
        "name": ("Robert Smith", "observed"),  # the newest confident observation of the two
        "title": ("VP Sales", "crm"),  # the CRM's lock moved with its owner
    }
    meeting = participants(db, "ical:kickoff|")
    assert sorted(meeting) == sorted(
        [
            ("me@ourco.com", "organizer", None),
            (WORK, "attendee", work),
            (HOME, "attendee", work),
            (CAROL, "attendee", contact_of(db, CAROL)),
        ]
    )
    feed = [(c.entity, c.entity_id, c.operation, c.other_id) for c in settled_feed(db, after)]
    assert feed == [("contact", home, "merge", work), ("contact", work, "update", None)]


def test_unmerge_restores_every_row(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.set_contact_field(home, "title", "VP Sales", owner="crm")
    db.set_contact_field(work, "name", "Bob Smith (Acme)", owner="manual")
    before = by_natural_keys(db, AUDIT)
    merged = db.merge_contacts(work, home, actor="alice", reason="same person")
    assert by_natural_keys(db, AUDIT) != before
    after = len(settled_feed(db))
    undone = db.unmerge(contact_id=home, actor="bob")
    assert (undone.id, undone.undone_by) == (merged.id, "bob")
    assert by_natural_keys(db, AUDIT) == before
    feed = [(c.entity, c.entity_id, c.operation, c.other_id) for c in settled_feed(db, after)]
    assert feed == [("contact", home, "unmerge", work), ("contact", work, "update", None)]
    with pytest.raises(MergeRefused, match="undone already"):
        db.unmerge(merged.id, actor="bob")


def test_unmerge_gives_back_what_came_after(db: Database) -> None:
    """Mail from the merged-away address captured during the merge goes back with it."""
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.merge_contacts(work, home, actor="alice", reason="same person")
    later = Plan(
        account="alice",
        interactions=(
            mail(
                "h3@gmail",
                person(
                    HOME,
                    "from",
                    "link",
                    contact_id=home,
                    observations=(Observation("title", "Consultant", 0.9),),
                ),
                me(),
                at=T0 + timedelta(days=20),
            ),
        ),
    )
    db.apply(later, "INBOX", None)
    assert participants(db, "msgid:h3@gmail")[0] == (HOME, "from", work)  # the survivor
    db.unmerge(contact_id=home, actor="alice")
    assert participants(db, "msgid:h3@gmail")[0] == (HOME, "from", home)
    work_split, home_split = db.get_contact(work), db.get_contact(home)
    assert home_split is not None and home_split.value("title") == "Consultant"
    assert work_split is not None and work_split.value("title") == "Head of Sales"
    with db.engine.connect() as conn:
        seen = dict(conn.execute(sa.select(contacts.c.id, contacts.c.last_seen_at)).all())
    assert seen[home] == T0 + timedelta(days=20)
    assert seen[work] == T0 + timedelta(days=9)


def test_refusals(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home, carol = contact_of(db, WORK), contact_of(db, HOME), contact_of(db, CAROL)
    with pytest.raises(MergeRefused, match="with itself"):
        db.merge_contacts(work, work, actor="a", reason="r")
    with pytest.raises(MergeRefused, match="no contact 999"):
        db.merge_contacts(work, 999, actor="a", reason="r")
    first = db.merge_contacts(work, home, actor="a", reason="r")
    with pytest.raises(MergeRefused, match=f"contact {home} was merged into contact {work}"):
        db.merge_contacts(carol, home, actor="a", reason="r")
    second = db.merge_contacts(carol, work, actor="a", reason="r")
    assert db.resolve_contact(home) == carol  # through both merges
    with pytest.raises(MergeRefused, match=f"undo m{second.id} first"):
        db.unmerge(first.id, actor="a")
    db.unmerge(second.id, actor="a")
    db.unmerge(first.id, actor="a")
    assert db.resolve_contact(home) == home
    with db.engine.connect() as conn:
        owners = dict(
            conn.execute(sa.select(contact_emails.c.email, contact_emails.c.contact_id)).all()
        )
        linked = conn.execute(
            sa.select(sa.func.count()).where(interaction_participants.c.contact_id == home)
        ).scalar()
    assert owners == {WORK: work, HOME: home, CAROL: carol}
    assert linked == 3


def test_an_import_after_a_merge_reaches_the_survivor(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.merge_contacts(work, home, actor="alice", reason="same person")
    cards = [
        Card(2, (HOME,), (("title", "CRO"),)),
        Card(3, (WORK, HOME), (("company", "Acme Corp"),)),  # both are one contact now
    ]
    done = db.import_contacts(cards, {HOME: HOME, WORK: WORK})
    assert (done.created, done.updated, done.errors) == (0, 2, ())
    kept = db.get_contact(work)
    assert kept is not None
    assert (kept.value("title"), kept.value("company")) == ("CRO", "Acme Corp")
    assert [c.id for c in db.list_contacts()] == [work, contact_of(db, CAROL)]


def test_a_link_planned_before_a_merge_lands_on_the_survivor(db: Database) -> None:
    """A plan made against the directory before the merge links the merged-away id."""
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    scored = person("r.smith@smith.family", "from", "link", contact_id=home, rule="score:0.93")
    plan = Plan(account="alice", interactions=(mail("s1@family", scored, me()),))
    db.merge_contacts(work, home, actor="alice", reason="same person")
    result = db.apply(plan, "INBOX", None)
    assert result.new_contacts == 0
    assert participants(db, "msgid:s1@family")[0] == ("r.smith@smith.family", "from", work)
    assert db.directory().contact_ids(["r.smith@smith.family"]) == {"r.smith@smith.family": work}


def test_a_review_planned_before_a_merge_asks_about_the_survivor(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.merge_contacts(work, home, actor="alice", reason="same person")
    # Planned while ``home`` still stood: the review names it.
    proposal = person(
        "bsmith@acme.co.uk", "from", "skip", rule="review:0.75:name 1.00", contact_id=home
    )
    planned = Plan(account="alice", interactions=(mail("r1@acme", proposal, me()),))
    db.apply(planned, "INBOX", None)
    assert [(r.email, r.contact_id, r.score, r.state) for r in db.reviews()] == [
        ("bsmith@acme.co.uk", work, 0.75, "open")
    ]


def test_forgetting_a_merged_person_leaves_no_audit_of_them(db: Database) -> None:
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    db.merge_contacts(work, home, actor="alice", reason="same person")
    done = db.forget(contact_id=home)  # the merged-away id names the survivor
    assert done.contact_id == work
    with db.engine.connect() as conn:
        audit = [
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
            for t in (merges, merge_rows)
        ]
    assert audit == [0, 0]
    assert db.resolve_contact(home) is None


def test_one_observation_per_interaction_survives_whichever_came_first(db: Database) -> None:
    """Both people named in one meeting, equally sure: the merged contact keeps the smaller
    value, as a capture of the meeting after the merge would."""
    db.apply(bob_plan(), "INBOX", None)
    work, home = contact_of(db, WORK), contact_of(db, HOME)
    said = {WORK: "Smith, Bob", HOME: "Robert Smith"}
    seats = [
        person(e, "attendee", observations=(Observation("name", n, 0.6),)) for e, n in said.items()
    ]
    db.apply(Plan(account="alice", interactions=(meeting("review", 0, *seats),)), "INBOX", None)
    db.merge_contacts(work, home, actor="alice", reason="same person")
    (review,) = [i.id for i in db.list_interactions(limit=100) if i.identity == "ical:review|"]
    contact = db.get_contact(work)
    assert contact is not None
    kept = [
        (o.field, o.value, o.confidence)
        for o in contact.history
        if o.interaction_id == review and o.field == "name"
    ]
    assert kept == [("name", "Robert Smith", 0.6)]
