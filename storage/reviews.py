"""The review queue: addresses scoring was not sure of, and what a person decided.

``apply`` queues each participant planned as a review (``matcher.scored``:
decision "skip", the proposed contact, a "review:" rule with the score and
reasons); the address stays unowned, its fields kept by address
(``storage.pending``). ``accept`` makes the address the contact's: its
earlier participant rows are linked and its kept fields become the
contact's observations, as if it had matched from the start. ``reject``
remembers the pair: the directory gives the matcher the rejected mailboxes
of each candidate, so the pair is never proposed again, and the next mail
from the address is decided by the creation policy. Every change is a
change-feed row of entity ``review``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.scoring import parse_rule
from storage import pending
from storage.addresses import owners_of
from storage.bulk import allocate_ids, insert_new, text_value, update_rows, upsert
from storage.changes import Feed
from storage.merge_journal import live_targets
from storage.observations import MIN_CONFIDENCE, refresh_fields
from storage.schema import (
    DERIVED_FIELDS,
    contact_emails,
    contact_observations,
    contacts,
    interaction_participants,
    review_queue,
)
from storage.seats import Seat

ACCEPTED = "review:accepted"


@dataclass(frozen=True, slots=True)
class ReviewView:
    id: int
    email: str
    name: str | None
    contact_id: int
    contact_name: str | None
    score: float
    reasons: str
    state: str  # open | accepted | rejected | closed
    created_at: datetime
    decided_at: datetime | None


class ReviewError(Exception):
    """A review that cannot be decided (unknown, or decided already); ``str`` says why."""


def queue_reviews(conn: sa.Connection, seats: Iterable[Seat], now: datetime, feed: Feed) -> None:
    """One open item per (mailbox, proposed contact) the plan sent to review."""
    rows: dict[tuple[str, int], dict[str, Any]] = {}
    for s in seats:
        p = s.participant
        scored = parse_rule(p.rule)
        if p.decision != "skip" or p.contact_id is None or scored is None:
            continue
        rows.setdefault(
            (p.key, p.contact_id),
            {
                "mailbox": p.key,
                "email": p.email,
                "name": text_value(p.name),
                "contact_id": p.contact_id,
                "score": scored.score,
                "reasons": text_value(scored.reasons) or "",
                "interaction_id": s.interaction_id,
                "state": "open",
                "created_at": now,
            },
        )
    owned = owners_of(conn, {k for k, _ in rows}, current=True)
    wanted = _to_live([rows[k] for k in sorted(rows) if k[0] not in owned], conn)
    for row, i in zip(wanted, allocate_ids(conn, review_queue, len(wanted)), strict=True):
        row["id"] = i
    stmt = upsert(conn, review_queue).on_conflict_do_nothing(
        index_elements=["mailbox", "contact_id"]
    )
    feed.extend(("review", r["id"], "insert") for r in insert_new(conn, review_queue, stmt, wanted))


def _to_live(rows: list[dict[str, Any]], conn: sa.Connection) -> list[dict[str, Any]]:
    """The rows whose contact exists, a merged-away one's given to its survivor (a plan
    made before the merge proposes the old id); one per (mailbox, contact)."""
    live = live_targets(conn, {r["contact_id"] for r in rows})
    kept: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        if (contact := live.get(row["contact_id"])) is not None:
            kept.setdefault((row["mailbox"], contact), {**row, "contact_id": contact})
    return list(kept.values())


def list_reviews(conn: sa.Connection, state: str | None = "open") -> list[ReviewView]:
    q, c = review_queue.c, contacts.c
    query = (
        sa.select(*_columns()).join(contacts, c.id == q.contact_id).order_by(q.score.desc(), q.id)
    )
    if state is not None:
        query = query.where(q.state == state)
    return [ReviewView(*r) for r in conn.execute(query)]


def get_review(conn: sa.Connection, review_id: int) -> ReviewView | None:
    q, c = review_queue.c, contacts.c
    query = sa.select(*_columns()).join(contacts, c.id == q.contact_id).where(q.id == review_id)
    row = conn.execute(query).first()
    return ReviewView(*row) if row else None


def _columns() -> list[Any]:
    q, c = review_queue.c, contacts.c
    head = [q.id, q.email, q.name, q.contact_id, c.name, q.score, q.reasons, q.state]
    return [*head, q.created_at, q.decided_at]


def _open(conn: sa.Connection, review_id: int) -> ReviewView:
    item = get_review(conn, review_id)
    if item is None:
        raise ReviewError(f"no review {review_id}")
    if item.state != "open":
        raise ReviewError(f"review {review_id} is {item.state} already")
    return item


def _decide(conn: sa.Connection, review_id: int, state: str, now: datetime, feed: Feed) -> None:
    q = review_queue.c
    conn.execute(
        sa.update(review_queue).where(q.id == review_id).values(state=state, decided_at=now)
    )
    feed.append(("review", review_id, "update"))


def reject(conn: sa.Connection, review_id: int, now: datetime, feed: Feed) -> ReviewView:
    item = _open(conn, review_id)
    _decide(conn, review_id, "rejected", now, feed)
    return item


def accept(conn: sa.Connection, review_id: int, now: datetime, feed: Feed) -> ReviewView:
    """Make the address the proposed contact's, with its earlier mail and its kept fields."""
    item = _open(conn, review_id)
    q = review_queue.c
    mailbox = conn.execute(sa.select(q.mailbox).where(q.id == review_id)).scalar_one()
    owner = owners_of(conn, [mailbox], current=True).get(mailbox)
    if owner is not None and owner != item.contact_id:
        raise ReviewError(f"{item.email} is contact {owner}'s now: merge the two instead")
    _decide(conn, review_id, "accepted", now, feed)
    # Other proposals for the same address are settled by this answer.
    conn.execute(
        sa.update(review_queue)
        .where(q.mailbox == mailbox, q.state == "open", q.id != review_id)
        .values(state="closed", decided_at=now)
    )
    if owner is None:
        _claim(conn, item, mailbox, feed)
    _take_fields(conn, item.contact_id, mailbox, now, feed)
    return item


def _claim(conn: sa.Connection, item: ReviewView, mailbox: str, feed: Feed) -> None:
    origin = f"{ACCEPTED}:{item.score:.2f}:{item.reasons}"
    e = contact_emails
    conn.execute(sa.delete(e).where(e.c.mailbox == mailbox, e.c.status == "former"))
    p = interaction_participants.c
    spellings = {item.email} | set(
        conn.execute(sa.select(p.email).where(p.mailbox == mailbox).distinct()).scalars()
    )
    conn.execute(
        e.insert(),
        [
            {"email": s, "contact_id": item.contact_id, "mailbox": mailbox, "origin": origin}
            for s in sorted(spellings)
        ],
    )
    update_rows(
        conn,
        interaction_participants,
        [{"mailbox": mailbox, "contact_id": item.contact_id}],
        key="mailbox",
        only_if_null="contact_id",
    )
    feed.append(("contact", item.contact_id, "update"))


def _take_fields(
    conn: sa.Connection, contact_id: int, mailbox: str, now: datetime, feed: Feed
) -> None:
    """The fields kept for the address while it waited become the contact's observations."""
    rows = pending.take_kept(conn, {mailbox: contact_id})
    if not rows:
        return
    for row, i in zip(rows, allocate_ids(conn, contact_observations, len(rows)), strict=True):
        row["id"] = i
    stmt = upsert(conn, contact_observations).on_conflict_do_nothing(
        index_elements=["contact_id", "field", "interaction_id"]
    )
    landed = insert_new(conn, contact_observations, stmt, rows)
    touched = {
        (contact_id, r["field"])
        for r in landed
        if r["field"] in DERIVED_FIELDS and r["confidence"] >= MIN_CONFIDENCE
    }
    refresh_fields(conn, touched, now, feed)
