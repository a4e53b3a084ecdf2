"""The calendar side of the Graph fake: one user's default calendar as calendarView shows it.

Tests put events in Graph's own shape (``put``), one resource per
instance as ``calendarView`` expands them: ``singleInstance`` events,
``occurrence`` and ``exception`` instances of a series (``seriesMasterId``,
``originalStart``), and the ``seriesMaster`` itself, which a calendar view
never lists (it is kept for ``GET /events/{id}``). Start and end are
``{"dateTime": "2026-11-10T09:00:00.0000000", "timeZone": "UTC"}``, as
Graph answers without an ``outlook.timezone`` preference.

Each put, cancel and delete is one numbered change; the delta machinery in
``microsoft_graph`` reads the changes after a number whose instance falls in
the requested window. An attendee's copy of a cancelled meeting stays with
``isCancelled: true`` until it is deleted, then comes back ``@removed``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class Change:
    seq: int
    id: str
    removed: bool


@dataclass
class Calendar:
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def put(self, event: Mapping[str, Any]) -> str:
        """Create or replace an event (by its ``id``); returns the id."""
        stored = copy.deepcopy(dict(event))
        stored.setdefault("@odata.etag", f'W/"DwAAABYAAAA{len(self.changes):06d}"')
        self.events[stored["id"]] = stored
        self.changes.append(Change(next(self._seq), stored["id"], removed=False))
        return str(stored["id"])

    def cancel(self, event_id: str) -> None:
        """The organizer cancels: the attendee's copy is marked, not yet gone."""
        event = self.events[event_id]
        event["isCancelled"] = True
        event["subject"] = "Canceled: " + str(event.get("subject", ""))
        self.changes.append(Change(next(self._seq), event_id, removed=False))

    def delete(self, event_id: str) -> None:
        del self.events[event_id]
        self.changes.append(Change(next(self._seq), event_id, removed=True))

    @property
    def last_seq(self) -> int:
        return self.changes[-1].seq if self.changes else 0


def in_window(event: Mapping[str, Any], start: datetime, end: datetime) -> bool:
    """Whether an instance overlaps [start, end), as calendarView selects."""
    if event.get("type") == "seriesMaster":
        return False
    begins, ends = graph_time(event["start"]), graph_time(event["end"])
    return begins < end and ends > start


def graph_time(value: Mapping[str, Any]) -> datetime:
    assert value.get("timeZone") == "UTC", "the fake serves UTC times only"
    return datetime.fromisoformat(str(value["dateTime"])[:19]).replace(tzinfo=UTC)
