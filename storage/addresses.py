"""A contact's addresses: which contact owns a mailbox, new spellings, delivery status.

Addresses are matched by mailbox key (``matcher.mailboxes``); each spelling
a contact is seen with is kept as written in ``contact_emails``, with its
mailbox and a status: ``current``, ``former``, ``bouncing`` or ``invalid``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

import sqlalchemy as sa

from matcher.plan import InteractionPlan
from storage.bulk import chunks, insert_new, select_in, text_value, upsert, write_rows
from storage.changes import Feed
from storage.schema import (
    address_evidence,
    contact_emails,
    interaction_participants,
    interactions,
)


def owners_of(conn: sa.Connection, mailboxes: Iterable[str]) -> dict[str, int]:
    """The contact that owns each of ``mailboxes`` (those that have one).

    Two contacts can hold one mailbox only from before mailboxes were
    compared (see migration 0004_mailbox_keys); the older one is the owner.
    """
    c = contact_emails.c
    rows = select_in(conn, [c.mailbox, c.contact_id], c.mailbox, mailboxes)
    owner: dict[str, int] = {}
    for r in sorted(rows, key=lambda r: -r.contact_id):
        owner[r.mailbox] = r.contact_id
    return owner


# Any constant works; the same in every process. Spells "mailbox".
MAILBOX_LOCK = 0x6D61696C626F78


def lock_mailboxes(conn: sa.Connection, mailboxes: Iterable[str]) -> None:
    """PostgreSQL: serialise writers that create a contact for the same mailboxes.

    The primary key on ``contact_emails.email`` settles two creations of one
    spelling; two spellings of one mailbox need this. Sorted, so two writers
    take shared keys in the same order. SQLite has one writer at a time.
    """
    if conn.dialect.name != "postgresql":
        return
    lock = sa.text("SELECT pg_advisory_xact_lock(:space, hashtext(:key))")
    for key in sorted(mailboxes):
        conn.execute(lock, {"space": MAILBOX_LOCK >> 32, "key": key})


def add_addresses(
    conn: sa.Connection, wanted: Mapping[str, tuple[int, str]], feed: Feed
) -> list[str]:
    """Make each written email (-> contact, mailbox) an address of its contact unless it is one.

    An email some contact holds already stays where it is; returns the emails added.
    """
    c = contact_emails.c
    known = {r.email for r in select_in(conn, [c.email], c.email, wanted)}
    rows = [
        {"email": e, "contact_id": wanted[e][0], "mailbox": wanted[e][1]}
        for e in sorted(set(wanted) - known)
    ]
    stmt = upsert(conn, contact_emails).on_conflict_do_nothing(index_elements=["email"])
    added = insert_new(conn, contact_emails, stmt, rows, "email", "contact_id")
    feed.extend(("contact", r["contact_id"], "update") for r in added)
    return [r["email"] for r in added]


def mark_bouncing(conn: sa.Connection, plans: Iterable[InteractionPlan], feed: Feed) -> None:
    """Remember each mailbox a delivery report failed for good, and mark its addresses.

    One hard bounce is enough: a permanent failure (5.x.x) does not heal by
    retrying. Unless the person wrote from that mailbox after the report:
    mail read out of order (a backfill) must not leave a working address
    bouncing. The bounce is kept with the mailbox's evidence, so an address
    a contact comes to hold later (its exchange read after the report)
    starts out bouncing too; a bounce never makes a contact.
    """
    newest: dict[str, tuple[datetime, str | None]] = {}  # mailbox -> (when, why)
    for ip in plans:
        for b in ip.bounced:
            if _wrote_after(conn, b.mailbox, ip.occurred_at):
                continue
            reason = text_value(f"bounce:{b.status or 'permanent'}:{b.source}")
            if b.mailbox not in newest or ip.occurred_at > newest[b.mailbox][0]:
                newest[b.mailbox] = (ip.occurred_at, reason)
    if not newest:
        return
    t = address_evidence
    stmt = upsert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["email"],
        set_={"bounced_at": stmt.excluded.bounced_at, "bounce_reason": stmt.excluded.bounce_reason},
    )
    rows = [
        {"email": k, "sent_to": False, "received_from": False, "met": False}
        | {"bounced_at": at, "bounce_reason": why}
        for k, (at, why) in sorted(newest.items())
    ]
    write_rows(conn, stmt, rows)
    settle_statuses(conn, newest, feed)


def settle_statuses(conn: sa.Connection, mailboxes: Iterable[str], feed: Feed) -> None:
    """Current addresses of a mailbox that bounced (and has not written since): bouncing."""
    e, c = address_evidence.c, contact_emails.c
    query = sa.select(e.email, e.bounced_at, e.bounce_reason).where(e.bounced_at.is_not(None))
    for r in select_in(conn, query, e.email, mailboxes):
        hit = sa.and_(c.mailbox == r.email, c.status == "current")
        touched = conn.execute(sa.select(c.contact_id).where(hit)).scalars().all()
        if not touched:
            continue
        conn.execute(
            sa.update(contact_emails)
            .where(hit)
            .values(status="bouncing", status_reason=r.bounce_reason, status_at=r.bounced_at)
        )
        feed.extend(("contact", i, "update") for i in sorted(set(touched)))


_SENDER = ("from", "sender")


def _wrote_after(conn: sa.Connection, mailbox: str, moment: datetime) -> bool:
    p, i = interaction_participants.c, interactions.c
    query = (
        sa.select(p.id)
        .join(interactions, i.id == p.interaction_id)
        .where(p.mailbox == mailbox, p.role.in_(_SENDER), i.occurred_at > moment)
        .where(i.direction == "inbound")
        .limit(1)
    )
    return conn.execute(query).first() is not None


def revive_senders(conn: sa.Connection, plans: Iterable[InteractionPlan], feed: Feed) -> None:
    """A bounced mailbox that writes to us after its bounce is current again."""
    latest: dict[str, datetime] = {}
    for ip in plans:
        if ip.kind != "email" or ip.direction != "inbound":
            continue
        for p in ip.participants:
            if p.role in _SENDER:
                latest[p.key] = max(latest.get(p.key, ip.occurred_at), ip.occurred_at)
    e = address_evidence.c
    healed = [
        r.email
        for r in select_in(conn, [e.email, e.bounced_at], e.email, latest)
        if r.bounced_at is not None and r.bounced_at < latest[r.email]
    ]
    for part in chunks(healed):
        conn.execute(
            sa.update(address_evidence)
            .where(e.email.in_(part))
            .values(bounced_at=None, bounce_reason=None)
        )
    c = contact_emails.c
    columns = [c.email, c.contact_id, c.mailbox, c.status_at, c.status]
    back = [
        r
        for r in select_in(conn, columns, c.mailbox, latest)
        if r.status == "bouncing" and (r.status_at is None or r.status_at < latest[r.mailbox])
    ]
    for r in back:
        conn.execute(
            sa.update(contact_emails)
            .where(c.email == r.email)
            .values(
                status="current", status_reason="wrote-after-bounce", status_at=latest[r.mailbox]
            )
        )
    feed.extend(("contact", i, "update") for i in sorted({r.contact_id for r in back}))
