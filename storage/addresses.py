"""A contact's addresses: which contact owns a mailbox, new spellings, delivery status.

Addresses are matched by mailbox key (``matcher.mailboxes``); each spelling
a contact is seen with is kept as written in ``contact_emails``, with its
mailbox and a status: ``current``, ``former``, ``bouncing`` or ``invalid``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.plan import InteractionPlan, ParticipantPlan
from matcher.scoring import parse_rule
from storage.bulk import chunks, insert_new, select_in, text_value, upsert, write_rows
from storage.changes import Feed
from storage.schema import address_evidence, contact_emails, interaction_participants, interactions


def owners_of(
    conn: sa.Connection, mailboxes: Iterable[str], *, current: bool = False
) -> dict[str, int]:
    """The contact that owns each of ``mailboxes`` (those that have one).

    ``current``: only addresses a contact still uses; a ``former`` one (the
    person moved on, a new hire may have it now) is owned by nobody.
    """
    rows = held(conn, mailboxes)
    return owner_of_rows(r for r in rows if not current or r.status != "former")


def held(conn: sa.Connection, mailboxes: Iterable[str]) -> list[sa.Row[Any]]:
    """(email, mailbox, contact_id, status) of every address of ``mailboxes``."""
    c = contact_emails.c
    return select_in(conn, [c.email, c.mailbox, c.contact_id, c.status], c.mailbox, mailboxes)


def owner_of_rows(rows: Iterable[sa.Row[Any]]) -> dict[str, int]:
    """Mailbox -> contact. Two contacts can hold one mailbox only from before
    mailboxes were compared (migration 0004_mailbox_keys); the older one owns it."""
    owner: dict[str, int] = {}
    for r in sorted(rows, key=lambda r: -r.contact_id):
        owner[r.mailbox] = r.contact_id
    return owner


# The origin of a spelling added because its mailbox is the contact's already.
ALIAS = "alias:same-mailbox"


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
    conn: sa.Connection,
    wanted: Mapping[str, tuple[int, str]],
    feed: Feed,
    known: Collection[str] | None = None,
    origin: str = ALIAS,
) -> list[str]:
    """Make each written email (-> contact, mailbox) an address of its contact unless it is one.

    An email some contact holds already stays where it is; returns the emails
    added. ``known``: emails the caller knows are held (else they are read).
    ``origin``: why they are the contact's (``contact_emails.origin``).
    """
    c = contact_emails.c
    if known is None:
        known = {r.email for r in select_in(conn, [c.email], c.email, wanted)}
    rows = [
        {"email": e, "contact_id": wanted[e][0], "mailbox": wanted[e][1], "origin": origin}
        for e in sorted(set(wanted).difference(known))
    ]
    stmt = upsert(conn, contact_emails).on_conflict_do_nothing(index_elements=["email"])
    added = insert_new(conn, contact_emails, stmt, rows, "email", "contact_id")
    feed.extend(("contact", r["contact_id"], "update") for r in added)
    return [r["email"] for r in added]


def follow_bounces(
    conn: sa.Connection, plans: Iterable[InteractionPlan], mailboxes: Iterable[str], feed: Feed
) -> None:
    """The delivery status of a batch's mailboxes after its reports and its mail.

    One hard bounce is enough: a permanent failure (5.x.x) does not heal by
    retrying. Mail from the mailbox dated after the report heals it, in
    whichever order the two are read (a backfill reads out of order). The
    newest unhealed bounce is kept with the mailbox's evidence, so an
    address a contact comes to hold later starts out bouncing; a bounce
    never makes a contact. ``mailboxes``: those the batch's participants use.
    """
    _remember_bounces(conn, plans)
    reported = {b.mailbox for ip in plans for b in ip.bounced}
    e = address_evidence.c
    query = sa.select(e.email, e.bounced_at, e.bounce_reason).where(e.bounced_at.is_not(None))
    bounced = {r.email: r for r in select_in(conn, query, e.email, set(mailboxes) | reported)}
    healed = _heal(conn, plans, bounced, feed)
    c = contact_emails.c
    for key in sorted(set(bounced) - healed):
        hit = sa.and_(c.mailbox == key, c.status == "current")
        touched = conn.execute(sa.select(c.contact_id).where(hit)).scalars().all()
        if not touched:
            continue
        why, when = bounced[key].bounce_reason, bounced[key].bounced_at
        conn.execute(
            sa.update(contact_emails)
            .where(hit)
            .values(status="bouncing", status_reason=why, status_at=when)
        )
        feed.extend(("contact", i, "update") for i in sorted(set(touched)))


def _remember_bounces(conn: sa.Connection, plans: Iterable[InteractionPlan]) -> None:
    """Keep each reported mailbox's newest hard bounce, unless it has written to us since."""
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
    stmt = upsert(conn, address_evidence)
    stmt = stmt.on_conflict_do_update(
        index_elements=["email"],
        set_={"bounced_at": stmt.excluded.bounced_at, "bounce_reason": stmt.excluded.bounce_reason},
    )
    rows = [
        {"email": k, "sent_to": False, "received_from": False, "met": False, "listed": False}
        | {"bounced_at": at, "bounce_reason": why}
        for k, (at, why) in sorted(newest.items())
    ]
    write_rows(conn, stmt, rows)


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


def _heal(
    conn: sa.Connection,
    plans: Iterable[InteractionPlan],
    bounced: Mapping[str, sa.Row[Any]],
    feed: Feed,
) -> set[str]:
    """Bounced mailboxes that write to us after their bounce: current again. Returns them."""
    latest: dict[str, datetime] = {}
    for ip in plans:
        if ip.kind != "email" or ip.direction != "inbound":
            continue
        for p in ip.participants:
            if p.role in _SENDER and p.key in bounced:
                latest[p.key] = max(latest.get(p.key, ip.occurred_at), ip.occurred_at)
    healed = {k for k, at in latest.items() if bounced[k].bounced_at < at}
    if not healed:
        return healed
    e, c = address_evidence.c, contact_emails.c
    for part in chunks(sorted(healed)):
        conn.execute(
            sa.update(address_evidence)
            .where(e.email.in_(part))
            .values(bounced_at=None, bounce_reason=None)
        )
    columns = [c.email, c.contact_id, c.mailbox, c.status]
    back = [r for r in select_in(conn, columns, c.mailbox, healed) if r.status == "bouncing"]
    for r in back:
        conn.execute(
            sa.update(contact_emails)
            .where(c.email == r.email)
            .values(
                status="current", status_reason="wrote-after-bounce", status_at=latest[r.mailbox]
            )
        )
    feed.extend(("contact", i, "update") for i in sorted({r.contact_id for r in back}))
    return healed


def release_former(
    conn: sa.Connection, mailboxes: Collection[str], now: datetime, feed: Feed
) -> set[str]:
    """Take ``mailboxes`` held only as ``former`` from their old contacts, for new owners.

    A company gives a departed person's address to a new hire: the old
    contact keeps its employment history, the address goes to whoever
    writes from it now. Returns the spellings released.
    """
    if not mailboxes:
        return set()
    c = contact_emails.c
    rows = [r for r in held(conn, mailboxes) if r.status == "former"]
    for part in chunks(sorted(r.email for r in rows)):
        conn.execute(sa.delete(contact_emails).where(c.email.in_(part)))
    feed.extend(("contact", i, "update") for i in sorted({r.contact_id for r in rows}))
    return {r.email for r in rows}


def batch_joins(
    creates: Mapping[str, ParticipantPlan], owner: Mapping[str, int]
) -> dict[str, ParticipantPlan]:
    """Creations the matcher found to be the same person as another mailbox of the
    batch (``matcher.scored.same_people``), whose first mailbox is created or owned."""
    joins = {}
    for key, p in creates.items():
        scored = parse_rule(p.rule)
        first = scored.same_as if scored is not None else None
        if first is not None and (first in owner or (first in creates and first != key)):
            joins[key] = p
    return {k: p for k, p in joins.items() if first_of(p) not in joins}


def first_of(p: ParticipantPlan) -> str:
    scored = parse_rule(p.rule)
    assert scored is not None and scored.same_as is not None
    return scored.same_as


def firsts(joins: Mapping[str, ParticipantPlan]) -> dict[str, str]:
    return {k: first_of(p) for k, p in joins.items()}
