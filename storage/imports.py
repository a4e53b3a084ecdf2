"""Seeding contacts from a CRM's export: create or update, fields locked as crm-owned.

Each card is matched to a contact by the mailboxes of its addresses, as
capture matches. A card whose addresses belong to two different contacts is
reported, never merged: which of them the CRM means is for a person to
decide. Every field a card sets is written with a ``crm`` lock (capture
never overwrites it, docs/ARCHITECTURE.md, invariant 11), and its addresses
become the contact's. Importing the same file again changes nothing: a
field already locked by the CRM with the same value is left alone, an
address already held is not added, and the change feed gets no row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from connectors.contact_files import Card, CardError
from storage.addresses import add_addresses, owners_of
from storage.bulk import allocate_ids, text_value
from storage.changes import Feed
from storage.observations import lock_field
from storage.schema import DERIVED_FIELDS, contact_field_locks, contacts

IMPORT_RULE = "import:crm"


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import did, and the cards it could not use (with their lines)."""

    created: int
    updated: int
    unchanged: int
    errors: tuple[CardError, ...]


def import_cards(
    conn: sa.Connection,
    cards: Iterable[Card | CardError],
    mailboxes: Mapping[str, str],
    now: datetime,
    feed: Feed,
) -> Imported:
    """``mailboxes``: the mailbox key of every email the cards hold."""
    created = updated = unchanged = 0
    errors: list[CardError] = []
    for card in cards:
        if isinstance(card, CardError):
            errors.append(card)
            continue
        owners = set(owners_of(conn, {mailboxes[e] for e in card.emails}).values())
        if len(owners) > 1:
            held = ", ".join(str(o) for o in sorted(owners))
            errors.append(CardError(card.line, "ambiguous", f"its addresses are contacts {held}"))
            continue
        fields = {f: text_value(v) for f, v in card.fields if f in DERIVED_FIELDS}
        if owners:
            (contact,) = owners
        else:
            contact = _create(conn, fields, now)
            feed.append(("contact", contact, "insert"))
            created += 1
        wanted = {e: (contact, mailboxes[e]) for e in card.emails}
        changed = bool(add_addresses(conn, wanted, feed))
        changed = _lock(conn, contact, fields, now) or changed
        if not owners:
            continue
        if changed:
            feed.append(("contact", contact, "update"))
            updated += 1
        else:
            unchanged += 1
    return Imported(created, updated, unchanged, tuple(errors))


def _create(conn: sa.Connection, fields: Mapping[str, str | None], now: datetime) -> int:
    (contact,) = allocate_ids(conn, contacts, 1)
    row = {f: fields.get(f) for f in DERIVED_FIELDS}
    conn.execute(
        contacts.insert().values(
            id=contact, **row, created_rule=IMPORT_RULE, created_at=now, updated_at=now
        )
    )
    return contact


def _lock(
    conn: sa.Connection, contact: int, fields: Mapping[str, str | None], now: datetime
) -> bool:
    """Lock each field for the CRM unless it already holds that value; whether any changed."""
    t = contact_field_locks.c
    held = {
        (r.field, r.value, r.owner)
        for r in conn.execute(sa.select(t.field, t.value, t.owner).where(t.contact_id == contact))
    }
    changed = False
    for field, value in sorted(fields.items()):
        if (field, value, "crm") not in held:
            lock_field(conn, contact, field, value, "crm", now)
            changed = True
    return changed
