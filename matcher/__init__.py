"""The matcher: records in, a Plan out. Pure: no I/O, no clock, no environment.

``plan_batch`` is the whole step (DESIGN.md, data flow)::

    found = extract(records, policy)          # participants, roles, classes, direction
    plan  = resolve(found, directory, policy) # link / create / skip, each with its rule
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime

from connectors.records import IngestError, Record, SourceRef
from matcher.directory import InMemoryDirectory
from matcher.participants import Found, FoundParticipant, extract
from matcher.plan import AccountPolicy, Directory, Plan
from matcher.resolve import resolve


def plan_batch(
    records: Sequence[Record],
    policy: AccountPolicy,
    directory: Directory,
    errors: Iterable[IngestError] = (),
    removed: Iterable[SourceRef] = (),
    *,
    fetched_at: datetime | None = None,
) -> Plan:
    """The plan for one fetched batch; ``fetched_at`` dates mail that has no date at all."""
    plan = resolve(extract(records, policy, fetched_at=fetched_at), directory, policy)
    return replace(plan, errors=tuple(errors), removed=tuple(removed))


__all__ = [
    "Found",
    "FoundParticipant",
    "InMemoryDirectory",
    "extract",
    "plan_batch",
    "resolve",
]
