"""Merges of contacts that scored resolution gave job changes, reviews and blocking keys.

A merge moves and journals these rows too, so undoing it puts every one
back; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from connectors.contact_files import Card
from connectors.records import Message, SourceRef
from matcher import plan_batch
from storage import Database
from storage.schema import contact_keys, review_queue
from tests.builders import mail, signing_policy
from tests.identity import by_natural_keys
from tests.plans import T0, contact_of, settled_feed

OWNER = "ann@northwind.com"
MOBILE = "+1 415 555 0123"
ALEE = "alee@initech.com"
AUDIT = ("merges", "merge_rows", "changes")


def written(n: int, sender: str, signed: tuple[str, str, str] | None, days: int = 0) -> Message:
    """Message ``n`` from ``sender``, signed (name, title, company) with the mobile, or not."""
    body = "Quick note from my phone."
    if signed:
        body = f"Thanks.\n\nBest regards,\n{chr(10).join(signed)}\nMobile: {MOBILE}\n"
    m = mail(("From", sender), ("To", OWNER), text=body)
    at = T0 + timedelta(days=days, hours=n)
    source = SourceRef("alice", "INBOX", f"m{n}")
    return Message(
        source=source,
        message_id=f"m{n}@mail",
        date=at,
        subject="Renewal",
        headers=m.headers,
        thread_key=f"m{n}@mail",
        text=body,
    )


def capture(db: Database, *messages: Message) -> None:
    db.apply(plan_batch(list(messages), signing_policy(OWNER), db.directory()), "INBOX", None)


def keys_of(db: Database, contact: int) -> set[str]:
    t = contact_keys.c
    with db.engine.connect() as conn:
        return set(conn.execute(sa.select(t.key).where(t.contact_id == contact)).scalars())


def estate(db: Database) -> tuple[int, int, int, int]:
    """Jane moved from Acme to Globex; Ann at Initech with a proposed second address,
    which a CRM import gave a contact of its own. Returns jane, ann, the import, the review."""
    capture(db, written(1, "Jane Doe <jane@acme.com>", ("Jane Doe", "CFO", "Acme")))
    capture(db, written(2, "Jane Doe <jane.doe@globex.com>", ("Jane Doe", "CFO", "Globex"), 90))
    capture(db, written(3, "Ann Lee <ann.lee@initech.com>", ("Ann Lee", "VP Sales", "Initech")))
    capture(db, written(4, "Ann Lee <alee@initech.com>", None))
    [item] = db.reviews()
    db.import_contacts([Card(2, ("alee@initech.com",), (("name", "A. Lee"),))], {ALEE: ALEE})
    jane, ann = contact_of(db, "jane.doe@globex.com"), contact_of(db, "ann.lee@initech.com")
    return jane, ann, contact_of(db, ALEE), item.id


def test_a_merge_moves_employments_reviews_and_keys_and_unmerge_puts_them_back(
    db: Database,
) -> None:
    jane, ann, imported, review = estate(db)
    assert item_of(db, review) == (ann, "open")
    jane_keys, ann_keys = keys_of(db, jane), keys_of(db, imported) | keys_of(db, ann)
    before = by_natural_keys(db, AUDIT)
    top = max(c.id for c in settled_feed(db))
    first = db.merge_contacts(ann, imported, actor="alice", reason="same person")
    # Ann holds the proposed address now: the review has nothing left to ask.
    assert item_of(db, review) == (ann, "closed")
    assert ("review", review, "update") in {
        (c.entity, c.entity_id, c.operation) for c in settled_feed(db, top)
    }
    second = db.merge_contacts(ann, jane, actor="alice", reason="test")
    kept = db.get_contact(ann)
    assert kept is not None
    assert [(j.domain, j.ended_reason is not None) for j in kept.employments] == [
        ("acme.com", True),
        ("globex.com", False),
    ]
    assert {a.email: a.status for a in kept.addresses} == {
        "ann.lee@initech.com": "current",
        "alee@initech.com": "current",
        "jane@acme.com": "former",
        "jane.doe@globex.com": "current",
    }
    assert keys_of(db, jane) == keys_of(db, imported) == set()
    assert jane_keys | ann_keys >= keys_of(db, ann) >= {"d:globex.com", "d:initech.com"}
    db.unmerge(second.id, actor="alice")
    db.unmerge(first.id, actor="alice")
    assert by_natural_keys(db, AUDIT) == before


def test_forgetting_a_merged_person_clears_their_reviews_employments_and_keys(
    db: Database,
) -> None:
    jane, ann, imported, _ = estate(db)
    db.merge_contacts(ann, jane, actor="alice", reason="test")
    db.forget(contact_id=jane)  # names the survivor, Ann
    left = by_natural_keys(db, ())
    assert {t: len(left[t]) for t in ("merges", "merge_rows", "employments", "review_queue")} == {
        "merges": 0,
        "merge_rows": 0,
        "employments": 0,
        "review_queue": 0,
    }
    assert {i for _, i in left["contact_keys"]} == {imported}


def item_of(db: Database, review: int) -> tuple[int, str]:
    q = review_queue.c
    with db.engine.connect() as conn:
        row = conn.execute(sa.select(q.contact_id, q.state).where(q.id == review)).one()
    return row.contact_id, row.state
