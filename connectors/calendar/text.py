"""Raw iCalendar text, before ``icalendar`` parses it: what must be checked or rewritten first.

``icalendar`` does two things while it parses that no limit of ours can
reach afterwards:

- it expands every VTIMEZONE observance rule up to 2038 (``Timezone.to_tz``),
  so a rule dense enough would hang the parse: ``zone_rules_bounded``;
- it keeps a process-wide cache of custom time zones keyed by TZID, first
  definition wins, so a long-running agent would read a later calendar's
  "Eastern" (a Lotus Domino name) with an earlier calendar's rules:
  ``private_zone_ids`` renames each custom zone after its definition.

``vevent_blocks`` serves the fallback when the whole object does not parse:
each top-level VEVENT is then read on its own (invariant 2).
"""

from __future__ import annotations

import hashlib
import re
import zoneinfo
from datetime import timedelta
from functools import cache

import icalendar

from connectors.calendar.recurrence import BadEvent, rule_spacing

# Transitions icalendar may compute for one observance rule. Real zones have
# one or two a year; an Outlook zone starting in 1601 with a monthly-bounded
# yearly rule is estimated at about 2,200.
MAX_ZONE_TRANSITIONS = 20_000
_ZONE_HORIZON = 2038  # icalendar expands observances up to 1 January 2038

_UNFOLD = re.compile(rb"\r?\n[ \t]")
_ZONE = re.compile(rb"^BEGIN:VTIMEZONE[ \t]*\r?$(.*?)^END:VTIMEZONE", re.S | re.M | re.I)
_OBSERVANCE = re.compile(rb"^BEGIN:(STANDARD|DAYLIGHT)\b(.*?)^END:\1", re.S | re.M | re.I)
_RULE_LINE = re.compile(rb"^RRULE[^:\r\n]*:([^\r\n]*)", re.M | re.I)
_START_YEAR = re.compile(rb"^DTSTART[^:\r\n]*:(\d{4})", re.M | re.I)
_ZONE_ID = re.compile(rb"^(TZID[^:\r\n]*:)([^\r\n]*)", re.M | re.I)
# A TZID parameter of a date property, after any other parameters (a quoted value may
# hold ";" or ":"); only on those lines, so a SUMMARY that quotes ";TZID=" stays as it is.
_TZID_PARAM = re.compile(
    rb"^((?:DTSTART|DTEND|DUE|RECURRENCE-ID|EXDATE|RDATE)"
    rb'(?:;(?:"[^"\r\n]*"|[^;:"\r\n])*)*?);TZID=("[^"\r\n]*"|[^;:\r\n]*)',
    re.M | re.I,
)
_CALENDAR_BEGIN = re.compile(rb"^BEGIN:VCALENDAR[ \t]*\r?\n", re.M | re.I)
_ANY_BEGIN = re.compile(rb"^BEGIN:", re.M | re.I)
_ZONE_BEGIN = re.compile(rb"^BEGIN:VTIMEZONE", re.M | re.I)
_VEVENT_BEGIN = re.compile(rb"^BEGIN:VEVENT", re.M | re.I)
_VEVENT_END = re.compile(rb"^END:VEVENT[ \t]*(?:\r?\n|\Z)", re.M | re.I)
_SERIES_LINE = re.compile(rb"^(?:RRULE[^:\r\n]*:[ \t]*[^\s]|RDATE[^:\r\n]*:)", re.M | re.I)


def unfold(data: bytes) -> bytes:
    """RFC 5545 3.1: a CRLF followed by a space or tab continues the line."""
    return _UNFOLD.sub(b"", data)


def zone_rules_bounded(text: bytes) -> bool:
    """Every VTIMEZONE observance rule is cheap enough for icalendar to expand.

    RFC 5545 3.6.5 allows any RRULE in an observance (Lotus Domino writes
    ``FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=11``); what is refused
    is only a rule whose transitions up to 2038 exceed ``MAX_ZONE_TRANSITIONS``.
    """
    blocks = _ZONE.findall(text)
    if len(blocks) != len(_ZONE_BEGIN.findall(text)):
        return False  # an unterminated VTIMEZONE: nothing after it parses anyway
    for block in blocks:
        for _, observance in _OBSERVANCE.findall(block):
            found = _START_YEAR.search(observance)
            years = _ZONE_HORIZON - (int(found.group(1)) if found else 1)
            for rule in _RULE_LINE.findall(observance):
                if _transitions(rule, years) > MAX_ZONE_TRANSITIONS:
                    return False
    return True


def _transitions(rule: bytes, years: int) -> float:
    """An upper bound of the transitions one observance rule gives over ``years``."""
    try:
        parsed = icalendar.vRecur.from_ical(rule.decode("utf-8", "replace"))
        spacing = rule_spacing(parsed)
        count = int((parsed.get("COUNT") or [0])[0])
    except (BadEvent, ValueError, TypeError):
        return 0  # icalendar skips a rule it cannot read: nothing to expand
    span = timedelta(days=366 * max(years, 0))
    estimate = span / spacing if spacing else float("inf")
    return min(estimate, count) if count > 0 else estimate


def private_zone_ids(text: bytes) -> bytes:
    """``text`` with each custom VTIMEZONE's TZID renamed after its definition.

    Zones the IANA database knows are read from it (icalendar ignores their
    VTIMEZONE), so they stay. Any other TZID becomes ``NAME~HASH`` in its
    VTIMEZONE and in every TZID parameter, so icalendar's process-wide cache
    holds each definition under its own key and every calendar is read with
    its own rules, as a fresh process would read it.
    """
    renamed: dict[bytes, bytes] = {}
    for block in _ZONE.findall(text):
        found = _ZONE_ID.search(block)
        if found is None:
            continue
        tzid = found.group(2).strip()
        if _known_zone(tzid) or tzid in renamed:
            continue  # RFC 5545 3.6.5: one VTIMEZONE per TZID; icalendar takes the first
        digest = hashlib.sha256(block).hexdigest()[:16].encode()
        renamed[tzid] = tzid + b"~" + digest
    if not renamed:
        return text

    def zone(match: re.Match[bytes]) -> bytes:
        block = match.group(0)
        return _ZONE_ID.sub(
            lambda m: m.group(1) + renamed.get(m.group(2).strip(), m.group(2)), block
        )

    def param(match: re.Match[bytes]) -> bytes:
        tzid = match.group(2).strip(b'"')
        if tzid not in renamed:
            return match.group(0)
        return match.group(1) + b';TZID="' + renamed[tzid] + b'"'

    return _TZID_PARAM.sub(param, _ZONE.sub(zone, text))


def _known_zone(tzid: bytes) -> bool:
    name = tzid.decode("utf-8", "replace").strip('"').strip("/")
    return name in _iana_zones()


@cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_series(data: bytes) -> bool:
    """Whether a VEVENT of the object carries RRULE or RDATE (VTIMEZONE rules do not count,
    nor an empty ``RRULE:``, which is read as a single event)."""
    text = _ZONE.sub(b"", unfold(data))
    return any(_SERIES_LINE.search(block) for block in vevent_blocks(text))


def zone_blocks(text: bytes) -> list[bytes]:
    """Every VTIMEZONE of unfolded ``text``, BEGIN to END line."""
    return [m.group(0) + b"\r\n" for m in _ZONE.finditer(text)]


def calendar_head(text: bytes) -> bytes | None:
    """The first VCALENDAR's own lines (BEGIN, VERSION, METHOD, ...) before its first
    component; None without a VCALENDAR."""
    found = _CALENDAR_BEGIN.search(text)
    if found is None:
        return None
    component = _ANY_BEGIN.search(text, found.end())
    return text[found.start() : component.start() if component else len(text)]


def vevent_blocks(text: bytes) -> list[bytes]:
    """The top-level VEVENT blocks of unfolded ``text``; an unterminated one ends where the
    next VEVENT begins, so it costs only itself."""
    starts = [m.start() for m in _VEVENT_BEGIN.finditer(text)]
    blocks = []
    for start, stop in zip(starts, [*starts[1:], len(text)], strict=False):
        end = _VEVENT_END.search(text, start, stop)
        blocks.append(text[start : end.end() if end else stop])
    return blocks
