"""``dedupe --scan`` over stored contacts, on SQLite and PostgreSQL."""

from __future__ import annotations

from matcher.plan import Thresholds
from storage import Database, dedupe
from storage.dedupe import CHUNK, ScanCounts
from tests.identity import namesakes_plan
from tests.plans import contact_of


def scan(db: Database, size: int = CHUNK) -> tuple[list[tuple[str, str, str, float]], ScanCounts]:
    """The pairs by first email; ``size``: contacts (and block members) read at a time."""
    counts = ScanCounts()
    emails = {c.id: c.emails[0] for c in db.list_contacts(limit=100)}
    with db.engine.connect() as conn:
        pairs = list(dedupe.scan(conn, Thresholds(), counts, size))
    return [(emails[d.first], emails[d.second], d.outcome, d.score) for d in pairs], counts


def test_scan_finds_the_same_person_and_leaves_namesakes(db: Database) -> None:
    db.apply(namesakes_plan(), "INBOX", None)
    found, counts = scan(db)
    # Bob's work addresses share a name and a mobile; the John Smiths share a name
    # and a company, which only a person can settle; father and son never pair up.
    assert found == [
        ("bob.smith@acme.com", "robert.smith@acme.co.uk", "review", 0.83),
        ("john.smith@initech.com", "j.smith@initech.com", "review", 0.75),
    ]
    assert (counts.contacts, counts.pairs, counts.oversized) == (7, 2, [])
    assert scan(db, size=2)[0] == found  # read two at a time: the same pairs


def test_a_separated_pair_is_not_proposed_again(db: Database) -> None:
    db.apply(namesakes_plan(), "INBOX", None)
    john, other = contact_of(db, "john.smith@initech.com"), contact_of(db, "j.smith@initech.com")
    db.merge_contacts(john, other, actor="ann", reason="looked alike")
    db.unmerge(contact_id=other, actor="ann")
    found, _ = scan(db)
    assert found == [("bob.smith@acme.com", "robert.smith@acme.co.uk", "review", 0.83)]
