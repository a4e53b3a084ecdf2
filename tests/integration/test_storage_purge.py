"""Purge: the blocklist applied to what was captured before it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from connectors.records import Message, SourceRef
from matcher import plan_batch
from matcher.plan import Blocklist, Plan
from storage import Database, Purged
from tests import plans
from tests.builders import OWNER, mail, meeting, person, policy
from tests.plans import T0, contact_of, participants, settled_feed, snapshot

CAROL = "carol@acme.com"
VICTOR = "victor.crane@competitor.example"
BLOCKED = Blocklist(
    addresses=frozenset({"ceo.private@gmail.com"}), domains=frozenset({"competitor.example"})
)


def message(msgid: str, hours: int, *headers: tuple[str, str]) -> Message:
    m = mail(*headers, message_id=msgid)
    return Message(
        source=SourceRef("acct", "INBOX", msgid),
        message_id=msgid,
        date=T0 + timedelta(hours=hours),
        subject=f"About {msgid}",
        headers=m.headers,
    )


def mailbox() -> list[Message | object]:
    return [
        message("v1@competitor", 0, ("From", f"Victor Crane <{VICTOR}>"), ("To", OWNER)),
        message("o1@ourco", 1, ("From", OWNER), ("To", VICTOR)),
        message(
            "c1@acme",
            2,
            ("From", f"Carol <{CAROL}>"),
            ("To", OWNER),
            ("Cc", "Vic <vic@sales.competitor.example>, ceo.private@gmail.com"),
        ),
        # Dana moved from the competitor to a free-mail address: her mail from the
        # competitor goes (nobody else outside the org was on it), she stays.
        message("d1@competitor", 3, ("From", "Dana Lee <dana@competitor.example>"), ("To", OWNER)),
        # Not a subdomain of competitor.example: never touched.
        message("n1@notcompetitor", 5, ("From", "ned@notcompetitor.example"), ("To", OWNER)),
        meeting(person(OWNER), person(CAROL, "Carol"), person(VICTOR, "Victor Crane")),
    ]


def capture(db: Database) -> None:
    for record in mailbox():
        db.apply(plan_batch([record], policy("always"), db.directory()), "INBOX", None)  # type: ignore[list-item]


def identities(db: Database) -> list[str]:
    return sorted(i.identity for i in db.list_interactions(limit=100))


def emails(db: Database) -> list[str]:
    return sorted(e for c in db.list_contacts(limit=100) for e in c.emails)


def test_dry_run_counts_and_changes_nothing_then_apply_removes_exactly_that(db: Database) -> None:
    capture(db)
    dana = contact_of(db, "dana@competitor.example")
    # Her new address joins her contact as a link with evidence would make it.
    moved = plans.person("dana.lee@gmail.com", "from", "link", rule="name+phone", contact_id=dana)
    db.apply(Plan("acct", (plans.mail("d2@gmail", moved, account="acct"),)), "INBOX", None)
    before = snapshot(db)
    feed_top = max(c.id for c in settled_feed(db))
    expected = Purged(contacts=3, addresses=4, participants=3, interactions=3)

    assert db.purge(BLOCKED, apply=False) == expected
    assert snapshot(db) == before

    assert db.purge(BLOCKED, apply=True) == expected
    assert identities(db) == [
        "ical:uid-1@ourco.com|",
        "msgid:c1@acme",
        "msgid:d2@gmail",
        "msgid:n1@notcompetitor",
    ]
    assert emails(db) == [CAROL, "dana.lee@gmail.com", "ned@notcompetitor.example"]
    assert [e for e, _, _ in participants(db, "msgid:c1@acme")] == [CAROL, OWNER]
    assert [e for e, _, _ in participants(db, "ical:uid-1@ourco.com|")] == [CAROL, OWNER]
    assert db.get_contact(dana) is not None  # her old address went, she stays
    assert db.directory().evidence([VICTOR, "ceoprivate@gmail.com"]) == {}
    feed = {(c.entity, c.operation) for c in settled_feed(db, feed_top)}
    assert feed == {
        ("interaction", "delete"),
        ("interaction", "update"),
        ("contact", "delete"),
        ("contact", "update"),
    }
    # Nothing left to purge: a second run removes nothing.
    assert db.purge(BLOCKED, apply=True) == Purged(0, 0, 0, 0)
