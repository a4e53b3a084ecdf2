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
from storage.schema import (
    DERIVED_FIELDS,
    accounts,
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


@dataclass(frozen=True, slots=True)
class ContactSummary:
    id: int
    name: str | None
    emails: tuple[str, ...]
    company: str | None  # the observed company, else the company of the work domain


@dataclass(frozen=True, slots=True)
class Observed:
    """One observation of a field, with its provenance."""

    field: str
    value: str
    confidence: float
    observed_at: datetime
    interaction_id: int
    account: str


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A contact's current value of a field and where it comes from."""

    field: str
    value: str
    owner: str  # "observed" | "manual" | "crm"
    since: datetime  # when it was observed or set
    observation: Observed | None  # None for a locked field


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
    history: tuple[Observed, ...]  # every observation, newest first, then by field

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


def _summaries(conn: sa.Connection, ids: list[int]) -> list[ContactSummary]:
    emails: dict[int, list[str]] = defaultdict(list)
    e = contact_emails.c
    for r in select_in(conn, [e.contact_id, e.email], e.contact_id, ids):
        emails[r.contact_id].append(r.email)
    query = sa.select(
        contacts.c.id, contacts.c.name, contacts.c.company, companies.c.name.label("company_name")
    ).outerjoin(companies, companies.c.id == contacts.c.company_id)
    rows = {r.id: r for r in select_in(conn, query, contacts.c.id, ids)}
    return [
        ContactSummary(
            i, rows[i].name, tuple(sorted(emails[i])), rows[i].company or rows[i].company_name
        )
        for i in ids
        if i in rows
    ]


def list_contacts(conn: sa.Connection, limit: int, offset: int) -> list[ContactSummary]:
    query = sa.select(contacts.c.id).order_by(contacts.c.id).limit(limit).offset(offset)
    return _summaries(conn, list(conn.execute(query).scalars()))


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
        sa.select(o.field, o.value, o.confidence, o.observed_at, o.interaction_id, accounts.c.name)
        .join(accounts, accounts.c.id == o.account_id)
        .where(o.contact_id == contact_id)
        .order_by(o.observed_at.desc(), o.field, o.id.desc())
    )
    return [Observed(*r) for r in conn.execute(query)]


def get_contact(conn: sa.Connection, contact_id: int) -> ContactDetail | None:
    row = conn.execute(sa.select(contacts).where(contacts.c.id == contact_id)).first()
    if row is None:
        return None
    history = _observations(conn, contact_id)
    locks = {
        r.field: r
        for r in conn.execute(
            sa.select(contact_field_locks).where(contact_field_locks.c.contact_id == contact_id)
        )
    }
    fields = []
    for name in DERIVED_FIELDS:
        value = row._mapping[name]
        if value is None:
            continue
        if name in locks:
            fields.append(FieldValue(name, value, locks[name].owner, locks[name].set_at, None))
            continue
        seen = next((o for o in history if o.field == name and o.value == value), None)
        fields.append(
            FieldValue(name, value, "observed", seen.observed_at if seen else row.updated_at, seen)
        )
    emails = conn.execute(
        sa.select(contact_emails.c.email)
        .where(contact_emails.c.contact_id == contact_id)
        .order_by(contact_emails.c.email)
    ).scalars()
    company = None
    domains: list[str] = []
    if row.company_id is not None:
        company = conn.execute(
            sa.select(companies.c.name).where(companies.c.id == row.company_id)
        ).scalar_one_or_none()
        domains = list(
            conn.execute(
                sa.select(company_domains.c.domain)
                .where(company_domains.c.company_id == row.company_id)
                .order_by(company_domains.c.domain)
            ).scalars()
        )
    return ContactDetail(
        row.id,
        tuple(emails),
        row.company_id,
        company,
        tuple(domains),
        row.created_rule,
        row.created_at,
        tuple(fields),
        tuple(history),
    )


def list_interactions(
    conn: sa.Connection, contact_id: int | None = None, limit: int = 50
) -> list[InteractionView]:
    t, p, s = interactions.c, interaction_participants.c, interaction_sources.c
    query = sa.select(interactions).order_by(t.occurred_at.desc(), t.id.desc()).limit(limit)
    if contact_id is not None:
        query = query.where(t.id.in_(sa.select(p.interaction_id).where(p.contact_id == contact_id)))
    rows = conn.execute(query).all()
    ids = [r.id for r in rows]
    people: dict[int, list[ParticipantView]] = defaultdict(list)
    for r in select_in(
        conn,
        [
            p.interaction_id,
            p.email,
            p.name,
            p.role,
            p.klass,
            p.decision,
            p.rule,
            p.response_status,
            p.contact_id,
            p.class_reason,
            p.meeting_role,
        ],
        p.interaction_id,
        ids,
    ):
        people[r.interaction_id].append(
            ParticipantView(
                r.email,
                r.name,
                r.role,
                r.klass,
                r.decision,
                r.rule,
                r.response_status,
                r.contact_id,
                r.class_reason,
                r.meeting_role,
            )
        )
    copies: dict[int, list[SourceView]] = defaultdict(list)
    query = sa.select(s.interaction_id, accounts.c.name, s.stream, s.provider_id, s.removed_at)
    query = query.join(accounts, accounts.c.id == s.account_id)
    for r in select_in(conn, query, s.interaction_id, ids):
        copies[r.interaction_id].append(
            SourceView(r.name, r.stream, r.provider_id, r.removed_at is not None)
        )
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
            tuple(sorted(people[r.id], key=lambda v: (v.role, v.email))),
            tuple(sorted(copies[r.id], key=lambda v: (v.account, v.provider_id))),
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
