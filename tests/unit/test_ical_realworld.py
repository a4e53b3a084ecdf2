"""connectors.calendar.ical on calendars shaped as Google, Outlook, Apple and Lotus Domino write them.

Expansion results are compared with the reference implementation
(``recurring_ical_events``) run directly on the same text.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from connectors.base import Limits, Window
from connectors.calendar.ical import parse_calendar
from connectors.records import IngestError, SourceRef
from tests.calendars import BERLIN, OUTLOOK_HEAD, outlook_event
from tests.watchdog import terminates

SRC = SourceRef("ann@example.com", "takeout", "calendar.ics")
ROOT = Path(__file__).resolve().parents[2]


def crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode()


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def reference_starts(data: bytes, since: datetime, until: datetime) -> list[datetime]:
    """Occurrence starts (UTC) in [since, until) by the reference library alone."""
    calendar = icalendar.Calendar.from_ical(data)
    found = [o.decoded("DTSTART") for o in recurring_ical_events.of(calendar).between(since, until)]
    return sorted(s.astimezone(UTC) for s in found if since <= s.astimezone(UTC) < until)


GOOGLE_HEAD = (
    """BEGIN:VCALENDAR
PRODID:-//Google Inc//Google Calendar 70.9054//EN
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:ann@example.com
X-WR-TIMEZONE:Europe/Berlin
"""
    + BERLIN
)

STANDUP = """BEGIN:VEVENT
DTSTART;TZID=Europe/Berlin:20241209T093000
DTEND;TZID=Europe/Berlin:20241209T094500
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
DTSTAMP:20261206T120000Z
ORGANIZER;CN=Ann Lee:mailto:ann@example.com
UID:4lk3j2h1g0f9e8d7c6b5a4@google.com
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=Bob Stone;X-NUM-GUESTS=0:mailto:bob@example.org
CREATED:20241201T100000Z
LAST-MODIFIED:20241201T100000Z
SEQUENCE:0
STATUS:CONFIRMED
SUMMARY:Daily stand-up
TRANSP:OPAQUE
END:VEVENT
"""


# --- the occurrence cap keeps the present ------------------------------------------------


def test_a_capped_standup_keeps_the_occurrences_nearest_the_present() -> None:
    now = utc(2026, 12, 7, 8)
    window = Window(since=now - timedelta(days=730), until=now + timedelta(days=90), now=now)
    data = crlf(GOOGLE_HEAD + STANDUP + "END:VCALENDAR\n")
    meetings, errors = parse_calendar(data, SRC, window, Limits())
    every = reference_starts(data, window.since, window.until)
    assert len(every) == 585  # weekdays from 9 Dec 2024 to 5 Mar 2027
    nearest = sorted(sorted(every, key=lambda s: (abs(s - now), s))[:500])
    assert [m.start for m in meetings] == nearest
    upcoming = [s for s in every if s >= now]
    assert upcoming and set(upcoming) <= {m.start for m in meetings}  # every upcoming meeting
    assert meetings[0].start == utc(2025, 4, 7, 7, 30)
    assert errors == [
        IngestError(
            SRC,
            "too-many-occurrences",
            "uid '4lk3j2h1g0f9e8d7c6b5a4@google.com': 85 occurrences cut; "
            "kept the 500 nearest 2026-12-07",
        )
    ]


def test_without_now_the_window_end_stands_for_the_present() -> None:
    daily = (
        "BEGIN:VEVENT\nUID:daily@example.com\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20250101T080000Z\nRRULE:FREQ=DAILY\nEND:VEVENT\n"
    )
    window = Window(utc(2026, 1, 1), utc(2026, 4, 1))
    data = crlf(GOOGLE_HEAD + daily + "END:VCALENDAR\n")
    meetings, errors = parse_calendar(data, SRC, window, Limits(max_occurrences=7))
    assert [m.start for m in meetings] == [utc(2026, 3, d, 8) for d in range(25, 32)]
    assert [(e.reason, e.detail) for e in errors] == [
        (
            "too-many-occurrences",
            "uid 'daily@example.com': at least 7 occurrences cut; kept the 7 nearest 2026-04-01",
        )
    ]


def test_a_rule_hidden_behind_a_hundred_thousand_exdates_is_an_error() -> None:
    start = utc(2026, 1, 1, 9)
    hidden = ",".join(
        (start + timedelta(minutes=n)).strftime("%Y%m%dT%H%M%SZ") for n in range(100_000)
    )
    event = (
        "BEGIN:VEVENT\nUID:hidden@example.com\nDTSTAMP:20260101T000000Z\n"
        f"DTSTART:20260101T090000Z\nRRULE:FREQ=MINUTELY\nEXDATE:{hidden}\nEND:VEVENT\n"
        "BEGIN:VEVENT\nUID:kept@example.com\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20260105T090000Z\nEND:VEVENT\n"
    )
    window = Window(utc(2026, 1, 1), utc(2026, 4, 1), now=utc(2026, 1, 1))
    with terminates():
        meetings, errors = parse_calendar(
            crlf(GOOGLE_HEAD + event + "END:VCALENDAR\n"), SRC, window, Limits()
        )
    assert [m.uid for m in meetings] == ["kept@example.com"]
    assert errors == [
        IngestError(SRC, "recurrence-too-long", "uid 'hidden@example.com': 100000 EXDATE values")
    ]


# --- one bad component costs only itself ---------------------------------------------------


GREGORIAN = "RRULE:RSCALE=GREGORIAN;FREQ=MONTHLY;BYMONTHDAY=11;COUNT=3"
FEBRUARY = Window(utc(2026, 2, 1), utc(2026, 3, 1))
OUTLOOK_UID = (
    "040000008200E00074C5B7101A82E00800000000D0F4B0E6F0A1DC01000000000000000010000000A1B2C3D4E5F6"
)


def test_an_event_without_uid_gets_a_stable_identity_and_an_empty_rrule_is_one_event() -> None:
    def export(stamp: str) -> bytes:
        events = (
            outlook_event(OUTLOOK_UID, 3, "Quarterly review"),
            outlook_event(None, 4, "Call with Carol", stamp=stamp),
            outlook_event(None, 5, "Call with Dan", stamp=stamp),
            outlook_event("empty-rule@example.com", 6, "Lunch", "RRULE:"),
            outlook_event("lunar@example.com", 9, "New year", "RRULE:RSCALE=CHINESE;FREQ=YEARLY"),
            outlook_event(None, 10, "Garbled").replace("20260210T100000", "2026-02-10 10:00"),
            outlook_event("monthly@example.com", 11, "Billing run", GREGORIAN),
        )
        return crlf(OUTLOOK_HEAD + "".join(events) + "END:VCALENDAR\n")

    meetings, errors = parse_calendar(export("0115"), SRC, FEBRUARY, Limits())
    got = [(m.summary, m.start, m.recurrence_id) for m in meetings]
    assert got == [
        ("Quarterly review", utc(2026, 2, 3, 9), None),
        ("Call with Carol", utc(2026, 2, 4, 9), None),
        ("Call with Dan", utc(2026, 2, 5, 9), None),
        ("Lunch", utc(2026, 2, 6, 9), None),
        # RFC 7529: RSCALE=GREGORIAN is the calendar every rule already uses.
        ("Billing run", utc(2026, 2, 11, 9), utc(2026, 2, 11, 9)),
    ]
    carol, dan = meetings[1], meetings[2]
    assert carol.uid.startswith("derived-") and dan.uid.startswith("derived-")
    assert carol.uid != dan.uid
    assert errors == [
        IngestError(SRC, "bad-vevent", "uid '': unreadable DTSTART"),
        IngestError(SRC, "bad-vevent", "uid 'lunar@example.com': BadRuleStringFormat"),
    ]
    # Exported again a month later (new DTSTAMP): the same identities.
    again, _ = parse_calendar(export("0301"), SRC, FEBRUARY, Limits())
    assert [m.identity for m in again] == [m.identity for m in meetings]


def test_a_component_that_breaks_the_parser_costs_only_itself() -> None:
    unterminated_alarm = outlook_event("alarm@example.com", 4, "Broken reminder").replace(
        "END:VEVENT\n", "BEGIN:VALARM\nTRIGGER:-PT15M\nACTION:DISPLAY\nEND:VEVENT\n"
    )
    data = crlf(
        OUTLOOK_HEAD
        + outlook_event("first@example.com", 3, "Kick-off")
        + unterminated_alarm
        + outlook_event("last@example.com", 5, "Follow-up")
        + "END:VCALENDAR\n"
    )
    meetings, errors = parse_calendar(data, SRC, FEBRUARY, Limits())
    assert [(m.uid, m.start, m.method) for m in meetings] == [
        ("first@example.com", utc(2026, 2, 3, 9), "PUBLISH"),
        ("last@example.com", utc(2026, 2, 5, 9), "PUBLISH"),
    ]
    assert errors == [IngestError(SRC, "bad-vevent", "unparseable: ValueError")]
    # The VEVENT limit holds on this path too.
    capped, capped_errors = parse_calendar(data, SRC, FEBRUARY, Limits(max_vevents=2))
    assert [m.uid for m in capped] == ["first@example.com"]
    assert capped_errors == [
        IngestError(SRC, "too-many-vevents", "3 > 2"),
        IngestError(SRC, "bad-vevent", "unparseable: ValueError"),
    ]


# --- Lotus Domino time zones -------------------------------------------------------------

DOMINO_EASTERN = """BEGIN:VTIMEZONE
TZID:Eastern
BEGIN:STANDARD
DTSTART:19501105T020000
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=11
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19500312T020000
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=2SU;BYMONTH=3
END:DAYLIGHT
END:VTIMEZONE
"""


def domino_invitation(zone: str, *, tzid: str = "Eastern") -> bytes:
    return crlf(
        "BEGIN:VCALENDAR\n"
        "X-LOTUS-CHARSET:UTF-8\n"
        "VERSION:2.0\n"
        "PRODID:-//Lotus Development Corporation//NONSGML Notes 9.0.1//EN_C\n"
        "METHOD:REQUEST\n" + zone + "BEGIN:VEVENT\n"
        f'DTSTART;TZID="{tzid}":20260302T140000\n'
        f'DTEND;TZID="{tzid}":20260302T150000\n'
        "TRANSP:OPAQUE\n"
        "DTSTAMP:20260220T151500Z\n"
        "SEQUENCE:0\n"
        'ATTENDEE;ROLE=CHAIR;PARTSTAT=ACCEPTED;CN="Carl Meyer/Sales/Acme"\n'
        " ;RSVP=FALSE:mailto:carl.meyer@acme.example\n"
        "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:ann@example.com\n"
        "CLASS:PUBLIC\n"
        "SUMMARY:Pricing call\n"
        'ORGANIZER;CN="Carl Meyer/Sales/Acme":mailto:carl.meyer@acme.example\n'
        "UID:8FA2B1C3D4E5F60785257F2A0051B3C4-Lotus_Notes_Generated\n"
        'RDATE;VALUE=PERIOD;TZID="' + tzid + '":20260302T140000/20260302T150000\n'
        " ,20260309T140000/20260309T150000\n"
        "X-LOTUS-BROADCAST:FALSE\n"
        "X-LOTUS-NOTESVERSION:2\n"
        "X-LOTUS-NOTICETYPE:I\n"
        "X-LOTUS-APPTTYPE:3\n"
        "X-LOTUS-CHILD-UID:8FA2B1C3D4E5F60785257F2A0051B3C4\n"
        "END:VEVENT\n"
        "END:VCALENDAR\n"
    )


def starts(data: bytes) -> list[datetime]:
    meetings, errors = parse_calendar(data, SRC, FEBRUARY_MARCH, Limits())
    assert errors == []
    return [m.start for m in meetings]


FEBRUARY_MARCH = Window(utc(2026, 2, 1), utc(2026, 4, 1))


def test_a_domino_invitation_with_byhour_in_its_timezone_is_read() -> None:
    meetings, errors = parse_calendar(
        domino_invitation(DOMINO_EASTERN), SRC, FEBRUARY_MARCH, Limits()
    )
    assert errors == []
    # US daylight time starts on 8 March 2026: 14:00 Eastern is 19:00 UTC, then 18:00 UTC.
    assert [(m.start, m.end, m.method) for m in meetings] == [
        (utc(2026, 3, 2, 19), utc(2026, 3, 2, 20), "REQUEST"),
        (utc(2026, 3, 9, 18), utc(2026, 3, 9, 19), "REQUEST"),
    ]
    assert [a.address.email for a in meetings[0].attendees] == [
        "carl.meyer@acme.example",
        "ann@example.com",
    ]


# A Domino server in Sydney names its zone "Eastern" too.
SYDNEY_EASTERN = """BEGIN:VTIMEZONE
TZID:Eastern
BEGIN:STANDARD
DTSTART:19500402T030000
TZOFFSETFROM:+1100
TZOFFSETTO:+1000
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=3;BYDAY=1SU;BYMONTH=4
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19501001T020000
TZOFFSETFROM:+1000
TZOFFSETTO:+1100
RRULE:FREQ=YEARLY;BYMINUTE=0;BYHOUR=2;BYDAY=1SU;BYMONTH=10
END:DAYLIGHT
END:VTIMEZONE
"""

_FRESH = """
import json, sys
from datetime import UTC, datetime
from connectors.base import Limits, Window
from connectors.calendar.ical import parse_calendar
from connectors.records import SourceRef
window = Window(datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
meetings, _ = parse_calendar(open(sys.argv[1], "rb").read(), SourceRef("a", "s", "p"), window, Limits())
print(json.dumps([m.start.isoformat() for m in meetings]))
"""


def test_two_zones_named_alike_read_in_one_process_as_in_a_fresh_one(tmp_path: Path) -> None:
    new_york, sydney = tmp_path / "new_york.ics", tmp_path / "sydney.ics"
    new_york.write_bytes(domino_invitation(DOMINO_EASTERN))
    sydney.write_bytes(domino_invitation(SYDNEY_EASTERN))

    def fresh(path: Path) -> list[datetime]:
        out = subprocess.run(
            [sys.executable, "-c", _FRESH, str(path)],
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=120,
        ).stdout
        return [datetime.fromisoformat(s) for s in json.loads(out)]

    expected = {new_york: fresh(new_york), sydney: fresh(sydney)}
    # Sydney keeps daylight time until 5 April 2026: 14:00 there is 03:00 UTC.
    assert expected[sydney] == [utc(2026, 3, 2, 3), utc(2026, 3, 9, 3)]
    assert expected[new_york] == [utc(2026, 3, 2, 19), utc(2026, 3, 9, 18)]
    for order in ((new_york, sydney), (sydney, new_york), (new_york, sydney)):
        assert {path: starts(path.read_bytes()) for path in order} == expected


# --- RANGE=THISANDFUTURE ---------------------------------------------------------------------

APPLE_SERIES = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 15.1//EN
CALSCALE:GREGORIAN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
DTSTART:19810329T020000
TZNAME:CEST
TZOFFSETTO:+0200
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
DTSTART:19961027T030000
TZNAME:CET
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
CREATED:20260105T081500Z
UID:6B29FC40-CA47-1067-B31D-00DD010662DA
DTEND;TZID=Europe/Berlin:20260112T100000
RRULE:FREQ=WEEKLY;INTERVAL=1;COUNT=12
TRANSP:OPAQUE
SUMMARY:Account planning
DTSTART;TZID=Europe/Berlin:20260112T090000
DTSTAMP:20260105T081500Z
SEQUENCE:0
ORGANIZER;CN=Ann Lee:mailto:ann@example.com
ATTENDEE;CN=Bob Stone;PARTSTAT=ACCEPTED:mailto:bob@example.org
END:VEVENT
"""
MOVED_ON = """BEGIN:VEVENT
CREATED:20260105T081500Z
UID:6B29FC40-CA47-1067-B31D-00DD010662DA
DTEND;TZID=Europe/Berlin:20260204T120000
TRANSP:OPAQUE
SUMMARY:Account planning (Wednesdays)
DTSTART;TZID=Europe/Berlin:20260204T110000
DTSTAMP:20260128T101500Z
SEQUENCE:1
RECURRENCE-ID;RANGE=THISANDFUTURE;TZID=Europe/Berlin:20260202T090000
ORGANIZER;CN=Ann Lee:mailto:ann@example.com
ATTENDEE;CN=Bob Stone;PARTSTAT=ACCEPTED:mailto:bob@example.org
END:VEVENT
"""


def test_each_occurrence_after_a_thisandfuture_change_keeps_its_own_identity() -> None:
    before = crlf(APPLE_SERIES + "END:VCALENDAR\n")
    after = crlf(APPLE_SERIES + MOVED_ON + "END:VCALENDAR\n")
    window = Window(utc(2026, 1, 1), utc(2026, 6, 1))
    original, errors = parse_calendar(before, SRC, window, Limits())
    moved, moved_errors = parse_calendar(after, SRC, window, Limits())
    assert errors == moved_errors == []
    # The identities are the original starts (RFC 5545 3.8.4.4), as before the change,
    # so the moved occurrences update the meetings already captured.
    assert [m.recurrence_id for m in moved] == reference_starts(before, window.since, window.until)
    assert [m.identity for m in moved] == [m.identity for m in original]
    assert len({m.identity for m in moved}) == 12
    # Times as the reference library expands the changed series: from 2 February on,
    # Wednesdays at 11:00 Berlin time (10:00 UTC in winter, 09:00 UTC from 29 March).
    assert [m.start for m in moved] == reference_starts(after, window.since, window.until)
    assert [(m.start, m.summary) for m in moved][3:5] == [
        (utc(2026, 2, 4, 10), "Account planning (Wednesdays)"),
        (utc(2026, 2, 11, 10), "Account planning (Wednesdays)"),
    ]
    assert moved[-1].start == utc(2026, 4, 1, 9)


def test_only_a_vevent_rule_makes_a_series() -> None:
    from connectors.calendar.text import is_series

    single = outlook_event("one@example.com", 3, "Kick-off")
    assert not is_series(crlf(OUTLOOK_HEAD + single + "END:VCALENDAR\n"))  # VTIMEZONE RRULEs
    assert not is_series(
        crlf(OUTLOOK_HEAD + single.replace("PRIORITY:5", "RRULE:") + "END:VCALENDAR\n")
    )
    assert is_series(crlf(GOOGLE_HEAD + STANDUP + "END:VCALENDAR\n"))
    folded = STANDUP.replace(
        "RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", "RRULE:FREQ=WEEKLY;\n BYDAY=MO"
    )
    assert is_series(
        crlf(folded.replace("BEGIN:VEVENT", "BEGIN:VCALENDAR\nBEGIN:VEVENT") + "END:VCALENDAR\n")
    )
    rdate = single.replace("PRIORITY:5", "RDATE;TZID=W. Europe Standard Time:20260210T100000")
    assert is_series(crlf(OUTLOOK_HEAD + rdate + "END:VCALENDAR\n"))


def test_a_rule_too_dense_to_walk_across_the_window_says_how_far_it_was_read() -> None:
    # Daily at 09:00, written the long way (a hand-made export): estimated as minutely.
    nine = (
        "BEGIN:VEVENT\nUID:nine@example.com\nDTSTAMP:20260101T000000Z\n"
        "DTSTART:20260301T090000Z\nRRULE:FREQ=MINUTELY;BYHOUR=9;BYMINUTE=0\nEND:VEVENT\n"
    )
    now = utc(2026, 6, 1, 12)
    window = Window(utc(2025, 6, 1), utc(2026, 9, 1), now=now)
    data = crlf(OUTLOOK_HEAD + nine + "END:VCALENDAR\n")
    with terminates():
        meetings, errors = parse_calendar(data, SRC, window, Limits())
    # 100,000 estimated steps around the present: 69 days and 10 hours each side.
    read_from, read_to = now - timedelta(minutes=50_000 * 2), now + timedelta(minutes=50_000 * 2)
    assert [m.start for m in meetings] == reference_starts(data, read_from, read_to)
    assert (meetings[0].start, meetings[-1].start) == (utc(2026, 3, 24, 9), utc(2026, 8, 9, 9))
    assert errors == [
        IngestError(
            SRC,
            "recurrence-too-long",
            "uid 'nine@example.com': rule too dense to expand past 2026-03-24..2026-08-09",
        )
    ]


def test_renaming_a_custom_zone_touches_only_date_properties() -> None:
    quoted = domino_invitation(DOMINO_EASTERN).replace(
        b"SUMMARY:Pricing call", b"SUMMARY:Pricing call (times are ;TZID=Eastern: see notes)"
    )
    meetings, errors = parse_calendar(quoted, SRC, FEBRUARY_MARCH, Limits())
    assert errors == []
    assert [(m.summary, m.start) for m in meetings][:1] == [
        ("Pricing call (times are ;TZID=Eastern: see notes)", utc(2026, 3, 2, 19))
    ]


LIGHTNING = """BEGIN:VCALENDAR
PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN
VERSION:2.0
BEGIN:VEVENT
UID:4c1e6f0a-lightning@acme.example
DTSTAMP:20260201T120000Z
DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260310T090000
DTEND;TZID=/mozilla.org/20050126_1/America/New_York:20260310T100000
SUMMARY:Pricing call
ORGANIZER:mailto:ann@acme.example
ATTENDEE;PARTSTAT=ACCEPTED:mailto:carl@globex.example
END:VEVENT
END:VCALENDAR
"""


def test_a_vendor_prefixed_tzid_without_its_vtimezone_is_its_olson_zone_and_says_nothing() -> None:
    # Old Lightning exports prefix the TZID (RFC 5545 3.2.19) and may leave the
    # VTIMEZONE out. icalendar 7 reads the zone after the prefix and warns;
    # with every warning an error here, the reading must still come through.
    window = Window(utc(2026, 3, 1), utc(2026, 4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meetings, errors = parse_calendar(crlf(LIGHTNING), SRC, window, Limits())
    assert errors == []
    [meeting] = meetings
    new_york = ZoneInfo("America/New_York")  # the reference: the standard library's zone data
    assert meeting.start == datetime(2026, 3, 10, 9, 0, tzinfo=new_york).astimezone(UTC)
    assert meeting.start == utc(2026, 3, 10, 13, 0)  # EDT from March 8th, 2026
    assert meeting.end == utc(2026, 3, 10, 14, 0)


def test_an_attendee_written_without_mailto_is_read_and_other_schemes_are_not() -> None:
    # Some schedulers write the bare address as the cal-address (RFC 5545
    # 3.3.3 wants a URI); urn:uuid: and tel: attendees reach nobody by mail.
    text = LIGHTNING.replace(
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:carl@globex.example\n",
        "ATTENDEE;CN=Bob Smith;PARTSTAT=NEEDS-ACTION:Bob@Fabrikam.example\n"
        "ATTENDEE;CN=Dana Wu:MAILTO:dana@globex.example\n"
        "ATTENDEE;CN=Room:urn:uuid:5c1ac3b0-9a1e-4b3e-8f0e-6d1f2f6c0a11\n"
        "ATTENDEE;CN=Dial-in:tel:+1-212-555-0100\n"
        "ATTENDEE;CN=Nobody:nobody\n",
    )
    window = Window(utc(2026, 3, 1), utc(2026, 4, 1))
    [meeting], errors = parse_calendar(crlf(text), SRC, window, Limits())
    assert errors == []
    assert [(a.address.email, a.address.name, a.partstat) for a in meeting.attendees] == [
        ("bob@fabrikam.example", "Bob Smith", "NEEDS-ACTION"),
        ("dana@globex.example", "Dana Wu", "NEEDS-ACTION"),
    ]


def test_an_unquoted_comma_in_a_cn_keeps_the_name_whole() -> None:
    """Outlook writes CN='Kowalski, Piotr' in single quotes, which are no
    DQUOTE: the parser splits the value at its comma (RFC 5545 3.2 lets a
    parameter hold a list). The name comes back whole."""
    event = outlook_event(
        "cn@example.com",
        10,
        "Contract review",
        "ATTENDEE;CN='Kowalski, Piotr':mailto:pk@example.org",
    )
    data = crlf(OUTLOOK_HEAD + event + "END:VCALENDAR\n")
    meetings, errors = parse_calendar(data, SRC, FEBRUARY_MARCH, Limits())
    assert errors == []
    names = {a.address.email: a.address.name for a in meetings[0].attendees}
    assert names == {"bob@example.org": "Bob Stone", "pk@example.org": "'Kowalski, Piotr'"}
