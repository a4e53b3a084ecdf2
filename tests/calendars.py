"""iCalendar text in the shapes real calendar programs write: time zones, Outlook exports."""

from __future__ import annotations

BERLIN = """BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
"""


OUTLOOK_HEAD = """BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:PUBLISH
X-MS-OLK-FORCEINSPECTOROPEN:TRUE
BEGIN:VTIMEZONE
TZID:W. Europe Standard Time
BEGIN:STANDARD
DTSTART:16011028T030000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:16010325T020000
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
"""


def outlook_event(
    uid: str | None, day: int, summary: str, *extra: str, stamp: str = "0115", month: str = "202602"
) -> str:
    lines = [
        "BEGIN:VEVENT",
        "CLASS:PUBLIC",
        "CREATED:20260110T090000Z",
        f'DTEND;TZID="W. Europe Standard Time":{month}{day:02d}T110000',
        f"DTSTAMP:2026{stamp}T090000Z",
        f'DTSTART;TZID="W. Europe Standard Time":{month}{day:02d}T100000',
        'ORGANIZER;CN="Ann Lee":mailto:ann@example.com',
        'ATTENDEE;CN="Bob Stone";RSVP=TRUE:mailto:bob@example.org',
        "PRIORITY:5",
        "SEQUENCE:0",
        f"SUMMARY;LANGUAGE=en-us:{summary}",
        "TRANSP:OPAQUE",
        *([f"UID:{uid}"] if uid else []),
        "X-MICROSOFT-CDO-BUSYSTATUS:BUSY",
        *extra,
        "END:VEVENT",
    ]
    return "\n".join(lines) + "\n"
