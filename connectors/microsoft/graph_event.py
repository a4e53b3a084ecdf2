"""Graph ``event`` instances -> ``Meeting`` (see ``connectors.microsoft.graph_parse`` for the rules).

Kept apart from the message parser because the identity work here (reading
Exchange's encoded global object id) has nothing to do with mail.
"""

from __future__ import annotations

import binascii
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from connectors.base import InvalidInput, Limits
from connectors.calendar.recurrence import as_utc
from connectors.records import Address, Attendee, Meeting, SourceRef

# MS-OXOCAL 2.2.1.27: every encoded global object id starts with these 16 bytes.
_GOID_PREFIX = bytes.fromhex("040000008200E00074C5B7101A82E008")
_GOID_HEADER = 40  # prefix 16, instance date 4, creation time 8, padding 8, data size 4
_VCAL_MARK = b"vCal-Uid\x01\x00\x00\x00"  # data that wraps a third-party UID
_ROLE = {"required": "REQ-PARTICIPANT", "optional": "OPT-PARTICIPANT"}
_PARTSTAT = {
    "none": "NEEDS-ACTION",
    "notResponded": "NEEDS-ACTION",
    "accepted": "ACCEPTED",
    "organizer": "ACCEPTED",
    "tentativelyAccepted": "TENTATIVE",
    "declined": "DECLINED",
}
_INSTANCE_TYPES = frozenset({"occurrence", "exception"})


def event_source(account: str, stream: str, event_id: object) -> SourceRef:
    """The copy of one event instance; Graph gives each occurrence its own id."""
    if not isinstance(event_id, str) or not event_id or len(event_id) > 1024:
        raise InvalidInput("bad-event", "no event id")
    return SourceRef(account, stream, f"graph:{event_id}")


def ical_uid(value: str) -> str:
    """The iCalendar UID an Exchange ``iCalUId`` stands for (MS-OXCICAL 2.1.3.1.1.20.26)."""
    try:
        raw = binascii.unhexlify(value)
    except (binascii.Error, ValueError):
        return value  # not an encoded id: a UID as the organizer's system wrote it
    if not raw.startswith(_GOID_PREFIX) or len(raw) < _GOID_HEADER:
        return value
    size = int.from_bytes(raw[36:40], "little")
    data = raw[_GOID_HEADER:]
    if size != len(data):
        return value
    if data.startswith(_VCAL_MARK):
        wrapped = data[len(_VCAL_MARK) :].rstrip(b"\x00")
        try:
            return wrapped.decode("utf-8")
        except UnicodeDecodeError:
            return value
    # Zero the instance date: every occurrence then names its series.
    clean = raw[:16] + b"\x00\x00\x00\x00" + raw[20:]
    return clean.hex().upper()


def parse_graph_event(event: Any, account: str, stream: str, limits: Limits) -> Meeting:
    """One event instance as a ``Meeting``; ``InvalidInput`` for what cannot be one."""
    if not isinstance(event, Mapping):
        raise InvalidInput("bad-event", "not an object")
    source = event_source(account, stream, event.get("id"))
    if event.get("type") == "seriesMaster":
        raise InvalidInput("unexpanded-series", "list instances through calendarView")
    graph_uid = _text(event.get("iCalUId"))
    if graph_uid is None or len(graph_uid) > 4096:
        raise InvalidInput("bad-event", "no iCalUId")
    all_day = event.get("isAllDay") is True
    start = _moment(event.get("start"), "start", all_day)
    end = _moment(event.get("end"), "end", all_day) if event.get("end") is not None else None
    if end is None and all_day:
        end = start + timedelta(days=1)
    recurrence_id = None
    kind = event.get("type")
    if isinstance(kind, str) and kind in _INSTANCE_TYPES:
        recurrence_id = _original_start(event.get("originalStart"))
    return Meeting(
        source=source,
        uid=ical_uid(graph_uid),
        recurrence_id=recurrence_id,
        start=start,
        end=end,
        all_day=all_day,
        status="cancelled" if event.get("isCancelled") is True else "confirmed",
        summary=_text(event.get("subject")),
        location=_location(event.get("location")),
        organizer=_person(event.get("organizer"), None),
        attendees=_attendees(event.get("attendees"), limits.max_attendees),
        # Outlook's sensitivity: normal, personal, private or confidential.
        private=event.get("sensitivity") in ("personal", "private", "confidential"),
    )


def _moment(value: Any, name: str, all_day: bool) -> datetime:
    """A dateTimeTimeZone as UTC; an all-day one as its date, read as ``ical`` reads a DATE."""
    if not isinstance(value, Mapping):
        raise InvalidInput("bad-event", f"no {name}")
    stamp, zone_name = value.get("dateTime"), value.get("timeZone")
    if not isinstance(stamp, str) or not isinstance(zone_name, str) or len(stamp) > 40:
        raise InvalidInput("bad-event", f"no time in {name}")
    try:
        # Graph writes seven fractional digits; Python reads at most six.
        local = datetime.fromisoformat(stamp[:26] if "." in stamp else stamp)
        if local.tzinfo is not None:
            raise ValueError("dateTime carries no offset; timeZone names the zone")
        if all_day:
            return as_utc(date(local.year, local.month, local.day))[0]
        return as_utc(local.replace(tzinfo=_zone(zone_name)))[0]
    except (ValueError, OverflowError):
        raise InvalidInput("bad-event", f"unreadable {name}") from None


def _zone(name: str) -> ZoneInfo:
    """An IANA zone, or the one a Windows zone name (Exchange's own) stands for."""
    try:
        return ZoneInfo(WINDOWS_TO_OLSON.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput("bad-event", "unknown time zone") from None


def _original_start(value: Any) -> datetime:
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidInput("bad-event", "an occurrence without originalStart")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise ValueError("originalStart is a DateTimeOffset")
        return as_utc(moment)[0]
    except (ValueError, OverflowError):
        raise InvalidInput("bad-event", "unreadable originalStart") from None


def _person(value: Any, attendee_type: str | None) -> Attendee | None:
    box = value.get("emailAddress") if isinstance(value, Mapping) else None
    address_text = box.get("address") if isinstance(box, Mapping) else None
    if not isinstance(address_text, str) or not address_text.strip():
        return None
    name = box.get("name") if isinstance(box, Mapping) else None
    shown = _text(name) if name != address_text else None
    # raw as ical keeps it (the CAL-ADDRESS URI), so the same person compares equal.
    address = Address.of(address_text.strip(), shown, raw=f"mailto:{address_text.strip()}")
    if address is None:
        return None
    if attendee_type is None:
        return Attendee(address)  # the organizer, as ical reads a bare ORGANIZER
    status = value.get("status") if isinstance(value, Mapping) else None
    response = status.get("response") if isinstance(status, Mapping) else None
    return Attendee(
        address,
        role=_ROLE.get(attendee_type, "REQ-PARTICIPANT"),
        partstat=_PARTSTAT.get(str(response), "NEEDS-ACTION"),
    )


def _attendees(value: Any, limit: int) -> tuple[Attendee, ...]:
    found: list[Attendee] = []
    for item in value if isinstance(value, list) else ():
        if len(found) >= limit:
            break
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == "resource":
            continue  # rooms and equipment never become contacts
        attendee = _person(item, str(kind) if isinstance(kind, str) else "required")
        if attendee is not None:
            found.append(attendee)
    return tuple(found)


def _location(value: Any) -> str | None:
    return _text(value.get("displayName")) if isinstance(value, Mapping) else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text or None
