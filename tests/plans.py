"""Plans built by hand for the storage tests, and reading the stored result back.

Plans are plain frozen dataclasses, so storage is tested without the
matcher: ``person`` is one participant's decision, ``mail`` and ``meeting``
one interaction each, ``first_batch`` a small realistic batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from connectors.records import IngestError, SourceRef
from matcher.plan import InteractionPlan, Observation, ParticipantPlan, Plan
from storage import Change, Database
from storage.schema_types import Base

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def ticking_clock() -> Callable[[], datetime]:
    """A clock that moves one second per reading: a rewrite would show in timestamps."""
    ticks = itertools.count()
    return lambda: datetime(2026, 11, 1, tzinfo=UTC) + timedelta(seconds=next(ticks))


def person(
    email: str,
    role: str = "to",
    decision: str = "create",
    *,
    name: str | None = None,
    rule: str = "policy:on_exchange",
    contact_id: int | None = None,
    observations: tuple[Observation, ...] = (),
    company_domain: str | None = None,
    klass: str = "person",
    response_status: str | None = None,
) -> ParticipantPlan:
    return ParticipantPlan(
        email=email,
        name=name,
        role=role,  # type: ignore[arg-type]
        klass=klass,  # type: ignore[arg-type]
        decision=decision,  # type: ignore[arg-type]
        rule=rule,
        response_status=response_status,
        contact_id=contact_id,
        observations=observations,
        company_domain=company_domain,
    )


def mail(
    msgid: str,
    *participants: ParticipantPlan,
    account: str = "alice",
    provider_id: str | None = None,
    direction: str = "inbound",
    at: datetime = T0,
    subject: str | None = "Quarterly plan",
    stream: str = "INBOX",
) -> InteractionPlan:
    return InteractionPlan(
        identity=f"msgid:{msgid}",
        kind="email",
        occurred_at=at,
        ended_at=None,
        subject=subject,
        snippet=None,
        direction=direction,  # type: ignore[arg-type]
        thread_key=f"thread:{msgid}",
        status="received" if direction == "inbound" else "sent",
        sequence=0,
        source=SourceRef(account, stream, provider_id or f"{stream}/{msgid}"),
        participants=participants,
    )


def meeting(
    uid: str,
    sequence: int,
    *participants: ParticipantPlan,
    account: str = "alice",
    start: datetime = T0,
    status: str = "confirmed",
    subject: str = "Kick-off",
) -> InteractionPlan:
    return InteractionPlan(
        identity=f"ical:{uid}|",
        kind="meeting",
        occurred_at=start,
        ended_at=start + timedelta(hours=1),
        subject=subject,
        snippet=None,
        direction="unknown",
        thread_key=None,
        status=status,
        sequence=sequence,
        source=SourceRef(account, "calendar", f"cal/{uid}.ics"),
        participants=participants,
    )


def snapshot(db: Database, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    content = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
            content[table.name] = [tuple(r) for r in rows]
    return content


def contact_of(db: Database, email: str) -> int:
    return db.directory().contact_ids([email])[email]


def participants(db: Database, identity: str) -> list[tuple[str, str, int | None]]:
    """(email, role, contact id) of one interaction's participant rows."""
    (view,) = [i for i in db.list_interactions(limit=1000) if i.identity == identity]
    return [(p.email, p.role, p.contact_id) for p in view.participants]


def settled_feed(db: Database, after: int = 0) -> list[Change]:
    """The whole feed after ``after``: every committed change row is readable at once."""
    return db.changes_since(after, 10_000)


NAME = Observation("name", "Carol Diaz", 0.9)


def first_batch() -> Plan:
    """Three messages, two new people at a work domain, a free-mail sender, one error."""
    return Plan(
        account="alice",
        interactions=(
            mail(
                "m1@x",
                person("carol@acme.com", "from", observations=(NAME,), company_domain="acme.com"),
                person("alice@us.com", "to", "skip", rule="class:internal", klass="internal"),
            ),
            mail(
                "m2@x",
                person("alice@us.com", "from", "skip", rule="class:internal", klass="internal"),
                person("carol@acme.com", "to", company_domain="acme.com"),
                person("dan@acme.com", "cc", company_domain="acme.com"),
                direction="outbound",
                stream="Sent",
            ),
            mail(
                "m3@x",
                person("noreply@shop.com", "from", "skip", rule="class:automated"),
                person("eve@gmail.com", "to"),
            ),
        ),
        errors=(IngestError(SourceRef("alice", "INBOX", "INBOX/9"), "header-too-large", "1 MB"),),
    )


def text_in_every_column(db: Database) -> str:
    """Every text value of every row of every table, one string (bytes as their repr,
    which shows printable ASCII as it is): where a planted secret must not be found."""
    values: list[str] = []
    meta = sa.MetaData()
    meta.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                values += [str(v) for v in row if isinstance(v, str | bytes)]
    return "\n".join(values)
