"""Contacts inside ``apply``: ensure owners for emails, their companies, backlinks.

"create" means *ensure a contact owns this mailbox*: the mailbox key
(``matcher.mailboxes``) is the natural key, so the same address, or two
spellings of one Gmail address, in two messages of one batch or in a
replayed batch, is one contact. A contact row is inserted first and then
claims its address; if a concurrent writer claimed it in between, our row
is deleted again and theirs is used. On PostgreSQL, writers creating one
mailbox take its advisory lock first, so two spellings written at once by
two processes cannot make two contacts. Every spelling a contact is seen
with becomes one of its ``contact_emails`` rows, as written.

Fields come from observations (``storage.observations``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

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
    allocate_ids,
    chunks,
    insert_new,
    select_in,
    text_value,
    update_rows,
    upsert,
    usable_email,
    write_rows,
)
from storage.changes import Feed
from storage.merge_journal import live_targets
from storage.observations import derived_fields, observation_rows
from storage.schema import (
    DERIVED_FIELDS,
    companies,
    company_domains,
    contact_emails,
    contacts,
    interaction_participants,
)
from storage.seats import Owners, Seat


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
