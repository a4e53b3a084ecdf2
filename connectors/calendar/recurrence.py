"""Bounded expansion of one iCalendar series (RRULE/RDATE/EXDATE/RECURRENCE-ID).

``recurring_ical_events`` does the RFC 5545 work; this module decides how
much of it may be asked for, because dateutil walks every occurrence from
DTSTART on and the library builds a component for each one in the span:

- a rule whose occurrences before the span alone exceed ``MAX_RULE_STEPS``
  (FREQ=SECONDLY since 1970), or with more than ``MAX_RDATES`` RDATE or
  ``MAX_EXDATES`` EXDATE values, is refused before any expansion:
  "recurrence-too-long";
- a rule dense enough to put more than four times ``max_occurrences`` in the
  window is expanded over a shorter span around the present
  (``Window.present``), widened once (within ``MAX_RULE_STEPS``) when it
  holds fewer than ``max_occurrences``; still short, the caller learns which
  span was read;
- of what was expanded, the ``max_occurrences`` nearest the present are
  kept (a stand-up that began years ago keeps its recent and upcoming
  meetings), and the caller learns how many were cut.

The density of a rule is estimated from FREQ, INTERVAL and the BYxxx parts
that expand it (RFC 5545 3.3.10, the table of "Expand" entries): an upper
bound, so an unusual but harmless rule may be refused; never the reverse.

The lazy ``after()`` of the library is not used: an occurrence lasting
decades overlaps every probe span, and its probe halves down to 15 minutes
and crawls across the decades (seen while fuzzing: 200 s for one event).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from connectors.base import Limits, Window

# Occurrences dateutil may step through from DTSTART to the window.
MAX_RULE_STEPS = 200_000
# RDATE values per series: each is an occurrence the library materializes.
MAX_RDATES = 10_000
# EXDATE values per series: a list long enough to hide every occurrence of a
# dense rule would otherwise make a series vanish without a word.
MAX_EXDATES = 10_000
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


def rule_spacing(rule: Any) -> timedelta:
    """The smallest gap between two occurrences of ``rule``, estimated from below."""
    freq = str((rule.get("FREQ") or ["?"])[0]).upper()
    if freq not in _FREQ_SECONDS:
        raise BadEvent("bad-vevent", f"unknown FREQ {freq[:20]!r}")
    interval = max(1, int((rule.get("INTERVAL") or [1])[0]))
    per_period = 1
    for part, expands in _EXPANDS.items():
        values = rule.get(part)
        if values and freq in expands:
            per_period *= len(values) * _within_months(rule, freq, part, expands[freq])
    return timedelta(seconds=_FREQ_SECONDS[freq] * interval / per_period)


def _within_months(rule: Any, freq: str, part: str, per_value: int) -> int:
    """RFC 5545 3.3.10: with BYMONTH, a yearly BYDAY or BYMONTHDAY expands within those
    months only (five weekdays or one day each), not across the whole year."""
    if freq == "YEARLY" and rule.get("BYMONTH") and part in ("BYDAY", "BYMONTHDAY"):
        return 5 if part == "BYDAY" else 1
    return per_value


@dataclass(frozen=True, slots=True)
class Span:
    """What to expand of one series: ``[since, until)``, and the gap to widen it by."""

    since: datetime
    until: datetime
    step: timedelta | None  # None: the span is the whole window
    spacing: timedelta | None = None  # the rule's estimated gap (None: no RRULE)


def expansion_span(series: list[icalendar.Component], window: Window, limits: Limits) -> Span:
    """Where to expand ``series``; ``BadEvent`` if even reaching the span is too costly."""
    spacing: timedelta | None = None
    for event in series:
        if "RECURRENCE-ID" in event:
            continue
        _check_dates(event)
        found: Any = event.get("RRULE", [])
        for rule in found if isinstance(found, list) else [found]:
            gap = rule_spacing(rule)
            spacing = gap if spacing is None else min(spacing, gap)
    if spacing is None:
        return Span(window.since, window.until, None)
    span = _around_present(window, spacing * (2 * limits.max_occurrences), spacing)
    _check_steps(series, span, spacing)
    return span


def _check_dates(event: icalendar.Component) -> None:
    for name, most in (("RDATE", MAX_RDATES), ("EXDATE", MAX_EXDATES)):
        found: Any = event.get(name, [])
        values = sum(len(d.dts) for d in (found if isinstance(found, list) else [found]))
        if values > most:
            raise BadEvent("recurrence-too-long", f"{values} {name} values")


def _around_present(window: Window, half: timedelta, spacing: timedelta) -> Span:
    present = window.present
    try:
        since, until = max(window.since, present - half), min(window.until, present + half)
    except OverflowError:  # sparse rule near year 1 or 9999: the window stands
        return Span(window.since, window.until, None, spacing)
    whole = (since, until) == (window.since, window.until)
    return Span(since, until, None if whole else half, spacing)


def _check_steps(series: list[icalendar.Component], span: Span, spacing: timedelta) -> None:
    """dateutil walks every occurrence from DTSTART: refuse a walk too long to reach the span."""
    for event in series:
        if "RRULE" in event and "RECURRENCE-ID" not in event:
            start, _ = as_utc(event.decoded("DTSTART"))
            steps = (span.since - start) / spacing
            if steps > MAX_RULE_STEPS:
                raise BadEvent("recurrence-too-long", f"{int(steps)} occurrences before the window")


@dataclass(frozen=True, slots=True)
class Expansion:
    occurrences: list[icalendar.Component]  # in start order
    cut: int  # occurrences found but not kept
    span: Span  # what was expanded
    # Widening stopped short of ``limit`` occurrences and of the window: the rule
    # is too dense to walk further, so occurrences outside ``span`` were not read.
    incomplete: bool = False

    @property
    def partial(self) -> bool:
        """Only part of the window was expanded."""
        return self.span.step is not None


def occurrences(holder: icalendar.Calendar, window: Window, span: Span, limit: int) -> Expansion:
    """The ``limit`` occurrences starting in ``span`` nearest the present, in start order.

    A narrowed span that yields fewer than ``limit`` is widened once, as far as
    ``MAX_RULE_STEPS`` estimated steps reach: the density estimate is a lower
    bound, so a sparse rule still fills its quota.
    """
    found = _starting_in(holder, span)
    incomplete = False
    if len(found) < limit and span.step is not None and span.spacing is not None:
        # Once, straight to the widest span the step budget allows: a rule that
        # never matches (BYMONTHDAY=30 in February) costs dateutil a walk to the
        # year 9999 on every expansion, however short the span.
        span = _around_present(window, span.spacing * (MAX_RULE_STEPS // 2), span.spacing)
        found = _starting_in(holder, span)
        incomplete = len(found) < limit and span.step is not None
    present = window.present
    nearest = sorted(found, key=lambda pair: (abs(pair[0] - present), pair[0]))[:limit]
    nearest.sort(key=lambda pair: pair[0])
    kept = [occurrence for _, occurrence in nearest]
    return Expansion(kept, len(found) - len(kept), span, incomplete)


def _starting_in(holder: icalendar.Calendar, span: Span) -> list[tuple[datetime, Any]]:
    found = []
    for occurrence in recurring_ical_events.of(holder).between(span.since, span.until):
        start, _ = as_utc(occurrence.decoded("DTSTART"))
        if span.since <= start < span.until:  # between() also returns ones overlapping the start
            found.append((start, occurrence))
    return found
