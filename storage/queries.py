"""Read queries for the CLI and for people: frozen values, never ORM objects.

Each function takes an open connection and loads related rows in chunked
batches (one statement per kind of row, not one per contact).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import select_in
from storage.employment import EmploymentView, employment_history
from storage.observations import MIN_CONFIDENCE
from storage.schema import (
    DERIVED_FIELDS,
    companies,
    company_domains,
    contact_emails,
    contact_field_locks,
    contact_observations,
    contacts,
    ingest_errors,
    interaction_participants,
    interaction_sources,
    interactions,
)
from storage.schema_accounts import accounts


@dataclass(frozen=True, slots=True)
class ContactSummary:
    id: int
    name: str | None
    emails: tuple[str, ...]
    company: str | None  # the observed company, else the company of the work domain
    last_seen_at: datetime | None = None  # the newest interaction of any of its addresses


@dataclass(frozen=True, slots=True)
class Observed:
    """One observation of a field, with its provenance."""

    field: str
    value: str
    confidence: float
    observed_at: datetime
    interaction_id: int
    account: str
    subject: str | None = None  # of the interaction, when privacy kept it


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A contact's current value of a field and where it comes from."""

    field: str
    value: str
    owner: str  # "observed" | "manual" | "crm"
    since: datetime  # when it was observed or set
    observation: Observed | None  # None for a locked field


@dataclass(frozen=True, slots=True)
class AddressView:
    """One address of a contact: as written, the mailbox it matches by, and its status."""

    email: str
    mailbox: str
    status: str  # current | former | bouncing | invalid
    status_reason: str | None  # e.g. "bounce:5.1.1:dsn"
    status_at: datetime | None
    origin: str | None = None  # why it is the contact's (``contact_emails.origin``)


@dataclass(frozen=True, slots=True)
class ContactDetail:
    id: int
    emails: tuple[str, ...]
    company_id: int | None
    company_name: str | None
    company_domains: tuple[str, ...]
    created_rule: str
    created_at: datetime
    fields: tuple[FieldValue, ...]
    # Every observation, newest first, then by field. ``fields`` holds the five
    # columns of ``contacts`` (DERIVED_FIELDS) first, then every other observed
    # field (each phone label is a field of its own: "phone:mobile", ...).
    history: tuple[Observed, ...]
    addresses: tuple[AddressView, ...] = ()  # ``emails`` with their mailbox and status
    employments: tuple[EmploymentView, ...] = ()  # oldest first (``storage.employment``)

    def value(self, name: str) -> str | None:
        return next((f.value for f in self.fields if f.field == name), None)


@dataclass(frozen=True, slots=True)
class ParticipantView:
    email: str
    name: str | None
    role: str
    klass: str
    decision: str
    rule: str
    response_status: str | None
    contact_id: int | None
    class_reason: str = ""
    meeting_role: str | None = None


@dataclass(frozen=True, slots=True)
class SourceView:
    account: str
    stream: str
    provider_id: str
    removed: bool


@dataclass(frozen=True, slots=True)
class InteractionView:
    id: int
    identity: str
    kind: str
    occurred_at: datetime
    ended_at: datetime | None
    subject: str | None
    direction: str
    thread_key: str | None
    status: str
    sequence: int
    participants: tuple[ParticipantView, ...]
    sources: tuple[SourceView, ...]


@dataclass(frozen=True, slots=True)
class ErrorView:
    account: str
    stream: str
    provider_id: str
    reason: str
    detail: str
    count: int
    first_seen: datetime
    last_seen: datetime
    locator: str = ""  # where a person finds the item: byte offset, Message-ID, Date


def _summaries(conn: sa.Connection, ids: list[int]) -> list[ContactSummary]:
    emails: dict[int, list[str]] = defaultdict(list)
    e = contact_emails.c
    for r in select_in(conn, [e.contact_id, e.email], e.contact_id, ids):
        emails[r.contact_id].append(r.email)
    c = contacts.c
    query = sa.select(
        c.id, c.name, c.company, c.last_seen_at, companies.c.name.label("company_name")
    ).outerjoin(companies, companies.c.id == c.company_id)
    rows = {r.id: r for r in select_in(conn, query, c.id, ids)}
    return [
        ContactSummary(
            i,
            rows[i].name,
            tuple(sorted(emails[i])),
            rows[i].company or rows[i].company_name,
            rows[i].last_seen_at,
        )
        for i in ids
        if i in rows
    ]


def list_contacts(
    conn: sa.Connection, limit: int, offset: int, seen_before: datetime | None = None
) -> list[ContactSummary]:
    """Contacts by id; with ``seen_before``, the stale ones: never seen, or last seen
    before it, longest unseen first (through ``ix_contacts_last_seen_at``)."""
    c = contacts.c
    query = sa.select(c.id).order_by(c.id)
    if seen_before is not None:
        stale = sa.or_(c.last_seen_at.is_(None), c.last_seen_at < seen_before)
        never_first = sa.case((c.last_seen_at.is_(None), 0), else_=1)
        query = sa.select(c.id).where(stale).order_by(never_first, c.last_seen_at, c.id)
    return _summaries(conn, list(conn.execute(query.limit(limit).offset(offset)).scalars()))


def search_contacts(conn: sa.Connection, text: str, limit: int = 50) -> list[ContactSummary]:
    """Contacts whose name, email or company contains ``text``, case-insensitively."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"

    def has(column: Any) -> sa.ColumnElement[bool]:
        return sa.func.lower(column).like(pattern, escape="\\")

    by_email = sa.select(contact_emails.c.contact_id).where(has(contact_emails.c.email))
    by_company = (
        sa.select(contacts.c.id)
        .join(companies, companies.c.id == contacts.c.company_id)
        .where(has(companies.c.name))
    )
    query = (
        sa.select(contacts.c.id)
        .where(
            sa.or_(
                has(contacts.c.name),
                has(contacts.c.company),
                contacts.c.id.in_(by_email),
                contacts.c.id.in_(by_company),
            )
        )
        .order_by(contacts.c.id)
        .limit(limit)
    )
    return _summaries(conn, list(conn.execute(query).scalars()))


def _observations(conn: sa.Connection, contact_id: int) -> list[Observed]:
    o = contact_observations.c
    query = (
        sa.select(
            o.field,
            o.value,
            o.confidence,
            o.observed_at,
            o.interaction_id,
            accounts.c.name,
            interactions.c.subject,
        )
        .join(accounts, accounts.c.id == o.account_id)
        .outerjoin(interactions, interactions.c.id == o.interaction_id)
        .where(o.contact_id == contact_id)
        .order_by(o.observed_at.desc(), o.field, o.id.desc())
    )
    return [Observed(*r) for r in conn.execute(query)]


def _current_fields(
    row: sa.Row[Any], history: list[Observed], locks: dict[str, sa.Row[Any]]
) -> list[FieldValue]:
    """Each set field with where it comes from: a lock, or the observation it shows."""
    fields = []
    for name in DERIVED_FIELDS:
        value = row._mapping[name]
        if value is None:
            continue
        if name in locks:
            fields.append(FieldValue(name, value, locks[name].owner, locks[name].set_at, None))
            continue
        seen = next((o for o in history if o.field == name and o.value == value), None)
        since = seen.observed_at if seen else row.updated_at
        fields.append(FieldValue(name, value, "observed", since, seen))
    return fields + _other_fields(history, locks)


def _other_fields(history: list[Observed], locks: dict[str, sa.Row[Any]]) -> list[FieldValue]:
    """Fields that are not columns (phones, email, website, ...), derived as
    ``storage.observations.refresh_fields`` derives the columns: the newest
    observation with enough confidence, unless a person or a CRM owns it."""
    newest: dict[str, Observed] = {}
    for seen in history:  # newest first, ties by id descending: the winner comes first
        if seen.field not in DERIVED_FIELDS and seen.confidence >= MIN_CONFIDENCE:
            newest.setdefault(seen.field, seen)
    fields = []
    for name in sorted(set(newest) | (set(locks) - set(DERIVED_FIELDS))):
        lock = locks.get(name)
        if lock is not None:
            if lock.value is not None:  # a lock without a value: cleared by hand
                fields.append(FieldValue(name, lock.value, lock.owner, lock.set_at, None))
        else:
            found = newest[name]
            fields.append(FieldValue(name, found.value, "observed", found.observed_at, found))
    return fields


def _company(conn: sa.Connection, company_id: int | None) -> tuple[str | None, tuple[str, ...]]:
    if company_id is None:
        return None, ()
    name = conn.execute(
        sa.select(companies.c.name).where(companies.c.id == company_id)
    ).scalar_one_or_none()
    d = company_domains.c
    query = sa.select(d.domain).where(d.company_id == company_id).order_by(d.domain)
    return name, tuple(conn.execute(query).scalars())


def contact_of_email(conn: sa.Connection, email: str) -> int | None:
    """The contact that holds ``email`` (normalized, current or former), if any."""
    c = contact_emails.c
    return conn.execute(sa.select(c.contact_id).where(c.email == email)).scalar()


def get_contact(conn: sa.Connection, contact_id: int) -> ContactDetail | None:
    row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
    if row is None:
        return None
    history = _observations(conn, contact_id)
    lock = contact_field_locks.c
    locks = {
        r.field: r
        for r in conn.execute(sa.select(contact_field_locks).where(lock.contact_id == contact_id))
    }
    e = contact_emails.c
    columns = (e.email, e.mailbox, e.status, e.status_reason, e.status_at, e.origin)
    query = sa.select(*columns).where(e.contact_id == contact_id).order_by(e.email)
    addresses = tuple(AddressView(*r) for r in conn.execute(query))
    company, domains = _company(conn, row.company_id)
    return ContactDetail(
        row.id,
        tuple(a.email for a in addresses),
        row.company_id,
        company,
        domains,
        row.created_rule,
        row.created_at,
        tuple(_current_fields(row, history, locks)),
        tuple(history),
        addresses,
        employment_history(conn, contact_id),
    )


PARTICIPANT_COLUMNS = (
    "email",
    "name",
    "role",
    "klass",
    "decision",
    "rule",
    "response_status",
    "contact_id",
    "class_reason",
    "meeting_role",
)


def _participants(conn: sa.Connection, ids: list[int]) -> dict[int, list[ParticipantView]]:
    p = interaction_participants.c
    people: dict[int, list[ParticipantView]] = defaultdict(list)
    columns = [p.interaction_id, *(p[c] for c in PARTICIPANT_COLUMNS)]
    for r in select_in(conn, columns, p.interaction_id, ids):
        people[r.interaction_id].append(
            ParticipantView(**{c: r._mapping[c] for c in PARTICIPANT_COLUMNS})
        )
    for views in people.values():
        views.sort(key=lambda v: (v.role, v.email))
    return people


def _sources(conn: sa.Connection, ids: list[int]) -> dict[int, list[SourceView]]:
    s = interaction_sources.c
    copies: dict[int, list[SourceView]] = defaultdict(list)
    query = sa.select(s.interaction_id, accounts.c.name, s.stream, s.provider_id, s.removed_at)
    query = query.join(accounts, accounts.c.id == s.account_id)
    for r in select_in(conn, query, s.interaction_id, ids):
        copies[r.interaction_id].append(
            SourceView(r.name, r.stream, r.provider_id, r.removed_at is not None)
        )
    for views in copies.values():
        views.sort(key=lambda v: (v.account, v.provider_id))
    return copies


def list_interactions(
    conn: sa.Connection, contact_id: int | None = None, limit: int = 50
) -> list[InteractionView]:
    t, p = interactions.c, interaction_participants.c
    query = sa.select(interactions).order_by(t.occurred_at.desc(), t.id.desc()).limit(limit)
    if contact_id is not None:
        query = query.where(t.id.in_(sa.select(p.interaction_id).where(p.contact_id == contact_id)))
    rows = conn.execute(query).all()
    people = _participants(conn, [r.id for r in rows])
    copies = _sources(conn, [r.id for r in rows])
    return [
        InteractionView(
            r.id,
            r.identity,
            r.kind,
            r.occurred_at,
            r.ended_at,
            r.subject,
            r.direction,
            r.thread_key,
            r.status,
            r.sequence,
            tuple(people[r.id]),
            tuple(copies[r.id]),
        )
        for r in rows
    ]


def list_errors(conn: sa.Connection, account: str | None = None) -> list[ErrorView]:
    e = ingest_errors.c
    query = (
        sa.select(
            accounts.c.name,
            e.stream,
            e.provider_id,
            e.reason,
            e.detail,
            e.count,
            e.first_seen,
            e.last_seen,
            e.locator,
        )
        .join(accounts, accounts.c.id == e.account_id)
        .order_by(e.last_seen.desc(), e.id)
    )
    if account is not None:
        query = query.where(accounts.c.name == account)
    return [ErrorView(*r) for r in conn.execute(query)]


def counts(conn: sa.Connection) -> dict[str, int]:
    tables = {
        "contacts": contacts,
        "interactions": interactions,
        "sources": interaction_sources,
        "errors": ingest_errors,
    }
    return {
        name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())
        for name, t in tables.items()
    }
