"""Interaction upserts, and the SEQUENCE rule that decides when a meeting changes.

An interaction is an upsert on its global identity. Mail never changes once
sent, so a second copy of a message only adds a source. A meeting does
change: RFC 5545 section 3.8.7.4 says a new version of an event carries a
SEQUENCE at least as high as the previous one, so an incoming version
replaces times, status, subject and attendees only when its SEQUENCE is >=
the stored one; an older version (a replay, a stale copy in another
calendar) changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.plan import InteractionPlan
from storage.bulk import (
    allocate_ids,
    chunks,
    insert_new,
    key_value,
    select_in,
    text_value,
    update_rows,
    upsert,
    usable_email,
)
from storage.changes import Feed
from storage.schema import interaction_participants, interactions

# The columns a newer meeting version may replace.
REPLACEABLE = ("occurred_at", "ended_at", "status", "subject", "snippet", "sequence", "all_day")


@dataclass(slots=True)
class Stored:
    """Where each identity of a plan landed, and which plan version has a say over it."""

    ids: dict[str, int] = field(default_factory=dict)  # identity key -> interaction id
    current: dict[str, InteractionPlan] = field(default_factory=dict)
    new: set[int] = field(default_factory=set)
    replaced: set[int] = field(default_factory=set)  # meetings a newer version rewrote
    stale_participants: list[int] = field(default_factory=list)  # rows of dropped attendees

    def has_say(self, ip: InteractionPlan) -> bool:
        """Mail copies all count; of a meeting only the version that won the SEQUENCE rule."""
        return ip.kind != "meeting" or self.current.get(key_value(ip.identity)) is ip


def _columns(ip: InteractionPlan) -> dict[str, Any]:
    return {
        "occurred_at": ip.occurred_at,
        "ended_at": ip.ended_at,
        "status": text_value(ip.status) or "",
        "subject": text_value(ip.subject),
        "snippet": text_value(ip.snippet),
        "sequence": ip.sequence,
        "all_day": ip.all_day,
    }


def _thread_key(ip: InteractionPlan) -> str | None:
    return key_value(ip.thread_key) if ip.thread_key else None


def _latest(plans: Iterable[InteractionPlan]) -> dict[str, InteractionPlan]:
    """One plan per identity: the highest SEQUENCE, the later one on a tie."""
    chosen: dict[str, InteractionPlan] = {}
    for ip in plans:
        key = key_value(ip.identity)
        if key not in chosen or ip.sequence >= chosen[key].sequence:
            chosen[key] = ip
    return chosen


def upsert_interactions(
    conn: sa.Connection, plans: Iterable[InteractionPlan], now: datetime, feed: Feed
) -> Stored:
    chosen = _latest(plans)
    stored = Stored()
    t = interactions
    cols = [t.c.id, t.c.identity, t.c.kind, *(t.c[c] for c in REPLACEABLE)]
    existing: dict[str, Any] = {r.identity: r for r in select_in(conn, cols, t.c.identity, chosen)}
    missing = sorted(k for k in chosen if k not in existing)  # one lock order for all writers
    ids = allocate_ids(conn, t, len(missing))
    rows = [
        {
            "id": i,
            "identity": k,
            "kind": chosen[k].kind,
            "direction": chosen[k].direction,
            "thread_key": _thread_key(chosen[k]),
            "created_at": now,
            "updated_at": now,
            **_columns(chosen[k]),
        }
        for i, k in zip(ids, missing, strict=True)
    ]
    stmt = upsert(conn, t).on_conflict_do_nothing(index_elements=["identity"])
    for row in insert_new(conn, t, stmt, rows):
        stored.ids[row["identity"]] = row["id"]
        stored.current[row["identity"]] = chosen[row["identity"]]
        stored.new.add(row["id"])
    if lost := set(missing) - set(stored.ids):  # a concurrent writer inserted them first
        existing.update({r.identity: r for r in select_in(conn, cols, t.c.identity, lost)})
    for key, row in existing.items():
        stored.ids[key] = row.id
        if row.kind != "meeting" or chosen[key].sequence >= row.sequence:
            stored.current[key] = chosen[key]
    _fill_withheld(conn, existing, chosen, stored, now)
    _replace_meetings(conn, existing, stored, now)
    _revive(conn, existing, chosen, stored, now)
    feed.extend(("interaction", i, "insert") for i in sorted(stored.new))
    feed.extend(("interaction", i, "update") for i in sorted(stored.replaced))
    return stored


# Columns an account's privacy setting may withhold from its copy.
WITHHELD = ("subject", "snippet")


def _fill_withheld(
    conn: sa.Connection,
    existing: dict[str, Any],
    chosen: dict[str, InteractionPlan],
    stored: Stored,
    now: datetime,
) -> None:
    """A copy from an account that may store more fills what an earlier copy withheld.

    Two reps hold one message, one at ``privacy: subject``, one at ``full``:
    the snippet must not depend on whose mailbox was read first. Only empty
    columns are filled; a stored value is never replaced by another copy's.
    """
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for key, row in sorted(existing.items()):
        fill = {
            c: value
            for c in WITHHELD
            if row._mapping[c] is None and (value := text_value(getattr(chosen[key], c)))
        }
        if fill:
            by_columns.setdefault(tuple(fill), []).append({"id": row.id, **fill, "updated_at": now})
            stored.replaced.add(row.id)
    for updates in by_columns.values():  # update_rows binds rows of one shape
        update_rows(conn, interactions, updates)


def _attendees(ip: InteractionPlan) -> set[tuple[str, str, str | None]]:
    """(email, role, answer) as they will be stored: the first row of an (email, role) wins."""
    first: dict[tuple[str, str], str | None] = {}
    for p in ip.participants:
        if usable_email(p.email):
            first.setdefault((p.email, p.role), text_value(p.response_status))
    return {(email, role, answer) for (email, role), answer in first.items()}


def _replace_meetings(
    conn: sa.Connection, existing: dict[str, Any], stored: Stored, now: datetime
) -> None:
    """Rewrite stored meetings whose winning incoming version differs from what is stored."""
    candidates = {
        row.id: (key, row)
        for key, row in existing.items()
        if row.kind == "meeting" and key in stored.current
    }
    p = interaction_participants
    held: dict[int, dict[tuple[str, str, str | None], int]] = {i: {} for i in candidates}
    for r in select_in(
        conn,
        [p.c.id, p.c.interaction_id, p.c.email, p.c.role, p.c.response_status],
        p.c.interaction_id,
        candidates,
    ):
        held[r.interaction_id][(r.email, r.role, r.response_status)] = r.id
    updates = []
    for iid, (key, row) in sorted(candidates.items()):
        incoming = stored.current[key]
        # What this copy's account withholds keeps the value another copy gave.
        columns = _columns(incoming)
        columns.update({c: row._mapping[c] for c in WITHHELD if columns[c] is None})
        attendees = _attendees(incoming)
        if all(columns[c] == row._mapping[c] for c in REPLACEABLE) and set(held[iid]) == attendees:
            continue
        stored.replaced.add(iid)
        updates.append({"id": iid, **columns, "updated_at": now})
        keep = {(email, role) for email, role, _ in attendees}
        stored.stale_participants.extend(
            pid for (email, role, _), pid in held[iid].items() if (email, role) not in keep
        )
    update_rows(conn, interactions, updates)


def _revive(
    conn: sa.Connection,
    existing: dict[str, Any],
    chosen: dict[str, InteractionPlan],
    stored: Stored,
    now: datetime,
) -> None:
    """An interaction seen again at a source is live again: its copy in this batch is."""
    back = [
        {"id": row.id, "status": text_value(chosen[key].status) or "", "updated_at": now}
        for key, row in sorted(existing.items())
        if row.status == "removed" and row.id not in stored.replaced
    ]
    update_rows(conn, interactions, back)
    stored.replaced.update(r["id"] for r in back)


def replace_participants(conn: sa.Connection, stored: Stored) -> None:
    """Drop attendees a newer meeting version no longer lists."""
    for part in chunks(stored.stale_participants):
        conn.execute(
            sa.delete(interaction_participants).where(interaction_participants.c.id.in_(part))
        )
