"""Observations and the contact fields derived from them, inside ``apply`` and after
merges, unmerges and erasures.

A contact's fields are never written directly by capture: each participant's
observations are stored with provenance (``contact_observations``) and the
fields are re-derived: the newest observation with confidence >=
``MIN_CONFIDENCE`` per field, except fields locked by a person or a CRM
(``contact_field_locks``). Observations of an address no contact owns yet
wait in ``storage.pending`` until one does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage import pending
from storage.bulk import (
    PG_CHUNK,
    allocate_ids,
    chunks,
    insert_new,
    rows_table,
    select_in,
    text_value,
    update_rows,
    upsert,
)
from storage.changes import Feed
from storage.identity_keys import MIN_PHONE_CONFIDENCE
from storage.schema import DERIVED_FIELDS, contact_field_locks, contact_observations, contacts
from storage.seats import Owners, Seat

MIN_CONFIDENCE = 0.5
FieldKey = tuple[int, str]  # (contact id, derived field)


def lock_field(
    conn: sa.Connection,
    contact_id: int,
    field: str,
    value: str | None,
    owner: str,
    now: datetime,
) -> bool:
    """Set a derived field and lock it for ``owner`` (manual, crm); False if no such contact."""
    updated = conn.execute(
        sa.update(contacts)
        .where(contacts.c.id == contact_id)
        .values({field: value, "updated_at": now})
    ).rowcount
    if not updated:
        return False
    drop_lock(conn, contact_id, field)
    lock = {"contact_id": contact_id, "field": field, "value": value, "owner": owner}
    conn.execute(contact_field_locks.insert().values(**lock, set_at=now))
    return True


def drop_lock(conn: sa.Connection, contact_id: int, field: str) -> None:
    t = contact_field_locks.c
    conn.execute(sa.delete(contact_field_locks).where(t.contact_id == contact_id, t.field == field))


def observation_rows(
    seats: Iterable[Seat], contact_of: Callable[[Seat], Any]
) -> dict[tuple[Any, str, int], dict[str, Any]]:
    """One observation per (contact, field, interaction): the most confident, then the
    smallest value (``outranks``)."""
    best: dict[tuple[Any, str, int], dict[str, Any]] = {}
    for s in seats:
        # A skip carries observations only when the policy may still create
        # its contact; ``contact_of`` says where they go.
        contact = contact_of(s) if s.participant.observations else None
        if contact is None:
            continue
        for ob in s.participant.observations:
            key = (contact, text_value(ob.field) or "", s.interaction_id)
            value = text_value(ob.value)
            if not value or (key in best and outranks(best[key], ob.confidence, value)):
                continue
            best[key] = {
                "contact_id": contact,
                "field": key[1],
                "value": value,
                "confidence": ob.confidence,
                "interaction_id": s.interaction_id,
                "observed_at": s.occurred_at,
                "account_id": s.account_id,
            }
    # Sorted: concurrent PostgreSQL writers then take the same keys in the same order.
    return dict(sorted(best.items()))


def outranks(kept: Mapping[str, Any], confidence: float, value: str) -> bool:
    """Whether a kept observation stays against another of one (contact, field, interaction).

    Two seats of one contact in one interaction (two spellings, or two people
    merged since) can say different things with equal confidence: the smaller
    value stays, so the result depends neither on seat order nor on whether
    a merge came before or after the capture (``storage.merges``).
    """
    return (kept["confidence"], value) >= (confidence, kept["value"])


def derived_fields(rows: Iterable[dict[str, Any]]) -> dict[Any, dict[str, str]]:
    """Each contact's fields from its observations: the newest confident one per field.

    Ties on time go to the later row, as ties on time go to the later id in ``refresh_fields``.
    """
    newest: dict[tuple[Any, str], tuple[datetime, int, str]] = {}
    for n, r in enumerate(rows):
        if r["confidence"] is None or r["confidence"] < MIN_CONFIDENCE:
            continue
        if r["field"] in DERIVED_FIELDS:
            key, stamp = (r["contact_id"], r["field"]), (r["observed_at"], n, r["value"])
            if key not in newest or stamp > newest[key]:
                newest[key] = stamp
    fields: dict[Any, dict[str, str]] = {}
    for (contact, field), (_, _, value) in newest.items():
        fields.setdefault(contact, {})[field] = value
    return fields


def store_observations(
    conn: sa.Connection, seats: list[Seat], owners: Owners, now: datetime, feed: Feed
) -> set[tuple[int, str]]:
    """Store each linked/created participant's observations, then re-derive changed contacts.

    Returns (contact, number) of each phone observation stored now that a
    contact may be found by (``storage.identity_keys.unkeyed``).
    """

    def unowned(s: Seat) -> str | None:
        p = s.participant
        return p.key if p.decision == "skip" and p.key not in owners.by_mailbox else None

    found = observation_rows(seats, owners.contact_of)
    for row in pending.take_kept(conn, owners.by_mailbox):
        found.setdefault((row["contact_id"], row["field"], row["interaction_id"]), row)
    pending.keep(conn, observation_rows(seats, unowned).values())
    rows = [found[k] for k in sorted(found)]
    if not rows:
        return set()
    phones: set[tuple[int, str]] = set()
    stmt = upsert(conn, contact_observations).on_conflict_do_nothing(
        index_elements=["contact_id", "field", "interaction_id"]
    )
    for row, i in zip(rows, allocate_ids(conn, contact_observations, len(rows)), strict=True):
        row["id"] = i
    touched: set[FieldKey] = set()
    for r in insert_new(conn, contact_observations, stmt, rows):
        # Contacts created in this transaction got their fields when inserted,
        # and only a confident derived field can change a current value.
        if r["contact_id"] not in owners.created and r["confidence"] >= MIN_CONFIDENCE:
            touched.add((r["contact_id"], r["field"]))
        phone = r["field"].startswith("phone") and r["field"] != "phone:fax"
        if phone and r["confidence"] >= MIN_PHONE_CONFIDENCE:
            phones.add((r["contact_id"], r["value"]))
    refresh_fields(conn, {k for k in touched if k[1] in DERIVED_FIELDS}, now, feed)
    return phones


def _newest_values(conn: sa.Connection, keys: Collection[FieldKey]) -> list[sa.Row[Any]]:
    """(contact, field, value) of the newest confident observation of each unlocked pair.

    One probe per pair, which SQLite (and PostgreSQL once it has statistics)
    answers by reading ix_contact_observations_recent backwards from the
    contact's newest row to the first of the field. Ranking every observation
    since the oldest new one instead read each touched contact's whole
    history per batch after a backfill that ran newest-first. Ties on time go
    to the later row, as in ``derived_fields``.
    """
    o, lock = contact_observations, contact_field_locks
    columns = {"contact_id": o.c.contact_id.type, "field": o.c.field.type}
    newest: list[sa.Row[Any]] = []
    for part in chunks(sorted(keys), PG_CHUNK):
        pairs = rows_table(conn, "pairs", columns, part)
        value = (
            sa.select(o.c.value)
            .where(
                o.c.contact_id == pairs.c.contact_id,
                o.c.field == pairs.c.field,
                o.c.confidence >= MIN_CONFIDENCE,
            )
            .order_by(o.c.observed_at.desc(), o.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        unlocked = ~sa.exists().where(
            lock.c.contact_id == pairs.c.contact_id, lock.c.field == pairs.c.field
        )
        query = sa.select(pairs.c.contact_id, pairs.c.field, value.label("value")).where(unlocked)
        newest.extend(conn.execute(query))
    return newest


def refresh_fields(
    conn: sa.Connection, keys: Collection[FieldKey], now: datetime, feed: Feed
) -> None:
    """Set each (contact, field) of ``keys`` to its newest confident observation, unless locked.

    ``store_observations`` passes the pairs it just added a confident
    observation to: the others are derived already. No lower time bound is
    needed to keep old history out: the newest row of a pair is never older
    than the one just added, so the probe never reads further back than it.
    A field without any confident observation keeps its value.
    """
    newest: dict[int, dict[str, str]] = {}
    for r in _newest_values(conn, keys):
        if r.value is not None:
            newest.setdefault(r.contact_id, {})[r.field] = r.value
    if not newest:
        return
    ids = sorted(newest)
    columns = [contacts.c[f] for f in DERIVED_FIELDS]
    updates = []
    for row in select_in(conn, [contacts.c.id, *columns], contacts.c.id, ids):
        current = {f: row._mapping[f] for f in DERIVED_FIELDS}
        derived = {**current, **newest[row.id]}
        if derived != current:
            updates.append({"id": row.id, **derived, "updated_at": now})
    update_rows(conn, contacts, sorted(updates, key=lambda u: u["id"]))
    feed.extend(("contact", u["id"], "update") for u in updates)
