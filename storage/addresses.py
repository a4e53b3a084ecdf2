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
from storage.bulk import insert_new, select_in, text_value, upsert
from storage.changes import Feed
from storage.schema import contact_emails, interaction_participants, interactions


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
    """Mark every current address of a mailbox a delivery report failed for good as bouncing.

    One hard bounce is enough: a permanent failure (5.x.x) does not heal by
    retrying. Unless the person wrote from that mailbox after the report:
    mail read out of order (a backfill) must not leave a working address
    bouncing. A bounce never makes a contact: an address no contact has is
    left alone. Replays change nothing (the address is no longer current).
    """
    c = contact_emails.c
    for ip in plans:
        for b in ip.bounced:
            if _wrote_after(conn, b.mailbox, ip.occurred_at):
                continue
            reason = text_value(f"bounce:{b.status or 'permanent'}:{b.source}")
            hit = sa.and_(c.mailbox == b.mailbox, c.status == "current")
            touched = conn.execute(sa.select(c.contact_id).where(hit)).scalars().all()
            if not touched:
                continue
            conn.execute(
                sa.update(contact_emails)
                .where(hit)
                .values(status="bouncing", status_reason=reason, status_at=ip.occurred_at)
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
    """A bouncing mailbox that writes to us after its bounce is current again."""
    latest: dict[str, datetime] = {}
    for ip in plans:
        if ip.kind != "email" or ip.direction != "inbound":
            continue
        for p in ip.participants:
            if p.role in _SENDER:
                latest[p.key] = max(latest.get(p.key, ip.occurred_at), ip.occurred_at)
    c = contact_emails.c
    rows = select_in(
        conn, [c.email, c.contact_id, c.mailbox, c.status_at, c.status], c.mailbox, latest
    )
    back = [
        r
        for r in rows
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
