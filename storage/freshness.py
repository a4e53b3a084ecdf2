"""When each address and contact was last seen, kept current by ``apply``.

Per address (``contact_emails``): the newest interaction it wrote
(``last_from_at``: from, sender, reply-to), received (``last_to_at``: to,
cc, bcc) or met in (``last_met_at``: organizer, attendee); a name quoted
in a body is no sighting. Per contact: ``last_seen_at``, the newest of its
addresses' three. ``contacts list --stale 180d`` reads that column through
its index.

Cost: one read of the batch's addresses' owners and one UPDATE per column
over the batch's newest sightings, which only writes a row whose value
moves forward (a backfill reading newest first writes almost nothing). An
address a contact comes to hold is credited with its earlier, stored
participations (the ones ``backlink`` links), so arrival order does not
matter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from storage.bulk import chunks, select_in, write_rows
from storage.schema import contact_emails, contacts, interaction_participants, interactions
from storage.seats import Seat

COLUMNS: Mapping[str, str] = {
    "from": "last_from_at",
    "sender": "last_from_at",
    "reply-to": "last_from_at",
    "to": "last_to_at",
    "cc": "last_to_at",
    "bcc": "last_to_at",
    "organizer": "last_met_at",
    "attendee": "last_met_at",
}
Sightings = dict[tuple[str, str], datetime]  # (email as written, column) -> newest
K = TypeVar("K")


def note_sightings(conn: sa.Connection, seats: Iterable[Seat], claimed: Collection[str]) -> None:
    """Move last-seen forward for the batch's participants and newly owned mailboxes."""
    newest = _earlier(conn, claimed)
    for s in seats:
        if column := COLUMNS.get(s.participant.role):
            _keep(newest, (s.participant.email, column), s.occurred_at)
    if not newest:
        return
    e = contact_emails.c
    held = select_in(conn, [e.email, e.contact_id], e.email, {m for m, _ in newest})
    owner = {r.email: r.contact_id for r in held}
    seen = {k: at for k, at in newest.items() if k[0] in owner}
    for column in sorted({c for _, c in seen}):
        values = {m: at for (m, c), at in seen.items() if c == column}
        _advance(conn, contact_emails, "email", column, values)
    per_contact: dict[int, datetime] = {}
    for (email, _), at in seen.items():
        _keep(per_contact, owner[email], at)
    _advance(conn, contacts, "id", "last_seen_at", per_contact)


def _keep(newest: dict[K, datetime], key: K, at: datetime) -> None:
    if key not in newest or newest[key] < at:
        newest[key] = at


def _earlier(conn: sa.Connection, mailboxes: Collection[str]) -> Sightings:
    """The newest stored participation per (email, column) of these mailboxes."""
    p, i = interaction_participants.c, interactions.c
    newest = sa.type_coerce(sa.func.max(i.occurred_at), i.occurred_at.type).label("at")
    query = (
        sa.select(p.email, p.role, newest)
        .join(interactions, i.id == p.interaction_id)
        .group_by(p.email, p.role)
    )
    found: Sightings = {}
    for part in chunks(sorted(mailboxes)):
        for r in conn.execute(query.where(p.mailbox.in_(part))):
            if r.role in COLUMNS:
                _keep(found, (r.email, COLUMNS[r.role]), r.at)
    return found


def _advance(
    conn: sa.Connection, table: sa.Table, key: str, column: str, values: Mapping[Any, datetime]
) -> None:
    """Set ``column`` to each value where it is NULL or older: one statement per chunk."""
    if not values:
        return
    t = table.c
    rows = sorted(values.items())
    if conn.dialect.name == "postgresql":
        keys = sa.bindparam("keys", [k for k, _ in rows], type_=postgresql.ARRAY(t[key].type))
        ats = sa.bindparam("ats", [v for _, v in rows], type_=postgresql.ARRAY(t[column].type))
        source = sa.func.unnest(keys, ats).table_valued("k", "at").render_derived(name="v")
        stmt = (
            sa.update(table)
            .values({column: source.c.at})
            .where(t[key] == source.c.k)
            .where(sa.or_(t[column].is_(None), t[column] < source.c.at))
        )
        conn.execute(stmt)
        return
    at = sa.bindparam("at", type_=t[column].type)
    stmt = (
        sa.update(table)
        .where(t[key] == sa.bindparam("k"), sa.or_(t[column].is_(None), t[column] < at))
        .values({column: at})
    )
    write_rows(conn, stmt, [{"k": k, "at": v} for k, v in rows])


def refresh_last_seen(conn: sa.Connection, ids: Iterable[int]) -> None:
    """Set each contact's ``last_seen_at`` to the newest of its addresses' (after a move)."""
    e = contact_emails.c
    columns = [e.contact_id, e.last_from_at, e.last_to_at, e.last_met_at]
    newest: dict[int, datetime | None] = {i: None for i in ids}
    for r in select_in(conn, columns, e.contact_id, newest):
        for at in (r.last_from_at, r.last_to_at, r.last_met_at):
            held = newest[r.contact_id]
            if at is not None and (held is None or held < at):
                newest[r.contact_id] = at
    for contact, at in sorted(newest.items()):
        current = conn.execute(
            sa.select(contacts.c.last_seen_at).where(contacts.c.id == contact)
        ).scalar()
        if current != at:
            conn.execute(
                sa.update(contacts).where(contacts.c.id == contact).values(last_seen_at=at)
            )
