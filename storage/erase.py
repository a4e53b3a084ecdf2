"""Taking people out of the database, shared by ``forget`` and ``purge``.

``forget`` erases one person on request and keeps the interactions they
shared with others, anonymised; ``purge`` applies today's blocklist to what
was captured before it. Both drop an interaction whose every party outside
the organisation is leaving, the rule capture itself follows for blocked
addresses: what is left of such an interaction (its time, its subject, the
owner's side) would still be the leaving person's correspondence.

Deleting an interaction deletes every contact's observations made in it;
the fields of the contacts who keep other observations are derived again.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import chunks, select_in
from storage.changes import Feed
from storage.observations import FieldKey, refresh_fields
from storage.schema import (
    DERIVED_FIELDS,
    address_evidence,
    address_observations,
    contact_emails,
    contact_field_locks,
    contact_keys,
    contact_observations,
    contacts,
    employments,
    interaction_participants,
    interaction_sources,
    interactions,
    merge_rows,
    merges,
    review_queue,
    sender_signatures,
)


def participant_rows(
    conn: sa.Connection, mailboxes: Collection[str], contact_ids: Collection[int]
) -> list[sa.Row[Any]]:
    """Participant rows of these mailboxes or linked to these contacts."""
    p = interaction_participants.c
    columns = [p.id, p.interaction_id, p.email, p.mailbox, p.role]
    rows = {r.id: r for r in select_in(conn, columns, p.mailbox, mailboxes)}
    rows.update({r.id: r for r in select_in(conn, columns, p.contact_id, contact_ids)})
    return sorted(rows.values(), key=lambda r: r.id)


def left_without_outsiders(conn: sa.Connection, leaving: Iterable[sa.Row[Any]]) -> list[int]:
    """Interactions whose every party outside the org is among the ``leaving`` rows.

    People named only inside a body (role "quoted") are not parties.
    """
    gone = {r.id for r in leaving}
    touched = {r.interaction_id for r in leaving}
    p = interaction_participants.c
    staying = set()
    for r in select_in(conn, [p.id, p.interaction_id, p.klass, p.role], p.interaction_id, touched):
        if r.id not in gone and r.role != "quoted" and r.klass != "internal":
            staying.add(r.interaction_id)
    return sorted(touched - staying)


def erase_interactions(
    conn: sa.Connection, ids: Collection[int], now: datetime, feed: Feed
) -> set[FieldKey]:
    """Delete interactions with everything hanging off them; the (contact, field) pairs that lost
    an observation."""
    o = contact_observations.c
    lost = {
        (r.contact_id, r.field)
        for r in select_in(conn, [o.contact_id, o.field], o.interaction_id, ids)
    }
    for part in chunks(sorted(ids)):
        q = review_queue
        conn.execute(sa.update(q).where(q.c.interaction_id.in_(part)).values(interaction_id=None))
        for table in (
            contact_observations,
            address_observations,
            interaction_participants,
            interaction_sources,
        ):
            conn.execute(sa.delete(table).where(table.c.interaction_id.in_(part)))
        conn.execute(sa.delete(interactions).where(interactions.c.id.in_(part)))
    feed.extend(("interaction", i, "delete") for i in sorted(ids))
    return lost


def erase_contacts(conn: sa.Connection, ids: Collection[int]) -> None:
    """Delete contacts with their addresses, observations, locks and merge audit; unlink their
    participants."""
    p, m = interaction_participants, merges.c
    for part in chunks(sorted(ids)):
        # The audit of their merges holds their addresses and fields too.
        audited = sa.select(m.id).where(sa.or_(m.survivor_id.in_(part), m.merged_id.in_(part)))
        conn.execute(sa.delete(merge_rows).where(merge_rows.c.merge_id.in_(audited)))
        conn.execute(sa.delete(merges).where(m.survivor_id.in_(part) | m.merged_id.in_(part)))
        for table in (
            contact_observations,
            contact_field_locks,
            contact_emails,
            contact_keys,
            employments,
            review_queue,
        ):
            conn.execute(sa.delete(table).where(table.c.contact_id.in_(part)))
        conn.execute(sa.update(p).where(p.c.contact_id.in_(part)).values(contact_id=None))
        conn.execute(sa.delete(contacts).where(contacts.c.id.in_(part)))


def erase_evidence(conn: sa.Connection, mailboxes: Collection[str]) -> None:
    """What capture kept about the mailboxes apart from contacts: evidence,
    observations held for a contact to come, and their signature models."""
    for part in chunks(sorted(mailboxes)):
        for table in (address_evidence, address_observations):
            conn.execute(sa.delete(table).where(table.c.email.in_(part)))
        for table in (sender_signatures, review_queue):
            conn.execute(sa.delete(table).where(table.c.mailbox.in_(part)))


def rederive(conn: sa.Connection, lost: set[FieldKey], now: datetime, feed: Feed) -> None:
    """Fields of the contacts still here that lost an observation."""
    alive = {r.id for r in select_in(conn, [contacts.c.id], contacts.c.id, {c for c, _ in lost})}
    keys = {(c, f) for c, f in lost if c in alive and f in DERIVED_FIELDS}
    refresh_fields(conn, keys, now, feed)


def scrub_texts(
    conn: sa.Connection, addresses: Collection[str], replacement: str, feed: Feed
) -> None:
    """Replace the addresses wherever a stored subject or snippet quotes them."""
    i = interactions.c
    for address in sorted(addresses):
        pattern = re.compile(re.escape(address), re.IGNORECASE)
        mentions = sa.or_(
            sa.func.lower(i.subject).contains(address, autoescape=True),
            sa.func.lower(i.snippet).contains(address, autoescape=True),
        )
        for r in conn.execute(sa.select(i.id, i.subject, i.snippet).where(mentions)).all():
            values = {
                name: pattern.sub(replacement, text)
                for name, text in (("subject", r.subject), ("snippet", r.snippet))
                if text
            }
            conn.execute(sa.update(interactions).where(i.id == r.id).values(**values))
            feed.append(("interaction", r.id, "update"))
