"""Undoing a merge: every journalled row back as it was, and what came after sorted out.

The journal (``storage.merge_journal``) is replayed newest row first: the
merged-away contact's row comes back before anything points at it again,
and each changed column whose value is still what the merge wrote gets its
old value back. What capture added to the survivor after the merge and
belongs to the merged-away contact's addresses goes to it too: new
spellings of its mailboxes, participant rows of them, and observations
made in interactions where only it took part. With nothing captured in
between, the database is as it was before the merge, row for row (but for
the audit and the change feed).

A merge whose survivor was merged away later is undone after that later
merge: the rows it would restore point at a contact that is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import select_in
from storage.changes import Feed
from storage.freshness import refresh_last_seen
from storage.identity_keys import refresh_keys
from storage.merge_journal import TABLES, decode, identity_lock
from storage.merges import MergeRecord, MergeRefused, Others, load_merge
from storage.observations import refresh_fields
from storage.schema import (
    DERIVED_FIELDS,
    contact_emails,
    contact_observations,
    interaction_participants,
    merge_rows,
    merges,
)


def merge_to_undo(conn: sa.Connection, contact_id: int) -> int:
    """The standing merge a contact id names: the one that merged it away, else
    the only one it survived. MergeRefused when there is none, or several."""
    m = merges.c
    standing = sa.select(m.id).where(m.undone_at.is_(None))
    away = conn.execute(standing.where(m.merged_id == contact_id)).scalars().all()
    if away:
        return int(away[-1])
    kept = conn.execute(standing.where(m.survivor_id == contact_id).order_by(m.id)).scalars().all()
    if len(kept) == 1:
        return int(kept[0])
    if not kept:
        raise MergeRefused(f"contact {contact_id} has no merge to undo")
    listed = ", ".join(f"m{i}" for i in kept)
    raise MergeRefused(f"contact {contact_id} absorbed several contacts; name one merge: {listed}")


def unmerge(
    conn: sa.Connection, merge_id: int, *, actor: str, now: datetime, feed: Feed, others: Others
) -> MergeRecord:
    identity_lock(conn, exclusive=True)
    record = _undoable(conn, merge_id)
    rows = conn.execute(
        sa.select(merge_rows)
        .where(merge_rows.c.merge_id == merge_id)
        .order_by(merge_rows.c.id.desc())
    ).all()
    for r in rows:
        _restore(conn, TABLES[r.table_name], r.row_key, r.before, r.after)
    survivor, merged = record.survivor_id, record.merged_id
    if _reclaim(conn, survivor, merged):
        refresh_fields(
            conn, [(c, f) for c in (survivor, merged) for f in DERIVED_FIELDS], now, feed
        )
    refresh_last_seen(conn, [survivor, merged])
    refresh_keys(conn, [survivor, merged])  # what capture gave either since
    m = merges.c
    conn.execute(sa.update(merges).where(m.id == merge_id).values(undone_at=now, undone_by=actor))
    feed.extend([("contact", merged, "unmerge"), ("contact", survivor, "update")])
    others[("contact", merged, "unmerge")] = survivor
    return replace(record, undone_at=now, undone_by=actor, rows=len(rows))


def _undoable(conn: sa.Connection, merge_id: int) -> MergeRecord:
    record = load_merge(conn, merge_id)
    if record is None:
        raise MergeRefused(f"no merge m{merge_id}")
    if record.undone_at is not None:
        raise MergeRefused(f"merge m{merge_id} was undone already")
    m = merges.c
    later = conn.execute(
        sa.select(m.id).where(m.undone_at.is_(None), m.merged_id == record.survivor_id)
    ).scalar()
    if later is not None:
        raise MergeRefused(
            f"contact {record.survivor_id} was merged away by m{later} since; undo m{later} first"
        )
    return record


def _restore(
    conn: sa.Connection,
    table: sa.Table,
    key: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> None:
    """One journalled row: a deleted row inserted again, an added one deleted, a changed
    one's columns put back."""
    if after is None:
        assert before is not None  # a journal row holds one side at least
        conn.execute(table.insert().values(**decode(table, before)))
        return
    key = decode(table, key)
    where = [table.c[k] == v for k, v in key.items()]
    if before is None:
        conn.execute(sa.delete(table).where(*where))
        return
    current = conn.execute(sa.select(table).where(*where)).first()
    if current is None:
        return  # gone since (a replaced meeting's participants): nothing to put back
    now_values, old, new = current._mapping, decode(table, before), decode(table, after)
    back = {c: old[c] for c in old if now_values[c] == new[c]}
    if back:
        conn.execute(sa.update(table).where(*where).values(**back))


def _reclaim(conn: sa.Connection, survivor: int, merged: int) -> bool:
    """Give the merged contact what capture added to the survivor for its addresses since."""
    e, p = contact_emails.c, interaction_participants.c
    mailboxes = {r.mailbox for r in select_in(conn, [e.mailbox], e.contact_id, [merged])}
    moved = False
    for table in (contact_emails, interaction_participants):
        hit = sa.and_(table.c.contact_id == survivor, table.c.mailbox.in_(sorted(mailboxes)))
        moved = (
            bool(conn.execute(sa.update(table).where(hit).values(contact_id=merged)).rowcount)
            or moved
        )
    o = contact_observations.c
    theirs = {r.interaction_id for r in select_in(conn, [p.interaction_id], p.contact_id, [merged])}
    ours = {r.interaction_id for r in select_in(conn, [p.interaction_id], p.contact_id, [survivor])}
    held = {
        (r.field, r.interaction_id)
        for r in select_in(conn, [o.field, o.interaction_id], o.contact_id, [merged])
    }
    rows = select_in(
        conn, [o.id, o.field, o.interaction_id, o.contact_id], o.interaction_id, theirs - ours
    )
    ids = [
        r.id for r in rows if r.contact_id == survivor and (r.field, r.interaction_id) not in held
    ]
    if ids:
        conn.execute(sa.update(contact_observations).where(o.id.in_(ids)).values(contact_id=merged))
    return moved or bool(ids)
