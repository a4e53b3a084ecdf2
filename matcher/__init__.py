"""The matcher: records in, a Plan out. Pure: no I/O, no clock, no environment.

``plan_batch`` is the whole step (docs/ARCHITECTURE.md, "Data flow")::

    found = extract(records, policy)          # participants, roles, classes, direction
    plan  = resolve(found, directory, policy) # link / create / skip, each with its rule

The step splits where the directory is first read: ``read_batch`` is
everything before (it needs no stored contact, so the agent can run it for
the next batch, in another process, while this one is resolved and stored),
``plan_reading`` everything after. Both ways give the same plan.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from connectors.records import IngestError, Record, SourceRef
from matcher.directory import InMemoryDirectory
from matcher.enrich import BodyPeople, early_readings
from matcher.participants import Found, FoundParticipant, extract
from matcher.plan import AccountPolicy, Directory, Plan
from matcher.resolve import resolve


@dataclass(frozen=True, slots=True)
class Reading:
    """A batch's drafts, and the zones of every body its plan may read."""

    found: tuple[Found, ...]
    bodies: Mapping[int, BodyPeople]


def plan_batch(
    records: Sequence[Record],
    policy: AccountPolicy,
    directory: Directory,
    errors: Iterable[IngestError] = (),
    removed: Iterable[SourceRef] = (),
    *,
    fetched_at: datetime | None = None,
) -> Plan:
    """The plan for one fetched batch; ``fetched_at`` dates mail that has no date at all.

    Bodies are read lazily here: only those the resolved plan needs.
    """
    plan = resolve(extract(records, policy, fetched_at=fetched_at), directory, policy)
    return replace(plan, errors=tuple(errors), removed=tuple(removed))


def read_batch(
    records: Sequence[Record], policy: AccountPolicy, *, fetched_at: datetime | None = None
) -> Reading:
    """The part of ``plan_batch`` that needs no directory (see ``enrich.early_readings``)."""
    found = tuple(extract(records, policy, fetched_at=fetched_at))
    return Reading(found, early_readings(found, policy.phone_region))


def plan_reading(
    reading: Reading,
    policy: AccountPolicy,
    directory: Directory,
    errors: Iterable[IngestError] = (),
    removed: Iterable[SourceRef] = (),
) -> Plan:
    """The rest of ``plan_batch``: the same plan as ``plan_batch`` of the same records."""
    plan = resolve(reading.found, directory, policy, reading.bodies)
    return replace(plan, errors=tuple(errors), removed=tuple(removed))


__all__ = [
    "Found",
    "FoundParticipant",
    "InMemoryDirectory",
    "Reading",
    "extract",
    "plan_batch",
    "plan_reading",
    "read_batch",
    "resolve",
]
