"""``apply``: one Plan and its cursor in one transaction (docs/ARCHITECTURE.md, invariant 1).

Every write is an upsert on a natural key, so replaying a batch after a
crash, or capturing the same message from a second account, changes
nothing but what is new: one interaction per identity, one source per
(account, provider id), one participant row per (interaction, email, role).
The statements are Core bulk statements (executemany, chunked IN lookups):
the cost is a handful of round trips per batch, not per message.

Order inside the transaction: accounts, interactions, sources, contacts and
companies (``storage.contacts``), participants, backlinks, last-seen times
(``storage.freshness``), observations and derived fields
(``storage.observations``), job changes (``storage.employment``), the review
queue (``storage.reviews``), company names (``storage.company_names``),
address evidence, ingest errors, removals, the completeness ledger, the
cursor, the blocking keys of the contacts changed (``storage.identity_keys``),
and last the change feed rows describing all of it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from connectors.records import Held, SourceRef
from matcher.plan import Evidence, InteractionPlan, Plan, evidence_of, merge_evidence
from storage import changes as feed_rows
from storage import cursors, ledger
from storage.addresses import follow_bounces
from storage.bulk import (
    allocate_ids,
    chunks,
    insert_new,
    key_value,
    select_in,
    text_value,
    upsert,
    usable_email,
    write_rows,
)
from storage.changes import Feed
from storage.company_names import name_companies
from storage.contacts import backlink, ensure_owners
from storage.directory import stored_evidence
from storage.employment import moves, record_moves
from storage.freshness import note_sightings
from storage.identity_keys import refresh_keys, unkeyed
from storage.interactions import Stored, replace_participants, upsert_interactions
from storage.merge_journal import identity_lock
from storage.observations import store_observations
from storage.reviews import queue_reviews
from storage.schema import (
    address_evidence,
    ingest_errors,
    interaction_participants,
    interaction_sources,
    interactions,
)
from storage.schema_accounts import accounts
from storage.seats import Owners, Seat
from storage.sender_signatures import store_signatures

MAX_DETAIL_CHARS = 2000


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one apply added; a replayed plan reports zeros."""

    new_contacts: int = 0
    new_interactions: int = 0
    new_sources: int = 0
    errors: int = 0  # ingest errors not seen before
    updated_interactions: int = 0  # meetings replaced by a newer SEQUENCE
    removed_interactions: int = 0  # interactions whose last source was deleted


def apply_plan(
    conn: sa.Connection,
    plan: Plan,
    stream: str,
    cursor: Mapping[str, Any] | None,
    now: datetime,
    window_since: datetime | None = None,
    held: Sequence[Held] = (),
) -> ApplyResult:
    feed: Feed = []
    identity_lock(conn, exclusive=False)  # no merge between reading owners and writing links
    account_ids = ensure_accounts(conn, _account_names(plan), now)
    stored = upsert_interactions(conn, plan.interactions, now, feed)
    new_sources = _insert_sources(conn, plan.interactions, stored, account_ids, now)
    seats = _seats(plan.interactions, stored, account_ids)
    owners = ensure_owners(conn, seats, now, feed)
    replace_participants(conn, stored)
    _insert_participants(conn, seats, owners, stored)
    backlink(conn, owners, feed)
    note_sightings(conn, seats, owners.claimed)
    phoned = store_observations(conn, seats, owners, now, feed)
    record_moves(conn, moves(seats, owners.links), now, feed)
    queue_reviews(conn, seats, now, feed)
    name_companies(conn, feed)
    said = [ip for ip in plan.interactions if stored.has_say(ip)]
    _store_evidence(conn, said)
    follow_bounces(conn, said, {s.participant.key for s in seats}, feed)
    store_signatures(conn, plan.sender_signatures, now)
    errors = _store_errors(conn, plan, account_ids, now)
    removed = remove_sources(conn, plan.removed, account_ids, now, feed)
    gone = [r.provider_id for r in plan.removed if r.account == plan.account]
    ledger.keep(conn, account_ids[plan.account], stream, held, gone, now)
    if cursor is not None:
        cursors.store(conn, account_ids[plan.account], stream, cursor, now, window_since)
    # Contacts the batch changed are found by their new keys from the next batch on.
    changed = {i for entity, i, _ in feed if entity == "contact"}
    refresh_keys(conn, unkeyed(conn, phoned) | changed)
    feed_rows.record(conn, feed, now)
    return ApplyResult(
        new_contacts=owners.new_contacts,
        new_interactions=len(stored.new),
        new_sources=new_sources,
        errors=errors,
        updated_interactions=len(stored.replaced),
        removed_interactions=removed,
    )


def _account_names(plan: Plan) -> set[str]:
    names = {plan.account}
    names.update(i.source.account for i in plan.interactions)
    names.update(e.source.account for e in plan.errors)
    names.update(r.account for r in plan.removed)
    return names


def ensure_accounts(
    conn: sa.Connection, names: Iterable[str], now: datetime, kind: str = "unknown"
) -> dict[str, int]:
    """Id of each named account, creating the missing ones with ``kind``."""
    names = set(names)
    found = {
        r.name: r.id
        for r in select_in(conn, [accounts.c.id, accounts.c.name], accounts.c.name, names)
    }
    if missing := sorted(names - set(found)):
        rows = [{"name": n, "kind": kind, "state": "ok", "items_captured": 0} for n in missing]
        conn.execute(upsert(conn, accounts).on_conflict_do_nothing(index_elements=["name"]), rows)
        found.update(
            {
                r.name: r.id
                for r in select_in(conn, [accounts.c.id, accounts.c.name], accounts.c.name, missing)
            }
        )
    return found


def _insert_sources(
    conn: sa.Connection,
    plans: Iterable[InteractionPlan],
    stored: Stored,
    account_ids: Mapping[str, int],
    now: datetime,
) -> int:
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for ip in plans:
        key = (account_ids[ip.source.account], key_value(ip.source.provider_id))
        rows.setdefault(
            key,
            {
                "interaction_id": stored.ids[key_value(ip.identity)],
                "account_id": key[0],
                "stream": text_value(ip.source.stream) or "",
                "provider_id": key[1],
                "seen_at": now,
            },
        )
    for row, i in zip(
        rows.values(), allocate_ids(conn, interaction_sources, len(rows)), strict=True
    ):
        row["id"] = i
    stmt = upsert(conn, interaction_sources).on_conflict_do_nothing(
        index_elements=["account_id", "provider_id"]
    )
    ordered = [rows[k] for k in sorted(rows)]  # one lock order for all writers
    landed = {id(r) for r in insert_new(conn, interaction_sources, stmt, ordered)}
    _restore_sources(conn, [k for k, r in rows.items() if id(r) not in landed])
    return len(landed)


def _sources_at(conn: sa.Connection, keys: Collection[tuple[int, str]]) -> list[sa.Row[Any]]:
    """Stored source rows for (account id, provider id) keys."""
    s = interaction_sources
    columns = [s.c.id, s.c.account_id, s.c.provider_id, s.c.interaction_id, s.c.removed_at]
    rows = select_in(conn, columns, s.c.provider_id, {k[1] for k in keys})
    return [r for r in rows if (r.account_id, r.provider_id) in keys]


def _restore_sources(conn: sa.Connection, keys: Collection[tuple[int, str]]) -> None:
    """A copy seen again at the source is no longer removed (an undeleted event)."""
    s = interaction_sources
    back = [r.id for r in _sources_at(conn, keys) if r.removed_at]
    for part in chunks(back):
        conn.execute(sa.update(s).where(s.c.id.in_(part)).values(removed_at=None))


def _seats(
    plans: Iterable[InteractionPlan], stored: Stored, account_ids: Mapping[str, int]
) -> list[Seat]:
    """Participants to write: every copy's, except a superseded meeting version's."""
    seats: list[Seat] = []
    for ip in plans:
        key = key_value(ip.identity)
        if ip.kind == "meeting" and stored.current.get(key) is not ip:
            continue  # an older SEQUENCE (or an older copy in this batch) has no say
        iid = stored.ids[key]
        for p in ip.participants:
            if usable_email(p.email):
                seats.append(Seat(iid, ip.occurred_at, account_ids[ip.source.account], p))
    return seats


def _insert_participants(
    conn: sa.Connection, seats: list[Seat], owners: Owners, stored: Stored
) -> None:
    rows: dict[tuple[int, str, str], dict[str, Any]] = {}
    for s in seats:
        p = s.participant
        contact = owners.contact_of(s)
        rows.setdefault(
            (s.interaction_id, p.email, p.role),
            {
                "interaction_id": s.interaction_id,
                "email": p.email,
                "name": text_value(p.name),
                "role": p.role,
                "klass": p.klass,
                "decision": p.decision,
                "rule": text_value(p.rule) or "",
                "response_status": text_value(p.response_status),
                "contact_id": contact,
                "class_reason": text_value(p.class_reason) or "",
                "meeting_role": text_value(p.meeting_role),
                "mailbox": p.key,
            },
        )
    stmt = upsert(conn, interaction_participants)
    keys = ["interaction_id", "email", "role"]
    plain = stmt.on_conflict_do_nothing(index_elements=keys)
    # A replaced meeting version brings the attendees' new answers (PARTSTAT).
    refresh = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={"response_status": stmt.excluded.response_status, "name": stmt.excluded.name},
    )
    ordered = [rows[k] for k in sorted(rows)]
    for statement, wanted in ((plain, False), (refresh, True)):
        part_rows = [r for r in ordered if (r["interaction_id"] in stored.replaced) == wanted]
        write_rows(conn, statement, part_rows)


def _store_evidence(conn: sa.Connection, plans: Iterable[InteractionPlan]) -> None:
    """Keep ``address_evidence`` the union of ``evidence_of`` over every applied interaction."""
    found: dict[str, Evidence] = {}
    for ip in plans:
        for email, ev in evidence_of(ip).items():
            found[email] = merge_evidence(found.get(email), ev)
    if not found:
        return
    t = address_evidence
    known = stored_evidence(conn, found)
    rows = []
    for email, ev in sorted(found.items()):
        merged = merge_evidence(known.get(email), ev)
        if usable_email(email) and merged != known.get(email):
            rows.append({"email": email, **_evidence_columns(merged)})
    if not rows:
        return
    stmt = upsert(conn, t)
    # OR with the stored row: a concurrent writer's evidence is never lost.
    stmt = stmt.on_conflict_do_update(
        index_elements=["email"],
        set_={c: sa.or_(t.c[c], stmt.excluded[c]) for c in _EVIDENCE_COLUMNS},
    )
    write_rows(conn, stmt, rows)


_EVIDENCE_COLUMNS = ("sent_to", "received_from", "met", "listed")


def _evidence_columns(ev: Evidence) -> dict[str, bool]:
    return {c: getattr(ev, c) for c in _EVIDENCE_COLUMNS}


def _store_errors(
    conn: sa.Connection, plan: Plan, account_ids: Mapping[str, int], now: datetime
) -> int:
    """Upsert ingest errors; a repeat sighting bumps ``count`` and ``last_seen``."""
    rows: dict[tuple[int, str, str], dict[str, Any]] = {}
    for err in plan.errors:
        key = (account_ids[err.source.account], key_value(err.source.provider_id), err.reason)
        rows[key] = {
            "account_id": key[0],
            "stream": text_value(err.source.stream) or "",
            "provider_id": key[1],
            "reason": text_value(err.reason) or "",
            "detail": (text_value(err.detail) or "")[:MAX_DETAIL_CHARS],
            "locator": (text_value(err.locator) or "")[:MAX_DETAIL_CHARS],
            "count": 1,
            "first_seen": now,
            "last_seen": now,
        }
    if not rows:
        return 0
    t = ingest_errors
    known = {
        (r.account_id, r.provider_id, r.reason)
        for r in select_in(
            conn,
            [t.c.account_id, t.c.provider_id, t.c.reason],
            t.c.provider_id,
            {k[1] for k in rows},
        )
    }
    stmt = upsert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "provider_id", "reason"],
        set_={
            "count": t.c.count + 1,
            "last_seen": now,
            "detail": stmt.excluded.detail,
            "locator": stmt.excluded.locator,
        },
    )
    for part in chunks([rows[k] for k in sorted(rows)]):
        conn.execute(stmt, part)
    return len(set(rows) - known)


def remove_sources(
    conn: sa.Connection,
    removed: Iterable[SourceRef],
    account_ids: Mapping[str, int],
    now: datetime,
    feed: Feed,
) -> int:
    """Mark copies deleted; an interaction with no copy left becomes status "removed"."""
    keys = {(account_ids[r.account], key_value(r.provider_id)) for r in removed}
    if not keys:
        return 0
    s = interaction_sources
    hit = _sources_at(conn, keys)
    for part in chunks([r.id for r in hit]):
        conn.execute(
            sa.update(s).where(s.c.id.in_(part), s.c.removed_at.is_(None)).values(removed_at=now)
        )
    touched = {r.interaction_id for r in hit}
    live = {
        r.interaction_id
        for r in select_in(conn, [s.c.interaction_id, s.c.removed_at], s.c.interaction_id, touched)
        if r.removed_at is None
    }
    gone = sorted(
        r.id
        for r in select_in(
            conn, [interactions.c.id, interactions.c.status], interactions.c.id, touched - live
        )
        if r.status != "removed"
    )
    for part in chunks(gone):
        conn.execute(
            sa.update(interactions)
            .where(interactions.c.id.in_(part))
            .values(status="removed", updated_at=now)
        )
    feed.extend(("interaction", i, "delete") for i in gone)
    return len(gone)
