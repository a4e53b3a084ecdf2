"""Merging two contacts into one (``merge``), audited and undoable (``storage.unmerge``).

``merge(survivor, merged)`` moves everything of the merged-away contact to
the survivor: its addresses, the participant rows linked to it, its
observations (one per field and interaction, chosen as capture chooses), its
field locks (a field the survivor has locked keeps the survivor's lock;
otherwise the lock moves with its owner, so a CRM-owned field stays
CRM-owned), its employments and review items (where the survivor has one
for the same company or address, the survivor's stays), then derives the
survivor's fields again, closes the open reviews proposing an address the
survivor now holds, makes its blocking keys (``contact_keys``) those of
what it now is, and deletes the merged-away row. Every row it changes is journalled (``storage.merge_journal``)
under one ``merges`` row saying who, when and why.

The merged-away id keeps meaning the survivor: ``survivors_of`` follows
standing merges, and capture, imports and ``contacts show`` use it. The
change feed gets a ``merge`` row for the merged-away id whose ``other_id``
is the survivor, and an ``update`` of the survivor.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.identity import blocking_keys
from storage.changes import Entity, Feed, Operation
from storage.identity_keys import profiles
from storage.merge_journal import Journal, identity_lock, key_of, survivors_of
from storage.observations import outranks, refresh_fields
from storage.schema import (
    DERIVED_FIELDS,
    contact_emails,
    contact_field_locks,
    contact_keys,
    contact_observations,
    contacts,
    employments,
    interaction_participants,
    merges,
    review_queue,
)

Others = dict[tuple[Entity, int, Operation], int]


class MergeRefused(ValueError):
    """A merge or unmerge that cannot be done as asked; the message says why."""


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """One merge, as the audit keeps it."""

    id: int
    survivor_id: int
    merged_id: int
    actor: str
    reason: str
    merged_at: datetime
    undone_at: datetime | None
    undone_by: str | None
    rows: int = 0  # rows the merge changed (journalled)


def load_merge(conn: sa.Connection, merge_id: int) -> MergeRecord | None:
    m = merges.c
    row = conn.execute(sa.select(merges).where(m.id == merge_id)).first()
    return MergeRecord(*row) if row is not None else None


def merges_of(conn: sa.Connection, contact_id: int) -> list[MergeRecord]:
    """Every merge the contact took part in, oldest first."""
    m = merges.c
    query = sa.select(merges).where(sa.or_(m.survivor_id == contact_id, m.merged_id == contact_id))
    return [MergeRecord(*r) for r in conn.execute(query.order_by(m.id))]


def contact_row(conn: sa.Connection, contact_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
    return dict(row._mapping) if row is not None else None


def _check(conn: sa.Connection, survivor: int, merged: int) -> dict[str, Any]:
    """The merged-away contact's row, or MergeRefused."""
    if survivor == merged:
        raise MergeRefused(f"contact {survivor} cannot be merged with itself")
    moved = survivors_of(conn, [survivor, merged])
    for i in (survivor, merged):
        if i in moved:
            raise MergeRefused(f"contact {i} was merged into contact {moved[i]} already")
    if contact_row(conn, survivor) is None:
        raise MergeRefused(f"no contact {survivor}")
    row = contact_row(conn, merged)
    if row is None:
        raise MergeRefused(f"no contact {merged}")
    return row


def merge(
    conn: sa.Connection,
    survivor: int,
    merged: int,
    *,
    actor: str,
    reason: str,
    now: datetime,
    feed: Feed,
    others: Others,
) -> MergeRecord:
    """Merge contact ``merged`` into ``survivor`` (kept); MergeRefused when it cannot be."""
    identity_lock(conn, exclusive=True)
    gone = _check(conn, survivor, merged)
    values = {"survivor_id": survivor, "merged_id": merged, "actor": actor, "reason": reason}
    merge_id = conn.execute(
        merges.insert().values(**values, merged_at=now).returning(merges.c.id)
    ).scalar_one()
    journal = Journal(merge_id)
    for table in (contact_emails, interaction_participants):
        _relink(conn, journal, table, survivor, merged)
    _move_observations(conn, journal, survivor, merged)
    _move_locks(conn, journal, survivor, merged)
    _move_unique(conn, journal, employments, ("domain",), survivor, merged)
    _move_unique(conn, journal, review_queue, ("mailbox",), survivor, merged)
    _settle_survivor(conn, journal, survivor, gone, now)
    _close_held_reviews(conn, journal, survivor, now, feed)
    _move_unique(conn, journal, contact_keys, ("key",), survivor, merged)
    conn.execute(sa.delete(contacts).where(contacts.c.id == merged))
    journal.deleted(contacts, gone)
    _refresh_keys(conn, journal, survivor)
    journal.write(conn)
    feed.extend([("contact", merged, "merge"), ("contact", survivor, "update")])
    others[("contact", merged, "merge")] = survivor
    record = load_merge(conn, merge_id)
    assert record is not None
    return replace(record, rows=len(journal.rows))


def _relink(
    conn: sa.Connection, journal: Journal, table: sa.Table, survivor: int, merged: int
) -> None:
    """Point every row of ``table`` linked to ``merged`` at ``survivor``."""
    key = [c.name for c in table.primary_key.columns]
    rows = conn.execute(sa.select(*table.primary_key.columns).where(table.c.contact_id == merged))
    for r in rows.all():
        journal.changed(
            table, dict(zip(key, r, strict=True)), {"contact_id": merged}, {"contact_id": survivor}
        )
    conn.execute(sa.update(table).where(table.c.contact_id == merged).values(contact_id=survivor))


def _move_observations(conn: sa.Connection, journal: Journal, survivor: int, merged: int) -> None:
    """One observation per (contact, field, interaction), chosen as capture chooses."""
    o = contact_observations
    own = {
        (r.field, r.interaction_id): r
        for r in conn.execute(sa.select(o).where(o.c.contact_id == survivor)).all()
    }
    for r in conn.execute(sa.select(o).where(o.c.contact_id == merged).order_by(o.c.id)).all():
        row = dict(r._mapping)
        rival = own.get((row["field"], row["interaction_id"]))
        if rival is not None and outranks(dict(rival._mapping), row["confidence"], row["value"]):
            conn.execute(sa.delete(o).where(o.c.id == row["id"]))
            journal.deleted(o, row)
            continue
        if rival is not None:
            conn.execute(sa.delete(o).where(o.c.id == rival.id))
            journal.deleted(o, dict(rival._mapping))
        conn.execute(sa.update(o).where(o.c.id == row["id"]).values(contact_id=survivor))
        journal.changed(o, {"id": row["id"]}, {"contact_id": merged}, {"contact_id": survivor})


def _move_unique(
    conn: sa.Connection,
    journal: Journal,
    table: sa.Table,
    same: tuple[str, ...],
    survivor: int,
    merged: int,
) -> None:
    """Move ``merged``'s rows of ``table`` (unique by contact and ``same``) to ``survivor``;
    a row the survivor has already for the same ``same`` stays, the merged one goes."""
    mine = sa.select(table).where(table.c.contact_id == survivor)
    own = {tuple(r._mapping[c] for c in same) for r in conn.execute(mine)}
    theirs = sa.select(table).where(table.c.contact_id == merged)
    for r in conn.execute(theirs.order_by(*table.primary_key.columns)).all():
        row = dict(r._mapping)
        key = key_of(table, row)
        at = [table.c[k] == v for k, v in key.items()]
        if tuple(row[c] for c in same) in own:
            conn.execute(sa.delete(table).where(*at))
            journal.deleted(table, row)
            continue
        conn.execute(sa.update(table).where(*at).values(contact_id=survivor))
        if "contact_id" in key:  # the key holds the contact (contact_keys): as it is after
            key["contact_id"] = survivor
        journal.changed(table, key, {"contact_id": merged}, {"contact_id": survivor})


def _close_held_reviews(
    conn: sa.Connection, journal: Journal, survivor: int, now: datetime, feed: Feed
) -> None:
    """An open review proposing to the survivor an address it now holds has nothing to ask."""
    q, e = review_queue.c, contact_emails.c
    held = sa.select(e.mailbox).where(e.contact_id == survivor)
    moot = sa.select(q.id).where(q.contact_id == survivor, q.state == "open", q.mailbox.in_(held))
    for review_id in conn.execute(moot.order_by(q.id)).scalars().all():
        conn.execute(
            sa.update(review_queue).where(q.id == review_id).values(state="closed", decided_at=now)
        )
        before, after = (
            {"state": "open", "decided_at": None},
            {"state": "closed", "decided_at": now},
        )
        journal.changed(review_queue, {"id": review_id}, before, after)
        feed.append(("review", review_id, "update"))


def _refresh_keys(conn: sa.Connection, journal: Journal, survivor: int) -> None:
    """``storage.identity_keys.refresh_keys`` for the survivor, journalled."""
    t = contact_keys.c
    held = set(conn.execute(sa.select(t.key).where(t.contact_id == survivor)).scalars())
    found = profiles(conn, [survivor]).get(survivor)
    now = set(blocking_keys(found)) if found is not None else set()
    for key in sorted(held - now):
        conn.execute(sa.delete(contact_keys).where(t.key == key, t.contact_id == survivor))
        journal.deleted(contact_keys, {"key": key, "contact_id": survivor})
    for key in sorted(now - held):
        conn.execute(contact_keys.insert().values(key=key, contact_id=survivor))
        journal.inserted(contact_keys, {"key": key, "contact_id": survivor})


def _move_locks(conn: sa.Connection, journal: Journal, survivor: int, merged: int) -> None:
    """A field the survivor locked keeps its lock; the merged contact's other locks move, owner and all."""
    lock = contact_field_locks
    own = {
        r.field for r in conn.execute(sa.select(lock.c.field).where(lock.c.contact_id == survivor))
    }
    for r in conn.execute(
        sa.select(lock).where(lock.c.contact_id == merged).order_by(lock.c.field)
    ).all():
        row = dict(r._mapping)
        at = (lock.c.contact_id == merged) & (lock.c.field == row["field"])
        if row["field"] in own:
            conn.execute(sa.delete(lock).where(at))
            journal.deleted(lock, row)
            continue
        conn.execute(sa.update(lock).where(at).values(contact_id=survivor))
        key = {"contact_id": survivor, "field": row["field"]}
        journal.changed(lock, key, {"contact_id": merged}, {"contact_id": survivor})


def _settle_survivor(
    conn: sa.Connection, journal: Journal, survivor: int, gone: dict[str, Any], now: datetime
) -> None:
    """The survivor's fields from everything it holds now; what it lacked, from the merged row."""
    before = contact_row(conn, survivor)
    assert before is not None
    lock = contact_field_locks.c
    locked = dict(
        conn.execute(sa.select(lock.field, lock.value).where(lock.contact_id == survivor)).all()
    )
    refresh_fields(conn, [(survivor, f) for f in DERIVED_FIELDS if f not in locked], now, [])
    row = contact_row(conn, survivor)
    assert row is not None
    wanted = {f: v for f, v in locked.items() if f in DERIVED_FIELDS}
    for column in (*DERIVED_FIELDS, "company_id"):
        if column not in locked and row[column] is None and gone[column] is not None:
            wanted[column] = gone[column]
    seen = [t for t in (row["last_seen_at"], gone["last_seen_at"]) if t is not None]
    wanted["last_seen_at"] = max(seen, default=None)
    wanted["updated_at"] = now
    conn.execute(sa.update(contacts).where(contacts.c.id == survivor).values(**wanted))
    after = contact_row(conn, survivor)
    assert after is not None
    changed = [c for c in after if after[c] != before[c]]
    journal.changed(
        contacts,
        {"id": survivor},
        {c: before[c] for c in changed},
        {c: after[c] for c in changed},
    )
