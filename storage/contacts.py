"""Contacts inside ``apply``: ensure owners for emails, companies, observations, fields.

"create" means *ensure a contact owns this mailbox*: the mailbox key
(``matcher.mailboxes``) is the natural key, so the same address, or two
spellings of one Gmail address, in two messages of one batch or in a
replayed batch, is one contact. A contact row is inserted first and then
claims its address; if a concurrent writer claimed it in between, our row
is deleted again and theirs is used. On PostgreSQL, writers creating one
mailbox take its advisory lock first, so two spellings written at once by
two processes cannot make two contacts. Every spelling a contact is seen
with becomes one of its ``contact_emails`` rows, as written.

A contact's fields are never written directly by capture: each participant's
observations are stored with provenance and the fields are re-derived
(newest observation with confidence >= ``MIN_CONFIDENCE`` per field), except
fields locked by a person or a CRM (``contact_field_locks``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.plan import ParticipantPlan
from storage import pending
from storage.addresses import (
    add_addresses,
    batch_joins,
    firsts,
    held,
    lock_mailboxes,
    owner_of_rows,
    owners_of,
    release_former,
)
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
    usable_email,
    write_rows,
)
from storage.changes import Feed
from storage.identity_keys import MIN_PHONE_CONFIDENCE
from storage.merge_journal import live_targets
from storage.schema import (
    DERIVED_FIELDS,
    companies,
    company_domains,
    contact_emails,
    contact_field_locks,
    contact_observations,
    contacts,
    interaction_participants,
)

MIN_CONFIDENCE = 0.5
FieldKey = tuple[int, str]  # (contact id, derived field)


@dataclass(frozen=True, slots=True)
class Seat:
    """One participant of one applied interaction, with where and when it was seen."""

    interaction_id: int
    occurred_at: datetime
    account_id: int
    participant: ParticipantPlan


@dataclass(frozen=True, slots=True)
class Owners:
    """Which contact owns each email of the batch after apply, and what is new."""

    by_mailbox: Mapping[str, int]
    links: Mapping[tuple[int, str], int]  # (interaction, email) -> contact for valid links
    new_contacts: int
    claimed: frozenset[str]  # mailboxes that got an owner in this transaction
    created: frozenset[int] = frozenset()  # contacts inserted in this transaction

    def contact_of(self, seat: Seat) -> int | None:
        p = seat.participant
        return self.links.get((seat.interaction_id, p.email)) or self.by_mailbox.get(p.key)


def companies_of(conn: sa.Connection, domains: Iterable[str]) -> dict[str, int]:
    c = company_domains.c
    rows = select_in(conn, [c.domain, c.company_id], c.domain, domains)
    return {r.domain: r.company_id for r in rows}


def ensure_owners(conn: sa.Connection, seats: list[Seat], now: datetime, feed: Feed) -> Owners:
    rows = held(conn, {s.participant.key for s in seats})
    # A former address is nobody's now: a scored link may find its old
    # owner again, a creation gives it to whoever writes from it.
    owner = owner_of_rows(r for r in rows if r.status != "former")
    former = {r.mailbox for r in rows if r.status == "former"} - set(owner)
    spelled = {r.email for r in rows}
    linked = [s.participant.contact_id for s in seats if s.participant.decision == "link"]
    # A link planned before a merge lands on its survivor.
    live = live_targets(conn, [i for i in linked if i is not None])
    links: dict[tuple[int, str], int] = {}
    claims: dict[str, int] = {}
    creates: dict[str, ParticipantPlan] = {}
    written: dict[str, str] = {}  # mailbox -> the spelling that claims it
    origins: dict[str, str] = {}  # mailbox -> the rule that claims it
    for seat in seats:
        p = seat.participant
        target = live.get(p.contact_id) if p.decision == "link" and p.contact_id else None
        if target is not None:
            links[(seat.interaction_id, p.email)] = target
            if p.key not in owner:
                claims.setdefault(p.key, target)  # a scored link adds the address
                written.setdefault(p.key, p.email)
                origins.setdefault(p.key, p.rule)
        elif p.decision in ("link", "create") and p.key not in owner:
            creates.setdefault(p.key, p)  # a link to a vanished contact re-creates it
    for key in claims:
        creates.pop(key, None)
    joins = batch_joins(creates, owner)
    for key in joins:
        creates.pop(key)
    creates = _still_unowned(conn, creates, owner, spelled, claims)
    spelled -= release_former(conn, set(creates) & former, now, feed)
    domains = {
        p.company_domain: p.company_name or p.company_domain
        for p in _acting(seats)
        if p.company_domain
    }
    domain_company = ensure_companies(conn, domains, now, feed)
    fields = derived_fields(
        [
            *pending.kept_rows(conn, creates),  # what earlier mail of theirs gave
            *observation_rows(
                seats, lambda s: s.participant.key if s.participant.key in creates else None
            ).values(),
        ]
    )
    written.update({k: p.email for k, p in creates.items()})
    origins.update({k: p.rule for k, p in creates.items()})
    landed = _insert_contacts(
        conn, creates, claims, _Claim(written, origins), fields, domain_company, now, feed
    )
    owner.update(landed)
    if lost := set(creates) - set(landed):  # lost a race: another writer owns these now
        owner.update(owners_of(conn, lost))
    if joins:  # each joins the contact its first sighting's mailbox now has
        written.update({k: p.email for k, p in joins.items()})
        origins.update({k: p.rule for k, p in joins.items()})
        follow = {k: owner[first] for k, first in firsts(joins).items() if first in owner}
        claim = _Claim(written, origins)
        landed.update(_insert_contacts(conn, {}, follow, claim, {}, domain_company, now, feed))
        owner.update(landed)
    spelled.update(written[k] for k in landed)
    _add_spellings(conn, seats, owner, links, spelled, feed)
    _assign_companies(conn, seats, owner, links, domain_company, now, feed)
    created = frozenset(i for k, i in landed.items() if k in creates)
    return Owners(owner, links, len(created), frozenset(landed), created)


def _still_unowned(
    conn: sa.Connection,
    creates: dict[str, ParticipantPlan],
    owner: dict[str, int],
    spelled: set[str],
    claims: dict[str, int] | None = None,
) -> dict[str, ParticipantPlan]:
    """PostgreSQL: the mailboxes to create once their locks are ours (``lock_mailboxes``).

    A writer that held a lock may have made the contact meanwhile: its owner
    and spellings join ``owner`` and ``spelled``. Mailboxes a scored link
    ``claims`` are locked too, and a claim on one that got an owner meanwhile
    is dropped: one mailbox, one contact.
    """
    claims = claims if claims is not None else {}
    if (not creates and not claims) or conn.dialect.name != "postgresql":
        return creates
    wanted = set(creates) | set(claims)
    lock_mailboxes(conn, wanted)
    made = [r for r in held(conn, wanted) if r.status != "former"]
    owner.update(owner_of_rows(made))
    spelled.update(r.email for r in made)
    for key in set(claims) & set(owner):
        del claims[key]
    return {k: p for k, p in creates.items() if k not in owner}


def _acting(seats: Iterable[Seat]) -> Iterable[ParticipantPlan]:
    """Participants whose decision touches a contact (link or create)."""
    return (s.participant for s in seats if s.participant.decision != "skip")


@dataclass(frozen=True, slots=True)
class _Claim:
    written: Mapping[str, str]  # mailbox -> the spelling that claims it
    origins: Mapping[str, str]  # mailbox -> why (the participant's rule)


def _insert_contacts(
    conn: sa.Connection,
    creates: Mapping[str, ParticipantPlan],
    claims: Mapping[str, int],
    claim: _Claim,
    fields: Mapping[str, Mapping[str, str]],
    domain_company: Mapping[str, int],
    now: datetime,
    feed: Feed,
) -> dict[str, int]:
    """One contact per created mailbox, claiming its address; the owner of each that landed.

    ``creates`` and ``claims`` are by mailbox key; ``claim`` says with which
    spelling and why each is claimed.
    """
    new_ids: dict[str, int] = {}
    if creates:
        ids = allocate_ids(conn, contacts, len(creates))
        rows = [
            {
                "id": i,
                **{f: fields.get(key, {}).get(f) for f in DERIVED_FIELDS},
                "created_rule": text_value(p.rule) or "",
                "company_id": domain_company.get(p.company_domain or ""),
                "created_at": now,
                "updated_at": now,
            }
            for i, (key, p) in zip(ids, creates.items(), strict=True)
        ]
        write_rows(conn, contacts.insert(), rows)
        new_ids = dict(zip(creates, ids, strict=True))
    wanted = {**new_ids, **claims}
    if not wanted:
        return {}
    stmt = upsert(conn, contact_emails).on_conflict_do_nothing(index_elements=["email"])
    rows = [
        {"email": claim.written[k], "contact_id": c, "mailbox": k, "origin": claim.origins.get(k)}
        for k, c in sorted(wanted.items())
    ]
    landed = {
        r["mailbox"] for r in insert_new(conn, contact_emails, stmt, rows, "email", "contact_id")
    }
    orphans = [i for k, i in new_ids.items() if k not in landed]
    for part in chunks(orphans):
        conn.execute(sa.delete(contacts).where(contacts.c.id.in_(part)))
    feed.extend(("contact", new_ids[k], "insert") for k in sorted(landed) if k in new_ids)
    feed.extend(("contact", claims[k], "update") for k in sorted(landed) if k in claims)
    return {k: wanted[k] for k in landed}


def _add_spellings(
    conn: sa.Connection,
    seats: Iterable[Seat],
    owner: Mapping[str, int],
    links: Mapping[tuple[int, str], int],
    spelled: Collection[str],
    feed: Feed,
) -> None:
    """Keep every spelling a contact is seen with as one of its addresses, as written.

    ``spelled``: the addresses of the batch's mailboxes already stored.
    """
    wanted: dict[str, tuple[int, str]] = {}
    for s in seats:
        p = s.participant
        contact = links.get((s.interaction_id, p.email)) or owner.get(p.key)
        if p.decision == "skip" or contact is None or p.email in spelled:
            continue
        if usable_email(p.email):
            wanted.setdefault(p.email, (contact, p.key))
    add_addresses(conn, wanted, feed, known=())


def ensure_companies(
    conn: sa.Connection, domains: Mapping[str, str], now: datetime, feed: Feed
) -> dict[str, int]:
    """Company id per registrable domain; a new domain's company takes the given name."""
    found = companies_of(conn, domains)
    missing = sorted(set(domains) - set(found))
    if not missing:
        return found
    ids = allocate_ids(conn, companies, len(missing))
    write_rows(
        conn,
        companies.insert(),
        [
            {"id": i, "name": text_value(domains[d]) or d, "created_at": now}
            for i, d in zip(ids, missing, strict=True)
        ],
    )
    new = dict(zip(missing, ids, strict=True))
    claim = upsert(conn, company_domains).on_conflict_do_nothing(index_elements=["domain"])
    rows = [{"domain": d, "company_id": i} for d, i in new.items()]
    landed = {
        r["domain"] for r in insert_new(conn, company_domains, claim, rows, "domain", "company_id")
    }
    lost = [i for d, i in new.items() if d not in landed]
    for part in chunks(lost):
        conn.execute(sa.delete(companies).where(companies.c.id.in_(part)))
    feed.extend(("company", i, "insert") for d, i in new.items() if d in landed)
    found.update({d: i for d, i in new.items() if d in landed})
    if lost:
        found.update(companies_of(conn, set(missing) - landed))
    return found


def _assign_companies(
    conn: sa.Connection,
    seats: list[Seat],
    owner: Mapping[str, int],
    links: Mapping[tuple[int, str], int],
    domain_company: Mapping[str, int],
    now: datetime,
    feed: Feed,
) -> None:
    """Give existing contacts without a company the company of their work domain."""
    wanted: dict[int, int] = {}
    for s in seats:
        p = s.participant
        contact = links.get((s.interaction_id, p.email)) or owner.get(p.key)
        if contact and p.company_domain in domain_company and p.decision != "skip":
            wanted.setdefault(contact, domain_company[p.company_domain or ""])
    rows = select_in(conn, [contacts.c.id, contacts.c.company_id], contacts.c.id, wanted)
    todo = [r.id for r in rows if r.company_id is None]
    if not todo:
        return
    changed = [{"id": c, "company_id": wanted[c], "updated_at": now} for c in sorted(todo)]
    update_rows(conn, contacts, changed)
    feed.extend(("contact", c, "update") for c in sorted(todo))


def backlink(conn: sa.Connection, owners: Owners, feed: Feed) -> None:
    """Link earlier participant rows of newly owned mailboxes, so arrival order does not matter.

    The spellings those rows were written with become the contact's
    addresses too: the one a person writes from is worth more to a CRM than
    the tagged one we happened to answer.
    """
    rows = [{"mailbox": k, "contact_id": owners.by_mailbox[k]} for k in sorted(owners.claimed)]
    update_rows(conn, interaction_participants, rows, key="mailbox", only_if_null="contact_id")
    p = interaction_participants.c
    seen = select_in(conn, [p.email, p.mailbox], p.mailbox, owners.claimed)
    add_addresses(conn, {r.email: (owners.by_mailbox[r.mailbox], r.mailbox) for r in seen}, feed)


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
