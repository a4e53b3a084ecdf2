"""Meetings in storage: the SEQUENCE rule, removal at the source, and revival."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from connectors.records import SourceRef
from matcher.plan import Plan
from storage import ApplyResult, Database
from tests.plans import T0, contact_of, meeting, person, settled_feed, snapshot


def attendees(db: Database) -> list[tuple[str, str, str | None]]:
    (view,) = db.list_interactions()
    return [(p.email, p.role, p.response_status) for p in view.participants]


def kickoff(sequence: int, start_hours: int, *answers: tuple[str, str]) -> Plan:
    people = [person("org@acme.com", "organizer", response_status="ACCEPTED")]
    people += [person(email, "attendee", response_status=answer) for email, answer in answers]
    start = T0 + timedelta(hours=start_hours)
    return Plan("alice", (meeting("kick", sequence, *people, start=start),))


def test_later_sequence_replaces_and_older_changes_nothing(db: Database) -> None:
    first = kickoff(0, 0, ("ann@acme.com", "NEEDS-ACTION"), ("ben@acme.com", "NEEDS-ACTION"))
    assert db.apply(first, "calendar", {"token": "1"}).new_interactions == 1
    moved = kickoff(2, 3, ("ann@acme.com", "ACCEPTED"))  # moved, Ben uninvited
    assert db.apply(moved, "calendar", {"token": "2"}) == ApplyResult(updated_interactions=1)
    (view,) = db.list_interactions()
    assert (view.occurred_at, view.sequence, view.status) == (
        T0 + timedelta(hours=3),
        2,
        "confirmed",
    )
    assert attendees(db) == [
        ("ann@acme.com", "attendee", "ACCEPTED"),
        ("org@acme.com", "organizer", "ACCEPTED"),
    ]
    settled = snapshot(db, skip=("sync_cursors",))
    stale = kickoff(1, 6, ("ann@acme.com", "DECLINED"), ("cy@acme.com", "NEEDS-ACTION"))
    assert db.apply(stale, "calendar", {"token": "3"}) == ApplyResult()
    assert db.apply(moved, "calendar", {"token": "4"}) == ApplyResult()  # same SEQUENCE replayed
    assert snapshot(db, skip=("sync_cursors",)) == settled
    assert db.directory().contact_ids(["cy@acme.com"]) == {}  # a stale version creates no one
    # Ben's row went with his invitation, but he stays a contact: he was met.
    assert contact_of(db, "ben@acme.com") > 0


def test_equal_sequence_with_new_answers_replaces(db: Database) -> None:
    db.apply(kickoff(1, 0, ("ann@acme.com", "NEEDS-ACTION")), "calendar", None)
    answered = kickoff(1, 0, ("ann@acme.com", "TENTATIVE"))
    assert db.apply(answered, "calendar", None) == ApplyResult(updated_interactions=1)
    assert attendees(db)[0] == ("ann@acme.com", "attendee", "TENTATIVE")
    changes = [(c.entity, c.operation) for c in settled_feed(db)]
    assert changes.count(("interaction", "update")) == 1


def test_highest_sequence_wins_inside_one_batch(db: Database) -> None:
    newer, older = kickoff(5, 2), kickoff(4, 9)
    both = Plan("alice", (newer.interactions[0], older.interactions[0]))
    assert db.apply(both, "calendar", None) == ApplyResult(
        new_contacts=1, new_interactions=1, new_sources=1
    )
    (view,) = db.list_interactions()
    assert (view.sequence, view.occurred_at) == (5, T0 + timedelta(hours=2))


def test_cancelled_meeting_keeps_its_row_with_the_new_status(db: Database) -> None:
    db.apply(kickoff(0, 0, ("ann@acme.com", "ACCEPTED")), "calendar", None)
    cancelled = replace(
        kickoff(1, 0, ("ann@acme.com", "ACCEPTED")).interactions[0], status="cancelled"
    )
    assert db.apply(Plan("alice", (cancelled,)), "calendar", None).updated_interactions == 1
    assert db.list_interactions()[0].status == "cancelled"


def test_removed_at_every_source_becomes_removed(db: Database) -> None:
    plan = kickoff(0, 0, ("ann@acme.com", "ACCEPTED"))
    at_alice = plan.interactions[0]
    at_bob = replace(at_alice, source=SourceRef("bob", "calendar", "bob/kick.ics"))
    db.apply(plan, "calendar", None)
    db.apply(Plan("bob", (at_bob,)), "calendar", None)
    gone_at_alice = Plan("alice", removed=(at_alice.source,))
    assert db.apply(gone_at_alice, "calendar", {"token": "9"}) == ApplyResult()
    (view,) = db.list_interactions()
    assert view.status == "confirmed"  # Bob still has it
    assert [(s.account, s.removed) for s in view.sources] == [("alice", True), ("bob", False)]
    result = db.apply(Plan("bob", removed=(at_bob.source,)), "calendar", None)
    assert result == ApplyResult(removed_interactions=1)
    (view,) = db.list_interactions()
    assert view.status == "removed"
    iid = view.id
    assert [(c.entity, c.entity_id, c.operation) for c in settled_feed(db)][-1] == (
        "interaction",
        iid,
        "delete",
    )
    # Removing again, or an unknown copy, changes nothing.
    unknown = SourceRef("bob", "calendar", "never-seen.ics")
    assert (
        db.apply(Plan("bob", removed=(at_bob.source, unknown)), "calendar", None) == ApplyResult()
    )


def test_a_removed_meeting_seen_again_is_live_again(db: Database) -> None:
    plan = kickoff(0, 0, ("ann@acme.com", "ACCEPTED"))
    db.apply(plan, "calendar", None)
    db.apply(Plan("alice", removed=(plan.interactions[0].source,)), "calendar", None)
    assert db.list_interactions()[0].status == "removed"
    assert db.apply(plan, "calendar", None).updated_interactions == 1
    (view,) = db.list_interactions()
    assert view.status == "confirmed"
    assert [(s.account, s.removed) for s in view.sources] == [("alice", False)]
