"""The whole capture, end to end on the shipped sample archive.

Every expectation comes from tests/sample_expected.py, worked out by hand
from the archive; the capture runs the real agent pass (archive connector,
matcher, storage) on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from storage import schema as t
from tests import sample_expected as want
from tests.e2e.sample import EXAMPLES, capture, contact_emails, snapshot


def test_contacts_are_exactly_those_a_careful_person_would_create(captured: Any) -> None:
    assert contact_emails(captured.engine) == set(want.EXPECTED_CONTACTS)
    for email, expected in want.EXPECTED_CONTACTS.items():
        [summary] = captured.search_contacts(email)
        assert summary.emails == (email,)  # casing variants folded into one address
        detail = captured.get_contact(summary.id)
        assert detail.value("name") == expected.name, email
        assert (detail.company_name or "").lower() == (expected.company or "").lower(), email
        assert detail.company_domains == (expected.company_domain,), email


def test_never_contacts_are_never_created(captured: Any) -> None:
    assert not contact_emails(captured.engine) & set(want.NEVER_CONTACTS)
    with captured.engine.connect() as conn:
        linked = set(
            conn.scalars(
                sa.select(t.interaction_participants.c.email).where(
                    t.interaction_participants.c.contact_id.is_not(None)
                )
            )
        )
        blocked = set(
            conn.scalars(
                sa.select(t.interaction_participants.c.email).where(
                    t.interaction_participants.c.email.like("%@competitor.example")
                )
            )
        )
    assert linked == set(want.EXPECTED_CONTACTS)
    assert blocked == set()  # a blocklisted address is not even a participant


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        ("always", {**want.EXPECTED_CONTACTS, **want.EXPECTED_EXTRA_UNDER_ALWAYS}),
        (
            "on_sent",
            {
                **{
                    k: v
                    for k, v in want.EXPECTED_CONTACTS.items()
                    if k not in want.MEETING_ONLY_CONTACTS
                },
                **want.EXPECTED_EXTRA_UNDER_ON_SENT,
            },
        ),
        ("never", {}),
    ],
)
def test_creation_policy_modes(sqlite_url: str, person: str, expected: dict[str, Any]) -> None:
    db, _ = capture(sqlite_url, person)
    assert contact_emails(db.engine) == set(expected)
    # The cold mail's sender exists only under "always".
    assert ("daniel.osei@bluefin-analytics.example" in expected) == (person == "always")


def _interactions(db: Any, kind: str) -> list[Any]:
    i = t.interactions
    with db.engine.connect() as conn:
        return list(conn.execute(sa.select(i).where(i.c.kind == kind)))


def _sources_by_identity(db: Any) -> dict[str, set[tuple[str, str]]]:
    i, s, a = t.interactions, t.interaction_sources, t.accounts
    found: dict[str, set[tuple[str, str]]] = {}
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.select(i.c.identity, a.c.name, s.c.provider_id)
            .join(s, s.c.interaction_id == i.c.id)
            .join(a, a.c.id == s.c.account_id)
        )
        for identity, account, provider_id in rows:
            found.setdefault(identity, set()).add((account, provider_id))
    return found


def test_email_interactions_and_their_copies(captured: Any) -> None:
    emails = _interactions(captured, "email")
    assert len(emails) == want.EXPECTED_INTERACTIONS.emails
    sources = _sources_by_identity(captured)
    assert sum(len(sources[r.identity]) for r in emails) == want.EXPECTED_INTERACTIONS.email_sources
    for message_id in want.SHARED_MESSAGE_IDS:
        copies = sources[f"msgid:{message_id}"]
        assert sorted(account for account, _ in copies) == ["alice", "bob"], message_id
    for message_id in want.CAPTURED_DESPITE_LIMITS:
        assert f"msgid:{message_id}" in sources


def test_meetings_one_interaction_per_occurrence(captured: Any) -> None:
    meetings = _interactions(captured, "meeting")
    expected = want.EXPECTED_INTERACTIONS
    assert len(meetings) == expected.meeting_occurrences
    assert len({m.identity.split("|")[0] for m in meetings}) == expected.meetings
    cancelled = {m.identity for m in meetings if m.status == "cancelled"}
    assert cancelled == {
        f"ical:{uid}|{rid.strftime('%Y%m%dT%H%M%SZ') if rid else ''}"
        for uid, rid in want.CANCELLED_OCCURRENCES
    }
    weekly = sorted(
        m.occurred_at for m in meetings if m.identity.startswith(f"ical:{want.WEEKLY_SYNC_UID}|")
    )
    assert tuple(weekly) == want.WEEKLY_SYNC_STARTS
    uid, start, end = want.BERLIN_WORKSHOP
    [berlin] = [m for m in meetings if m.identity == f"ical:{uid}|"]
    assert (berlin.occurred_at, berlin.ended_at) == (start, end)
    # Every occurrence is tied to the calendar copy it came from.
    sources = _sources_by_identity(captured)
    assert all(sources.get(m.identity) for m in meetings)


def test_later_sequence_replaces_earlier_without_duplicate(captured: Any) -> None:
    update = want.UPDATED_MEETING
    rows = [
        m
        for m in _interactions(captured, "meeting")
        if m.identity.startswith(f"ical:{update.uid}|")
    ]
    assert [(r.sequence, r.occurred_at, r.ended_at) for r in rows] == [
        (update.sequence, update.start, update.end)
    ]


def test_meeting_participants_exclude_rooms(captured: Any) -> None:
    p, i = t.interaction_participants, t.interactions
    with captured.engine.connect() as conn:
        roles = {
            (r.email, r.role)
            for r in conn.execute(
                sa.select(p.c.email, p.c.role)
                .join(i, i.c.id == p.c.interaction_id)
                .where(i.c.kind == "meeting")
            )
        }
    emails = {e for e, _ in roles}
    assert "boardroom@northwind-labs.example" not in emails
    assert "projector-2@northwind-labs.example" not in emails
    assert {r for _, r in roles} == {"organizer", "attendee"}
    assert "lena.fischer@initech.example" in emails


def test_malformed_items_land_in_the_error_table(captured: Any) -> None:
    archive = EXAMPLES / "sample-archive"
    found = sorted(
        (str(Path(e.stream).relative_to(archive)), e.provider_id, e.reason)
        for e in captured.list_errors()
    )
    assert len(found) == len(want.EXPECTED_ERRORS)
    unmatched = dict(want.EXPECTED_ERRORS)
    for stream, provider_id, reason in found:
        match = next(
            key
            for key, wanted in unmatched.items()
            if (key[0] == stream or key[0].startswith(stream + "/"))
            and wanted in reason
            and (key[0] == stream or provider_id.endswith(Path(key[0]).name))
        )
        del unmatched[match]
    assert unmatched == {}


def test_second_capture_changes_nothing(db_url: str) -> None:
    db, _ = capture(db_url)
    before = snapshot(db.engine)
    db2, reports = capture(db_url)
    assert [(r.new_contacts, r.new_interactions) for r in reports] == [(0, 0), (0, 0)]
    assert snapshot(db2.engine) == before
