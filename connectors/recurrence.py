"""Bounded expansion of one iCalendar series (RRULE/RDATE/EXDATE/RECURRENCE-ID).

``recurring_ical_events`` does the RFC 5545 work; this module decides how
much of it may be asked for, because dateutil walks every occurrence from
DTSTART on and the library builds a component for each one in the span:

- a rule whose occurrences before the window alone exceed
  ``MAX_RULE_STEPS`` (FREQ=SECONDLY since 1970) is refused before any
  expansion: "recurrence-too-long";
- a rule dense enough to put more than four times ``max_occurrences`` in the
  window is expanded over a shorter span from the window's start, since
  only the first ``max_occurrences`` are kept anyway.

The density of a rule is estimated from FREQ, INTERVAL and the BYxxx parts
that expand it (RFC 5545 3.3.10, the table of "Expand" entries): an upper
bound, so an unusual but harmless rule may be refused; never the reverse.

The lazy ``after()`` of the library is not used: an occurrence lasting
decades overlaps every probe span, and its probe halves down to 15 minutes
and crawls across the decades (seen while fuzzing: 200 s for one event).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from connectors.base import Limits, Window

# Occurrences dateutil may step through from DTSTART to the window.
MAX_RULE_STEPS = 200_000
# RDATE values per series: each is an occurrence the library materializes.
MAX_RDATES = 10_000
_FREQ_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
# BYxxx part -> {FREQ it expands: occurrences per listed value and period}.
_EXPANDS: dict[str, dict[str, int]] = {
    "BYMONTH": {"YEARLY": 1},
    "BYWEEKNO": {"YEARLY": 7},
    "BYYEARDAY": {"YEARLY": 1},
    "BYMONTHDAY": {"MONTHLY": 1, "YEARLY": 12},
    "BYDAY": {"WEEKLY": 1, "MONTHLY": 5, "YEARLY": 53},
    "BYHOUR": {f: 1 for f in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")},
    "BYMINUTE": {f: 1 for f in ("HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")},
    "BYSECOND": {f: 1 for f in ("MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY")},
}


class BadEvent(Exception):
    """One UID's events cannot be expanded; becomes an IngestError."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def as_utc(value: date | datetime) -> tuple[datetime, bool]:
    """(UTC datetime, is all-day) for a DTSTART/DTEND/RECURRENCE-ID value.

    Floating times (no TZID, no "Z") are read as UTC: the agent does not know
    the organizer's wall clock, and a fixed reading keeps identities stable.
    """
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC), True
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC), False
    return value.astimezone(UTC), False


def _spacing(rule: Any) -> timedelta:
    """The smallest gap between two occurrences of ``rule``, estimated from below."""
    freq = str((rule.get("FREQ") or ["?"])[0]).upper()
    if freq not in _FREQ_SECONDS:
        raise BadEvent("bad-vevent", f"unknown FREQ {freq[:20]!r}")
    interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
    per_period = 1
    for part, expands in _EXPANDS.items():
        values = rule.get(part)
        if values and freq in expands:
            per_period *= len(values) * expands[freq]
    return timedelta(seconds=_FREQ_SECONDS[freq] * interval / per_period)


def expansion_end(series: list[icalendar.Component], window: Window, limits: Limits) -> datetime:
    """Where to stop expanding ``series``; ``BadEvent`` if even reaching the window is too costly."""
    end = window.until
    for event in series:
        if "RECURRENCE-ID" in event:
            continue
        rdates: Any = event.get("RDATE", [])
        rdate_values = sum(len(r.dts) for r in (rdates if isinstance(rdates, list) else [rdates]))
        if rdate_values > MAX_RDATES:
            raise BadEvent("recurrence-too-long", f"{rdate_values} RDATE values")
        found: Any = event.get("RRULE", [])
        start, _ = as_utc(event.decoded("DTSTART"))
        for rule in found if isinstance(found, list) else [found]:
            spacing = _spacing(rule)
            steps = (window.since - start) / spacing
            if steps > MAX_RULE_STEPS:
                raise BadEvent("recurrence-too-long", f"{int(steps)} occurrences before the window")
            first = max(start, window.since)
            try:
                end = min(end, first + spacing * (4 * limits.max_occurrences))
            except OverflowError:  # sparse rule near year 9999: the window's end stands
                continue
    return end


def occurrences(
    holder: icalendar.Calendar, window: Window, end: datetime, limit: int
) -> list[icalendar.Component]:
    """The first ``limit`` occurrences starting in [window.since, end), in start order."""
    query = recurring_ical_events.of(holder)
    found = []
    for occurrence in query.between(window.since, end):
        start, _ = as_utc(occurrence.decoded("DTSTART"))
        if window.since <= start < end:  # between() also returns ones overlapping the start
            found.append((start, occurrence))
    found.sort(key=lambda pair: pair[0])
    return [occurrence for _, occurrence in found[:limit]]
