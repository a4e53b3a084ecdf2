"""Alice's calendar export (.ics files) and Bob's two invitation e-mails.

Written by hand as RFC 5545 text rather than through a library, so the files
look like what Google Calendar and Outlook export: CRLF line endings, lines
folded at 75 octets (section 3.1), VTIMEZONE blocks for local times.
"""

from __future__ import annotations

from dataclasses import dataclass

from samplegen.cast import person

PRODID = "-//Northwind Labs//Sample Calendar Export 1.0//EN"
DTSTAMP = "20261120T120000Z"

NEW_YORK = """BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE"""

BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE"""


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    start: (
        str  # "20260303T160000Z", "TZID=America/New_York:20260303T110000" or "VALUE=DATE:20260915"
    )
    end: str
    organizer: str  # cast key
    attendees: tuple[str, ...]  # cast keys; the organizer is listed too, as clients do
    status: str = "CONFIRMED"
    sequence: int = 0
    location: str = ""
    extra: tuple[str, ...] = ()  # RRULE, EXDATE, RECURRENCE-ID, raw ATTENDEE lines
    spelled: tuple[
        tuple[str, str], ...
    ] = ()  # (cast key, mailto address as the organizer typed it)


def fold(line: str) -> str:
    """RFC 5545 3.1: lines longer than 75 octets continue on lines starting with a space."""
    raw = line.encode("utf-8")
    if len(raw) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    while raw:
        cut = min(limit, len(raw))
        while cut < len(raw) and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            cut -= 1
        parts.append(raw[:cut].decode("utf-8"))
        raw = raw[cut:]
        limit = 74  # the leading space counts
    return "\r\n ".join(parts)


def _cn(name: str) -> str:
    # RFC 5545 3.2: a parameter value with ",", ";" or ":" must be a quoted string.
    return f'"{name}"' if any(c in name for c in ",;:") else name


def _prop(name: str, value: str) -> str:
    return f"{name}:{value}" if "=" not in value.partition(":")[0] else f"{name};{value}"


def vevent(ev: Event) -> list[str]:
    spelled = dict(ev.spelled)
    org = person(ev.organizer)
    lines = [
        "BEGIN:VEVENT",
        f"UID:{ev.uid}",
        f"DTSTAMP:{DTSTAMP}",
        _prop("DTSTART", ev.start),
        _prop("DTEND", ev.end),
        f"SUMMARY:{ev.summary}",
        f"ORGANIZER;CN={_cn(org.display)}:mailto:{spelled.get(org.key, org.email)}",
    ]
    for key in ev.attendees:
        p = person(key)
        partstat = "ACCEPTED" if key == ev.organizer else "NEEDS-ACTION"
        lines.append(
            f"ATTENDEE;CN={_cn(p.display)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT={partstat}:mailto:{spelled.get(key, p.email)}"
        )
    if ev.location:
        lines.append(f"LOCATION:{ev.location}")
    lines += [*ev.extra, f"STATUS:{ev.status}", f"SEQUENCE:{ev.sequence}", "END:VEVENT"]
    return lines


def vcalendar(events: list[Event], zones: tuple[str, ...] = (), method: str = "") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    for zone in zones:
        lines += zone.splitlines()
    for ev in events:
        lines += vevent(ev)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(fold(line) for line in lines) + "\r\n").encode("utf-8")
