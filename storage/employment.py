"""Job changes: one contact who moved companies, with the history of where they worked.

The matcher decides (``matcher.scoring``): a scored link from a work domain
at which the contact has no current address says which domain it left
("...:moved-from=acme.com"). Here, in the same transaction as the link:

- the contact's current addresses at the domain left become ``former``
  (why: "job-change:globex.com"; when: the first mail from the new one);
- ``employments`` gets the old company (its title and when mail from those
  addresses was first and last seen) and the new one (from this mail on);
- the contact's company becomes the new one, unless a person or a CRM
  locked it; the change feed gets the contact and both employments.

A departure notice (``matcher.departures``: an automatic reply saying the
person left) does the same for the address it came from ("notice:left"),
and the new address it gives, if any, is the same contact's (a link the
plan carries) and names the new company.

Never a second contact: the new address is the same contact's, claimed by
the link itself (``storage.contacts.ensure_owners``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.departures import LEFT_RULE, NEW_ADDRESS_RULE
from matcher.identity import work_domain
from matcher.scoring import parse_rule
from storage.bulk import allocate_ids, upsert
from storage.changes import Feed
from storage.schema import (
    companies,
    company_domains,
    contact_emails,
    contact_field_locks,
    contacts,
    employments,
    interaction_participants,
    interactions,
)


@dataclass(frozen=True, slots=True)
class EmploymentView:
    domain: str
    company: str | None
    title: str | None
    first_seen: datetime | None
    last_seen: datetime | None
    ended_reason: str | None  # None while it is the current one


def employment_history(conn: sa.Connection, contact_id: int) -> tuple[EmploymentView, ...]:
    t = employments.c
    query = (
        sa.select(t.domain, t.company, t.title, t.first_seen, t.last_seen, t.ended_reason)
        .where(t.contact_id == contact_id)
        .order_by(t.first_seen, t.id)
    )
    return tuple(EmploymentView(*r) for r in conn.execute(query))


@dataclass(frozen=True, slots=True)
class Move:
    contact_id: int
    left: str | None  # the registrable domain left behind; None: a free-mail address
    mailbox: str  # the address the move was seen from (a notice: the one left)
    joined: str | None  # the new work domain, when known
    at: datetime  # the first mail from the new domain, or the notice
    title: str | None  # the title the new mail's signature gave, if any
    why: str  # the participant's rule

    @property
    def reason(self) -> str:
        return f"job-change:{self.joined}" if self.why.startswith("scored") else "notice:left"


def moves(seats: Iterable[Any], links: Mapping[tuple[int, str], int]) -> list[Move]:
    """The job changes the batch describes, one per (contact, domain left): scored links
    from a new work domain, and departure notices (``matcher.departures``)."""
    found: dict[tuple[int, str], Move] = {}
    joined = {
        s.interaction_id: s.participant.company_domain
        for s in seats
        if s.participant.rule == NEW_ADDRESS_RULE
    }
    for s in seats:
        p = s.participant
        contact = links.get((s.interaction_id, p.email))
        scored = parse_rule(p.rule)
        title = next((o.value for o in p.observations if o.field == "title"), None)
        if contact is None:
            continue
        if scored is not None and scored.moved_from and p.company_domain:
            move = Move(
                contact, scored.moved_from, p.key, p.company_domain, s.occurred_at, title, p.rule
            )
        elif p.rule.endswith(LEFT_RULE):
            left = work_domain(p.key)
            new = joined.get(s.interaction_id)
            move = Move(contact, left, p.key, new, s.occurred_at, None, p.rule)
        else:
            continue
        key = (contact, move.left or move.mailbox)
        if key not in found or move.at < found[key].at:
            found[key] = move
    return [found[k] for k in sorted(found)]


def record_moves(conn: sa.Connection, found: Iterable[Move], now: datetime, feed: Feed) -> None:
    for move in found:
        e = contact_emails.c
        rows = conn.execute(
            sa.select(e.email, e.mailbox).where(
                e.contact_id == move.contact_id, e.status == "current"
            )
        ).all()
        left = [
            r
            for r in rows
            if (work_domain(r.mailbox) == move.left if move.left else r.mailbox == move.mailbox)
        ]
        if not left:
            continue  # recorded already (a replayed batch)
        conn.execute(
            sa.update(contact_emails)
            .where(e.email.in_([r.email for r in left]))
            .values(status="former", status_reason=move.reason, status_at=move.at)
        )
        feed.append(("contact", move.contact_id, "update"))
        if move.left is None:
            continue  # a free-mail address: no employer to record
        first, last = _seen(conn, [r.mailbox for r in left])
        old_title = conn.execute(
            sa.select(contacts.c.title).where(contacts.c.id == move.contact_id)
        ).scalar_one_or_none()
        _employment(conn, move.contact_id, move.left, old_title, first, last, move.reason, feed)
        if move.joined is not None:
            at = move.at
            _employment(conn, move.contact_id, move.joined, move.title, at, at, None, feed)
            _join_company(conn, move.contact_id, move.joined, now)


def _seen(conn: sa.Connection, mailboxes: list[str]) -> tuple[datetime | None, datetime | None]:
    p, i = interaction_participants.c, interactions.c
    query = (
        sa.select(sa.func.min(i.occurred_at), sa.func.max(i.occurred_at))
        .join(interactions, i.id == p.interaction_id)
        .where(p.mailbox.in_(mailboxes))
    )
    first, last = conn.execute(query).one()  # min/max keep the column's type
    return first, last


def _company(conn: sa.Connection, domain: str) -> tuple[int | None, str | None]:
    d, c = company_domains.c, companies.c
    row = conn.execute(
        sa.select(c.id, c.name)
        .join(company_domains, d.company_id == c.id)
        .where(d.domain == domain)
    ).first()
    return (row.id, row.name) if row else (None, None)


def _employment(
    conn: sa.Connection,
    contact_id: int,
    domain: str,
    title: str | None,
    first: datetime | None,
    last: datetime | None,
    ended: str | None,
    feed: Feed,
) -> None:
    """Insert the (contact, domain) employment, or widen the one stored to these dates."""
    t = employments.c
    row = conn.execute(
        sa.select(t.id, t.first_seen, t.last_seen).where(
            t.contact_id == contact_id, t.domain == domain
        )
    ).first()
    if row is None:
        (new_id,) = allocate_ids(conn, employments, 1)
        company_id, company = _company(conn, domain)
        conn.execute(
            upsert(conn, employments)
            .values(
                id=new_id,
                contact_id=contact_id,
                domain=domain,
                company_id=company_id,
                company=company,
                title=title,
                first_seen=first,
                last_seen=last,
                ended_reason=ended,
            )
            .on_conflict_do_nothing(index_elements=["contact_id", "domain"])
        )
        feed.append(("employment", new_id, "insert"))
        return
    values: dict[str, Any] = {"ended_reason": ended}
    if first is not None and (row.first_seen is None or first < row.first_seen):
        values["first_seen"] = first
    if last is not None and (row.last_seen is None or last > row.last_seen):
        values["last_seen"] = last
    conn.execute(sa.update(employments).where(t.id == row.id).values(**values))
    feed.append(("employment", row.id, "update"))


def _join_company(conn: sa.Connection, contact_id: int, domain: str, now: datetime) -> None:
    company_id, name = _company(conn, domain)
    lock = contact_field_locks.c
    locked = conn.execute(
        sa.select(lock.field).where(lock.contact_id == contact_id, lock.field == "company")
    ).first()
    values: dict[str, Any] = {"company_id": company_id, "updated_at": now}
    if locked is None:
        values["company"] = name
    conn.execute(sa.update(contacts).where(contacts.c.id == contact_id).values(**values))
