"""An estate with one person held as two contacts, for the merge and freshness tests.

Bob Smith writes from his work address and from his own; the rep met him
with a colleague of his, Carol, and a CRM export named his title. Plans go
straight to ``Database.apply`` (``tests.plans``), so ids and times are known.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from matcher.plan import Observation, Plan
from storage import Database
from storage.schema_types import Base
from tests.plans import T0, mail, meeting, person

WORK = "bob.smith@acme.com"
HOME = "robert.smith@gmail.com"
CAROL = "carol@acme.com"
OWNER = "me@ourco.com"


def me(role: str = "to") -> Any:
    return person(OWNER, role, "skip", rule="class:internal", klass="internal")


def bob_plan() -> Plan:
    """Work Bob writes (signature: title, mobile), home Bob writes twice, a meeting of all three."""
    signed = (
        Observation("name", "Bob Smith", 0.9),
        Observation("title", "Head of Sales", 0.8),
        Observation("phone:mobile", "+447700900123", 0.9),
    )
    home = (
        Observation("name", "Robert Smith", 0.9),
        Observation("phone:mobile", "+447700900123", 0.9),
    )
    acme = "acme.com"
    return Plan(
        account="alice",
        interactions=(
            mail("w1@acme", person(WORK, "from", observations=signed, company_domain=acme), me()),
            mail(
                "h1@gmail", person(HOME, "from", observations=home), me(), at=T0 + timedelta(days=3)
            ),
            mail(
                "h2@ourco",
                me("from"),
                person(HOME, "to"),
                person(CAROL, "cc", company_domain=acme),
                direction="outbound",
                at=T0 + timedelta(days=5),
            ),
            meeting(
                "kickoff",
                0,
                person(OWNER, "organizer", "skip", rule="class:internal", klass="internal"),
                person(WORK, "attendee", company_domain=acme),
                person(HOME, "attendee"),
                person(CAROL, "attendee", company_domain=acme),
                start=T0 + timedelta(days=9),
            ),
        ),
    )


def by_natural_keys(db: Database, skip: tuple[str, ...]) -> dict[str, dict[Any, tuple[Any, ...]]]:
    """Every row of every table but ``skip``, keyed by its natural key (else its primary key)."""
    natural = {
        "interactions": ("identity",),
        "interaction_sources": ("account_id", "provider_id"),
        "interaction_participants": ("interaction_id", "email", "role"),
        "contact_observations": ("contact_id", "field", "interaction_id"),
        "address_observations": ("email", "field", "interaction_id"),
    }
    content: dict[str, dict[Any, tuple[Any, ...]]] = {}
    with db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in skip:
                continue
            key = natural.get(table.name) or tuple(c.name for c in table.primary_key.columns)
            rows = conn.execute(sa.select(table)).mappings().all()
            content[table.name] = {tuple(r[k] for k in key): tuple(r.values()) for r in rows}
    return content


def namesakes_plan() -> Plan:
    """Bob twice (work and home, one mobile), two John Smiths at one company, a father and
    a son with one surname and one home phone, and a shared team@ address."""

    def said(name: str, phone: str | None = None) -> tuple[Observation, ...]:
        found = [Observation("name", name, 0.9)]
        if phone:
            found.append(Observation("phone:mobile", phone, 0.9))
        return tuple(found)

    writers = [
        ("bob.smith@acme.com", said("Bob Smith", "+447700900123")),
        ("robert.smith@acme.co.uk", said("Robert Smith", "+447700900123")),
        ("john.smith@initech.com", said("John Smith")),
        ("j.smith@initech.com", said("John Smith")),
        ("peter.brown@gmail.com", said("Peter Brown", "+441632960001")),
        ("pbrown.jr@gmail.com", said("Peter Brown Jr.", "+441632960001")),
        ("team@acme.com", said("Acme Team")),
    ]
    return Plan(
        account="alice",
        interactions=tuple(
            mail(f"n{n}@x", person(email, "from", observations=seen), me())
            for n, (email, seen) in enumerate(writers)
        ),
    )
