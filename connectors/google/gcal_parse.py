"""Google Calendar API events (``events.list`` with ``singleEvents=true``) -> ``Meeting``.

Pure: one event resource in, one record out, in the same terms
``connectors.calendar.ical`` gives the same meeting read from CalDAV, an archive or
a mail invitation, so both paths land on one interaction:

- identity: ``iCalUID`` is the iCalendar UID (Google keeps an imported or
  invited event's UID); an instance of a series (``recurringEventId``)
  takes its ``originalStartTime`` in UTC as RECURRENCE-ID, exactly as
  ``ical`` names each occurrence of a series; a single event has none.
- times: ``dateTime`` (with its offset) to UTC; an all-day ``date`` is
  00:00 UTC of that day with ``all_day``, the end date exclusive as in
  RFC 5545.
- ``status`` is confirmed, tentative or cancelled; a cancelled instance
  without times (Google's tombstone for a deleted occurrence) is placed at
  its original start.
- ``responseStatus`` maps to PARTSTAT (needsAction, accepted, declined,
  tentative -> NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE); ``optional``
  to OPT-PARTICIPANT. Attendees that are ``resource`` (rooms, equipment)
  are left out: they never become contacts. Beyond ``max_attendees`` they
  are dropped, as ``ical`` does.

Not meetings: a series master (``recurrence`` present) means the listing
was not expanded ("unexpanded-series"); a deleted single event comes back
as a tombstone (``status: cancelled`` and nothing else), which
``is_tombstone`` tells apart so the connector reports its copy removed
rather than parsing it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from connectors.base import InvalidInput, Limits
from connectors.calendar.recurrence import as_utc
from connectors.records import Address, Attendee, Meeting, MeetingStatus, SourceRef

_STATUS: dict[str, MeetingStatus] = {
    "confirmed": "confirmed",
    "tentative": "tentative",
    "cancelled": "cancelled",
}
_PARTSTAT = {
    "needsAction": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "declined": "DECLINED",
    "tentative": "TENTATIVE",
}


def event_source(account: str, calendar_id: str, event_id: object) -> SourceRef:
    """The copy of one event (or instance) in one calendar; ids are unique per calendar only."""
    if not isinstance(event_id, str) or not event_id or len(event_id) > 1024:
        raise InvalidInput("bad-event", "no event id")
    return SourceRef(account, calendar_id, f"gcal:{calendar_id}/{event_id}")


def is_tombstone(event: Any) -> bool:
    """A deleted event as a sync listing reports it: cancelled, no times, no series."""
    return (
        isinstance(event, Mapping)
        and event.get("status") == "cancelled"
        and "start" not in event
        and "recurringEventId" not in event
    )


def parse_event(event: Any, account: str, calendar_id: str, limits: Limits) -> Meeting:
    """One event or instance as a ``Meeting``; ``InvalidInput`` for what cannot be one."""
    if not isinstance(event, Mapping):
        raise InvalidInput("bad-event", "not an object")
    source = event_source(account, calendar_id, event.get("id"))
    if "recurrence" in event:
        raise InvalidInput("unexpanded-series", "list events with singleEvents=true")
    uid = _text(event.get("iCalUID"))
    if uid is None:
        raise InvalidInput("bad-event", "no iCalUID")
    status = _STATUS.get(str(event.get("status", "confirmed")), "confirmed")
    recurrence_id = None
    if "recurringEventId" in event:
        recurrence_id = _moment(event.get("originalStartTime"), "originalStartTime")[0]
    if "start" in event or recurrence_id is None:
        start, all_day = _moment(event.get("start"), "start")
        end: datetime | None = _moment(event.get("end"), "end")[0] if "end" in event else None
    else:  # a cancelled occurrence carries only where it was
        start, all_day = _moment(event.get("originalStartTime"), "originalStartTime")
        end = None
    if end is None and all_day:
        end = start + timedelta(days=1)
    return Meeting(
        source=source,
        uid=uid,
        recurrence_id=recurrence_id,
        start=start,
        end=end,
        all_day=all_day,
        status=status,
        sequence=_sequence(event.get("sequence")),
        summary=_text(event.get("summary")),
        location=_text(event.get("location")),
        organizer=_person(event.get("organizer")),
        attendees=_attendees(event.get("attendees"), limits.max_attendees),
        # Google's visibility: default, public, private or confidential.
        private=event.get("visibility") in ("private", "confidential"),
    )


def _moment(value: Any, name: str) -> tuple[datetime, bool]:
    """An EventDateTime as (UTC datetime, all-day), read as ``ical`` reads DTSTART."""
    if not isinstance(value, Mapping):
        raise InvalidInput("bad-event", f"no {name}")
    try:
        if isinstance(value.get("dateTime"), str):
            moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("RFC 3339 requires an offset")
            return as_utc(moment)
        if isinstance(value.get("date"), str):
            return as_utc(date.fromisoformat(value["date"]))
    except (ValueError, OverflowError):
        raise InvalidInput("bad-event", f"unreadable {name}") from None
    raise InvalidInput("bad-event", f"no time in {name}")


def _person(value: Any) -> Attendee | None:
    if not isinstance(value, Mapping) or value.get("resource") is True:
        return None
    email = value.get("email")
    if not isinstance(email, str):
        return None
    # raw as ical keeps it (the CAL-ADDRESS URI), so the same person compares equal.
    address = Address.of(email, _text(value.get("displayName")), raw=f"mailto:{email}")
    if address is None:
        return None
    return Attendee(
        address,
        role="OPT-PARTICIPANT" if value.get("optional") is True else "REQ-PARTICIPANT",
        partstat=_PARTSTAT.get(str(value.get("responseStatus")), "NEEDS-ACTION"),
    )


def _attendees(value: Any, limit: int) -> tuple[Attendee, ...]:
    found: list[Attendee] = []
    for item in value if isinstance(value, list) else ():
        if len(found) >= limit:
            break
        attendee = _person(item)
        if attendee is not None:
            found.append(attendee)
    return tuple(found)


def _sequence(value: Any) -> int:
    return max(0, value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text or None
