"""The matcher alone on the shipped sample archive, against tests/sample_expected.py.

The end-to-end test runs the same archive through storage; this one keeps
storage out (an InMemoryDirectory absorbs each plan), so a wrong contact set
points at the matcher. Both accounts share one directory, as they share one
database.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.archive.connector import ArchiveConnector
from connectors.base import Limits, Window
from connectors.records import When
from matcher import InMemoryDirectory, plan_batch
from matcher.plan import AccountPolicy, Blocklist, Plan
from tests import sample_expected as want

ARCHIVE = Path(__file__).resolve().parents[2] / "examples" / "sample-archive"
ACCOUNTS = {
    "alice": (("alice/mail.mbox", "alice/calendar"), "full"),
    "bob": (("bob/Maildir", "bob/invites"), "subject"),
}
WINDOW = Window(datetime(2016, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))


def policy(account: str, person: When) -> AccountPolicy:
    base = AccountPolicy(
        account=account,
        owner_addresses=frozenset({want.OWNERS[account]}),
        org_domains=frozenset({want.ORG_DOMAIN}),
        privacy=ACCOUNTS[account][1],  # type: ignore[arg-type]
        blocklist=Blocklist(domains=frozenset({"competitor.example"})),
    )
    return replace(base, creation={**base.creation, "person": person})


def capture(person: When) -> tuple[InMemoryDirectory, list[Plan]]:
    directory = InMemoryDirectory()
    plans: list[Plan] = []
    for account, (paths, _) in ACCOUNTS.items():
        connector = ArchiveConnector(account, [ARCHIVE / p for p in paths], WINDOW, Limits())
        for stream in connector.streams():
            cursor = None
            while True:
                batch = connector.fetch(stream, cursor, 40)
                plan = plan_batch(batch.records, policy(account, person), directory, batch.errors)
                directory.absorb(plan)
                plans.append(plan)
                cursor = batch.next_cursor
                if not batch.has_more:
                    break
    return directory, plans


EXPECTED = {
    "on_exchange": set(want.EXPECTED_CONTACTS),
    "on_sent": (set(want.EXPECTED_CONTACTS) - want.MEETING_ONLY_CONTACTS)
    | set(want.EXPECTED_EXTRA_UNDER_ON_SENT),
    "always": set(want.EXPECTED_CONTACTS) | set(want.EXPECTED_EXTRA_UNDER_ALWAYS),
}


@pytest.mark.skipif(not ARCHIVE.is_dir(), reason="sample archive not generated")
@pytest.mark.parametrize("person", ["on_exchange", "on_sent", "always"])
def test_sample_archive_contacts_names_and_companies(person: When) -> None:
    directory, plans = capture(person)
    assert set(directory.contacts) == EXPECTED[person]
    known = {**want.EXPECTED_CONTACTS, **want.EXPECTED_EXTRA_UNDER_ALWAYS}
    seen: dict[str, set[tuple[str, str | None]]] = {}
    for plan in plans:
        for interaction in plan.interactions:
            for p in interaction.participants:
                if p.decision == "skip":
                    continue
                fields = {o.field: o.value for o in p.observations}
                seen.setdefault(p.email, set()).add(
                    (fields.get("name", ""), (fields.get("company") or "").lower())
                )
                assert p.company_domain == known[p.email].company_domain, p.email
    for email in EXPECTED[person]:
        expected = known[email]
        assert seen[email] == {(expected.name, (expected.company or "").lower())}, email
