"""iCalendar (RFC 5545) objects -> one ``Meeting`` per occurrence in a window.

Parsing is ``icalendar``; expansion of RRULE/RDATE/EXDATE/RECURRENCE-ID is
``recurring_ical_events``. Each UID is expanded on its own (with the
object's VTIMEZONEs), so one broken VEVENT becomes a "bad-vevent" error while
the other events of the same object are still returned (docs/ARCHITECTURE.md, invariant 2).

Decisions:
- An occurrence is in the window when its start is in ``[since, until)``:
  adjacent windows never both claim one occurrence.
- ``recurrence_id`` is the occurrence's original start in UTC for any event
  that belongs to a series (has RRULE/RDATE or a RECURRENCE-ID), else None;
  so every occurrence has its own global identity (UID + RECURRENCE-ID).
- Floating times (no TZID, no "Z") are read as UTC (``recurrence.as_utc``).
- All-day (DATE) events start at 00:00 UTC of their date, ``all_day=True``;
  without DTEND they last one day (RFC 5545 3.6.1).
- A generated occurrence carries the highest SEQUENCE of its series (the
  expansion library's rule), so it never looks older than a revised override.
- Attendees beyond ``max_attendees`` are dropped, not an error: the meeting
  and its first attendees are real and worth capturing.
- Expansion keeps the ``max_occurrences`` per UID nearest the present and
  reports the rest as "too-many-occurrences"; it is bounded before it starts
  (``connectors.calendar.recurrence``): rules too dense to expand are refused as
  "recurrence-too-long".
- A VEVENT without UID gets one derived from its start, organizer and
  summary (``derived_uid``); an empty ``RRULE:`` is a single event.
"""

from __future__ import annotations

import hashlib
import warnings
from datetime import datetime, timedelta
from typing import Any, TypeVar

import icalendar

from connectors.base import Limits, Window
from connectors.calendar.recurrence import BadEvent, Expansion, as_utc, expansion_span, occurrences
from connectors.calendar.text import (
    calendar_head,
    private_zone_ids,
    unfold,
    vevent_blocks,
    zone_blocks,
    zone_rules_bounded,
)
from connectors.records import (
    Address,
    Attendee,
    IngestError,
    Meeting,
    MeetingStatus,
    SourceRef,
    recurrence_key,
)

# Properties without which an occurrence cannot be placed in time.
_ESSENTIAL = frozenset(
    {"UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID"}
)
_END = b"END:VCALENDAR\r\n"
_T = TypeVar("_T")
_STATUS: dict[str, MeetingStatus] = {"CANCELLED": "cancelled", "TENTATIVE": "tentative"}


# Lightning and other clients write TZIDs with a vendor prefix
# ("/mozilla.org/20050126_1/America/New_York", RFC 5545 3.2.19). With the
# VTIMEZONE at hand icalendar uses its rules; without it, icalendar 7 reads
# the Olson name after the prefix, and warns for every such object. That
# reading is the only one there is, and the one the sender meant: the
# warning would only bury a long-running agent's log.
_TZID_GUESSED = getattr(getattr(icalendar, "error", None), "GloballyUniqueTZIDGuessed", None)


def parse_calendar(
    data: bytes, source: SourceRef, window: Window, limits: Limits
) -> tuple[list[Meeting], list[IngestError]]:
    """Every occurrence in ``window`` of every VEVENT in one calendar object."""
    if _TZID_GUESSED is not None:  # re-added each time: the filter list is global
        warnings.filterwarnings("ignore", category=_TZID_GUESSED)
    if len(data) > limits.max_ical_bytes:
        return [], [IngestError(source, "ical-too-large", f"{len(data)} bytes")]
    text = unfold(data)
    if not zone_rules_bounded(text):
        return [], [IngestError(source, "bad-ical", "VTIMEZONE rule too dense to expand")]
    text = private_zone_ids(text)
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # icalendar raises ValueError, KeyError, ... on hostile text
        return _per_vevent(
            text, source, window, limits, IngestError(source, "bad-ical", type(exc).__name__)
        )
    calendars = [c for c in calendars if c.name == "VCALENDAR"]
    if not calendars:
        return _per_vevent(
            text, source, window, limits, IngestError(source, "bad-ical", "no VCALENDAR")
        )
    meetings: list[Meeting] = []
    errors: list[IngestError] = []
    for calendar in calendars:
        try:
            found, failed = _calendar_meetings(calendar, source, window, limits)
        except Exception as exc:  # last guard: hostile text must cost the object, not the batch
            errors.append(IngestError(source, "bad-ical", type(exc).__name__))
            continue
        meetings.extend(found)
        errors.extend(failed)
    return meetings, errors


def _per_vevent(
    text: bytes, source: SourceRef, window: Window, limits: Limits, whole: IngestError
) -> tuple[list[Meeting], list[IngestError]]:
    """The object does not parse as a whole (an unterminated VALARM, a stray END): read each
    VEVENT on its own with the object's properties and time zones, so one broken event
    costs only itself. Nothing readable at all stays one error for the object."""
    head = calendar_head(text)
    blocks = vevent_blocks(text)
    if head is None or not blocks:
        return [], [whole]
    zones = b"".join(zone_blocks(text))
    meetings: list[Meeting] = []
    errors: list[IngestError] = []
    for block in _at_most_vevents(blocks, source, limits, errors):
        try:
            [calendar] = icalendar.Calendar.from_ical(head + zones + block + _END, multiple=True)
            found, failed = _calendar_meetings(calendar, source, window, limits)
        except Exception as exc:  # this VEVENT alone is unreadable
            errors.append(IngestError(source, "bad-vevent", f"unparseable: {type(exc).__name__}"))
            continue
        meetings.extend(found)
        errors.extend(failed)
    if not meetings and len(errors) >= len(blocks):
        return [], [whole]
    return meetings, errors


def _at_most_vevents(
    items: list[_T], source: SourceRef, limits: Limits, errors: list[IngestError]
) -> list[_T]:
    if len(items) > limits.max_vevents:
        errors.append(
            IngestError(source, "too-many-vevents", f"{len(items)} > {limits.max_vevents}")
        )
    return items[: limits.max_vevents]


def _calendar_meetings(
    calendar: icalendar.Calendar, source: SourceRef, window: Window, limits: Limits
) -> tuple[list[Meeting], list[IngestError]]:
    method = str(calendar["METHOD"]).upper() if "METHOD" in calendar else None
    timezones = [c for c in calendar.subcomponents if c.name == "VTIMEZONE"]
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    errors: list[IngestError] = []
    events = _at_most_vevents(events, source, limits, errors)
    by_uid = _series_by_uid(events, source, errors)
    meetings: list[Meeting] = []
    for uid, series in by_uid.items():
        try:
            found, cut = _series_meetings(uid, series, timezones, method, source, window, limits)
        except BadEvent as exc:
            errors.append(IngestError(source, exc.reason, f"uid {uid!r}: {exc.detail}"[:200]))
            continue
        except Exception as exc:  # a malformed rule or date deep in the expansion library
            errors.append(
                IngestError(source, "bad-vevent", f"uid {uid!r}: {type(exc).__name__}"[:200])
            )
            continue
        meetings.extend(found)
        errors.extend([cut] if cut else [])
    return meetings, errors


def _series_by_uid(
    events: list[icalendar.Component], source: SourceRef, errors: list[IngestError]
) -> dict[str, list[icalendar.Component]]:
    """The readable VEVENTs grouped by UID; the others become "bad-vevent" errors."""
    by_uid: dict[str, list[icalendar.Component]] = {}
    for event in events:
        # A line that is no property at all is reported with name None.
        unreadable = {name for name, _ in getattr(event, "errors", ()) if isinstance(name, str)}
        broken = sorted(unreadable & _ESSENTIAL)
        for name in unreadable - _ESSENTIAL:
            # An unreadable SEQUENCE or ATTENDEE must not cost the event, and
            # left in place it breaks the expansion library's comparisons.
            event.pop(name, None)
        _readable_rules(event)
        uid = str(event.get("UID", "")).strip()
        if broken or "DTSTART" not in event:
            detail = f"uid {uid!r}: " + (
                f"unreadable {', '.join(broken)}" if broken else "no DTSTART"
            )
            errors.append(IngestError(source, "bad-vevent", detail[:200]))
            continue
        by_uid.setdefault(uid or derived_uid(event), []).append(event)
    return by_uid


def _readable_rules(event: icalendar.Component) -> None:
    """RRULEs as the expansion library can read them.

    An empty ``RRULE:`` (written by some exporters for "does not repeat") names
    no recurrence: the event is a single one. ``RSCALE=GREGORIAN`` with the
    default ``SKIP=OMIT`` is the calendar RFC 5545 assumes (RFC 7529 section 3),
    so it is dropped; any other RSCALE stays and makes the series an error.
    """
    found: Any = event.get("RRULE")
    if found is None:
        return
    rules = [r for r in (found if isinstance(found, list) else [found]) if r]
    event.pop("RRULE")
    for rule in rules:
        event.add("RRULE", _gregorian(rule) if isinstance(rule, icalendar.vRecur) else rule)


def _gregorian(rule: icalendar.vRecur) -> icalendar.vRecur:
    scale = [str(v).upper() for v in rule.get("RSCALE", [])]
    skip = [str(v).upper() for v in rule.get("SKIP", ["OMIT"])]
    if scale != ["GREGORIAN"] or skip != ["OMIT"]:
        return rule
    return icalendar.vRecur({k: v for k, v in rule.items() if k not in ("RSCALE", "SKIP")})


def derived_uid(event: icalendar.Component) -> str:
    """A stable identity for a VEVENT without the UID RFC 5545 3.6.1 requires (old Lotus
    Notes and hand-written exports): when, what and who asked, so the same event gives the
    same identity on every read and in every mailbox, whatever DTSTAMP says."""
    parts = []
    for name in ("DTSTART", "RECURRENCE-ID"):
        if name in event:
            parts.append(recurrence_key(as_utc(event.decoded(name))[0]))
    organizer = attendee_of(event.get("ORGANIZER"))
    parts.append(organizer.address.email if organizer else "")
    parts.append(_text(event.get("SUMMARY")) or "")
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"derived-{digest}"


def _series_meetings(
    uid: str,
    series: list[icalendar.Component],
    timezones: list[icalendar.Component],
    method: str | None,
    source: SourceRef,
    window: Window,
    limits: Limits,
) -> tuple[list[Meeting], IngestError | None]:
    recurring = any(("RRULE" in e or "RDATE" in e or "RECURRENCE-ID" in e) for e in series)
    span = expansion_span(series, window, limits)
    holder = icalendar.Calendar()
    for component in (*timezones, *series):
        holder.add_component(component)
    expansion = occurrences(holder, window, span, limits.max_occurrences)
    moves = _future_moves(series)
    meetings = [
        _meeting_of(uid, occurrence, recurring, moves, method, source, limits)
        for occurrence in expansion.occurrences
    ]
    return meetings, _shortfall(uid, expansion, source, window, limits)


def _shortfall(
    uid: str, expansion: Expansion, source: SourceRef, window: Window, limits: Limits
) -> IngestError | None:
    """The error that says which occurrences of a series were not captured, if any."""
    if expansion.incomplete:
        span = expansion.span
        detail = (
            f"uid {uid!r}: rule too dense to expand past "
            f"{span.since:%Y-%m-%d}..{span.until:%Y-%m-%d}"
        )
        return IngestError(source, "recurrence-too-long", detail[:200])
    if not expansion.cut:
        return None
    shown = f"at least {expansion.cut}" if expansion.partial else str(expansion.cut)
    detail = (
        f"uid {uid!r}: {shown} occurrences cut; kept the {limits.max_occurrences} "
        f"nearest {window.present:%Y-%m-%d}"
    )
    return IngestError(source, "too-many-occurrences", detail[:200])


def _future_moves(series: list[icalendar.Component]) -> dict[datetime, timedelta]:
    """{RECURRENCE-ID: shift} of the overrides with RANGE=THISANDFUTURE.

    The expansion library moves every later occurrence by the override's shift
    and copies the override's RECURRENCE-ID onto it; RFC 5545 3.8.4.4 keeps
    each occurrence its own identity, its original start: start minus shift.
    """
    moves = {}
    for event in series:
        rid = event.get("RECURRENCE-ID")
        if rid is not None and str(rid.params.get("RANGE", "")).upper() == "THISANDFUTURE":
            original = as_utc(rid.dt)[0]
            moves[original] = as_utc(event.decoded("DTSTART"))[0] - original
    return moves


def _meeting_of(
    uid: str,
    occurrence: icalendar.Component,
    recurring: bool,
    moves: dict[datetime, timedelta],
    method: str | None,
    source: SourceRef,
    limits: Limits,
) -> Meeting:
    start, all_day = as_utc(occurrence.decoded("DTSTART"))
    end: datetime | None = None
    if "DTEND" in occurrence:
        end = as_utc(occurrence.decoded("DTEND"))[0]
    elif "DURATION" in occurrence:
        end = start + occurrence.decoded("DURATION")
    elif all_day:
        end = start + timedelta(days=1)
    recurrence_id = None
    if recurring:
        rid = occurrence.get("RECURRENCE-ID")
        recurrence_id = as_utc(rid.dt)[0] if rid is not None else start
        if recurrence_id in moves:
            recurrence_id = start - moves[recurrence_id]
    status = _STATUS.get(str(occurrence.get("STATUS", "")).upper(), "confirmed")
    if method == "CANCEL":
        status = "cancelled"
    return Meeting(
        source=occurrence_source(source, uid, recurrence_id),
        uid=uid,
        recurrence_id=recurrence_id,
        start=start,
        end=end,
        all_day=all_day,
        status=status,
        sequence=_sequence(occurrence.get("SEQUENCE")),
        summary=_text(occurrence.get("SUMMARY")),
        location=_text(occurrence.get("LOCATION")),
        organizer=attendee_of(occurrence.get("ORGANIZER")),
        attendees=attendees_of(occurrence.get("ATTENDEE"), limits.max_attendees),
        method=method,
        # RFC 5545 3.8.1.3: CLASS:PRIVATE or CONFIDENTIAL limits who may see it.
        private=str(occurrence.get("CLASS", "")).upper() in ("PRIVATE", "CONFIDENTIAL"),
    )


def occurrence_source(source: SourceRef, uid: str, recurrence_id: datetime | None) -> SourceRef:
    """The copy of one occurrence: storage keys a copy on (account, provider_id).

    A calendar object expands to many occurrences, and an archive .ics file
    or a mail invitation may hold many UIDs, so the object's id alone would
    fold them into one copy. (CalDAV, with one UID per object by RFC 4791
    section 4.1, renames copies to ``path#RECURRENCE-ID``: see connectors.caldav.state.)
    """
    key = f"{source.provider_id}#{uid}|{recurrence_key(recurrence_id)}"
    return SourceRef(source.account, source.stream, key)


def _sequence(value: Any) -> int:
    try:
        return max(0, int(value)) if value is not None else 0
    except (TypeError, ValueError):
        return 0


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    return text or None


def _joined(param: Any) -> Any:
    """A parameter's text whole: icalendar splits an unquoted value at its
    commas (RFC 5545 3.2 lets a parameter hold a list), and Outlook writes
    CN='Kowalski, Piotr' with quotes that are not DQUOTE."""
    if isinstance(param, list | tuple):
        return ",".join(str(part) for part in param)
    return param


def attendee_of(value: Any) -> Attendee | None:
    """An ORGANIZER/ATTENDEE property as an ``Attendee``; None without a usable address."""
    if value is None:
        return None
    uri = str(value).strip()
    # A cal-address is a URI (RFC 5545 3.3.3), mailto: in practice, but some
    # schedulers write the bare address. Any other scheme (urn:uuid:, tel:)
    # reaches nobody by mail.
    if not uri.lower().startswith("mailto:") and (":" in uri or "@" not in uri):
        return None
    params = getattr(value, "params", {})
    address = Address.of(uri, _text(_joined(params.get("CN"))), raw=uri)
    if address is None:
        return None
    return Attendee(
        address,
        role=str(params.get("ROLE", "REQ-PARTICIPANT")).upper(),
        partstat=str(params.get("PARTSTAT", "NEEDS-ACTION")).upper(),
        cutype=str(params.get("CUTYPE", "INDIVIDUAL")).upper(),
    )


def attendees_of(value: Any, limit: int) -> tuple[Attendee, ...]:
    values = value if isinstance(value, list) else ([] if value is None else [value])
    found: list[Attendee] = []
    for item in values:
        if len(found) >= limit:
            break
        attendee = attendee_of(item)
        if attendee is not None:
            found.append(attendee)
    return tuple(found)
