"""connectors.calendar.ical: calendar objects in, exact Meeting occurrences out."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Limits, Window
from connectors.calendar.ical import occurrence_source, parse_calendar
from connectors.records import Address, Attendee, IngestError, Meeting, SourceRef
from tests.calendars import BERLIN
from tests.watchdog import terminates

SRC = SourceRef("ann@example.com", "work", "/cal/ann/work/w1.ics")
LIMITS = Limits()
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))


def calendar(*events: str, method: str | None = None, tz: bool = True) -> bytes:
    head = "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//test//EN\n"
    if method:
        head += f"METHOD:{method}\n"
    body = head + (BERLIN if tz else "") + "".join(events) + "END:VCALENDAR\n"
    return body.replace("\n", "\r\n").encode()


def vevent(*lines: str) -> str:
    return "BEGIN:VEVENT\n" + "".join(line + "\n" for line in lines) + "END:VEVENT\n"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


ANN = Attendee(Address("ann@example.com", "Ann Lee", "mailto:ann@example.com"), "CHAIR", "ACCEPTED")
BOB = Attendee(Address("bob@example.org", "Bob", "MAILTO:Bob@Example.ORG"), partstat="ACCEPTED")
ROOM = Attendee(
    Address("room4@example.com", "Room 4", "mailto:room4@example.com"),
    "NON-PARTICIPANT",
    cutype="ROOM",
)

WEEKLY = vevent(
    "UID:weekly-1",
    "SEQUENCE:3",
    "SUMMARY:Pipeline review",
    "LOCATION:Room 4",
    "DTSTART;TZID=Europe/Berlin:20260302T100000",
    "DTEND;TZID=Europe/Berlin:20260302T110000",
    "RRULE:FREQ=WEEKLY;COUNT=5",
    "EXDATE;TZID=Europe/Berlin:20260309T100000",
    "ORGANIZER;CN=Ann Lee;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:ann@example.com",
    "ATTENDEE;CN=Bob;PARTSTAT=ACCEPTED:MAILTO:Bob@Example.ORG",
    "ATTENDEE;CN=Room 4;CUTYPE=ROOM;ROLE=NON-PARTICIPANT:mailto:room4@example.com",
    "ATTENDEE;CN=Phone only:tel:+4930123456",
)
MOVED = vevent(
    "UID:weekly-1",
    "SEQUENCE:4",
    "SUMMARY:Pipeline review (moved)",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260316T100000",
    "DTSTART;TZID=Europe/Berlin:20260317T150000",
    "DTEND;TZID=Europe/Berlin:20260317T160000",
    "ORGANIZER;CN=Ann Lee;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:ann@example.com",
)
CANCELLED_ONE = vevent(
    "UID:weekly-1",
    "SEQUENCE:4",
    "STATUS:CANCELLED",
    "RECURRENCE-ID;TZID=Europe/Berlin:20260323T100000",
    "DTSTART;TZID=Europe/Berlin:20260323T100000",
    "DTEND;TZID=Europe/Berlin:20260323T110000",
)


def weekly_meeting(rid: datetime, **changes: object) -> Meeting:
    base = Meeting(
        source=occurrence_source(SRC, "weekly-1", rid),
        uid="weekly-1",
        recurrence_id=rid,
        start=rid,
        end=rid + timedelta(hours=1),
        # Generated occurrences carry the series' highest SEQUENCE (the
        # override's 4), so none of them looks older than a revision.
        sequence=4,
        summary="Pipeline review",
        location="Room 4",
        organizer=ANN,
        attendees=(BOB, ROOM),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_weekly_series_with_exdate_override_and_cancelled_occurrence() -> None:
    meetings, errors = parse_calendar(calendar(WEEKLY, MOVED, CANCELLED_ONE), SRC, WINDOW, LIMITS)
    assert errors == []
    # Berlin is UTC+1 until 29 March 2026, then UTC+2: the 10:00 meeting moves in UTC.
    assert sorted(meetings, key=lambda m: m.start) == [
        weekly_meeting(utc(2026, 3, 2, 9)),
        weekly_meeting(
            utc(2026, 3, 16, 9),
            start=utc(2026, 3, 17, 14),
            end=utc(2026, 3, 17, 15),
            summary="Pipeline review (moved)",
            location=None,
            attendees=(),
        ),
        weekly_meeting(
            utc(2026, 3, 23, 9),
            status="cancelled",
            summary=None,
            location=None,
            organizer=None,
            attendees=(),
        ),
        weekly_meeting(utc(2026, 3, 30, 8)),
    ]


def test_method_cancel_for_one_recurrence_id() -> None:
    cancel = vevent(
        "UID:weekly-1",
        "SEQUENCE:5",
        "RECURRENCE-ID;TZID=Europe/Berlin:20260330T100000",
        "DTSTART;TZID=Europe/Berlin:20260330T100000",
        "DTEND;TZID=Europe/Berlin:20260330T110000",
        "ORGANIZER;CN=Ann Lee;ROLE=CHAIR;PARTSTAT=ACCEPTED:mailto:ann@example.com",
    )
    [meeting], errors = parse_calendar(calendar(cancel, method="CANCEL"), SRC, WINDOW, LIMITS)
    assert errors == []
    assert (meeting.identity, meeting.status, meeting.sequence, meeting.method) == (
        "ical:weekly-1|20260330T080000Z", "cancelled", 5, "CANCEL",
    )  # fmt: skip
    assert meeting.identity == weekly_meeting(utc(2026, 3, 30, 8)).identity


def test_method_cancel_of_a_single_event() -> None:
    single = vevent("UID:one", "SEQUENCE:1", "DTSTART:20260210T130000Z", "DURATION:PT45M")
    [meeting], _ = parse_calendar(calendar(single, method="CANCEL", tz=False), SRC, WINDOW, LIMITS)
    assert (meeting.recurrence_id, meeting.status, meeting.end) == (
        None, "cancelled", utc(2026, 2, 10, 13, 45),
    )  # fmt: skip


def test_all_day_floating_and_tentative() -> None:
    events = (
        vevent("UID:day", "DTSTART;VALUE=DATE:20260214", "SUMMARY:Offsite"),
        vevent("UID:days", "DTSTART;VALUE=DATE:20260220", "DTEND;VALUE=DATE:20260222"),
        vevent("UID:float", "DTSTART:20260301T090000", "STATUS:TENTATIVE", "SEQUENCE:x"),
    )
    meetings, errors = parse_calendar(calendar(*events, tz=False), SRC, WINDOW, LIMITS)
    assert errors == []
    got = {m.uid: (m.start, m.end, m.all_day, m.status, m.sequence) for m in meetings}
    assert got == {
        "day": (utc(2026, 2, 14), utc(2026, 2, 15), True, "confirmed", 0),
        "days": (utc(2026, 2, 20), utc(2026, 2, 22), True, "confirmed", 0),
        # RFC 5545 3.6.1: a DATE-TIME start without DTEND ends when it starts.
        "float": (utc(2026, 3, 1, 9), utc(2026, 3, 1, 9), False, "tentative", 0),
    }


def test_infinite_rule_is_capped_and_window_bounds_it() -> None:
    daily = vevent("UID:daily", "DTSTART:20250101T080000Z", "RRULE:FREQ=DAILY")
    meetings, errors = parse_calendar(calendar(daily, tz=False), SRC, WINDOW, LIMITS)
    assert errors == []
    assert len(meetings) == 90  # 1 Jan .. 31 Mar 2026, inside [since, until)
    assert (meetings[0].start, meetings[-1].start) == (utc(2026, 1, 1, 8), utc(2026, 3, 31, 8))
    # Capped: the occurrences nearest the present (here the window's end) stay.
    capped, _ = parse_calendar(calendar(daily, tz=False), SRC, WINDOW, Limits(max_occurrences=7))
    assert [m.start.day for m in capped] == [25, 26, 27, 28, 29, 30, 31]


def test_rule_too_dense_to_reach_the_window_is_refused_fast() -> None:
    dense = vevent("UID:dense", "DTSTART:19700101T000000Z", "RRULE:FREQ=SECONDLY")
    good = vevent("UID:good", "DTSTART:20260105T100000Z")
    with terminates():
        meetings, errors = parse_calendar(calendar(dense, good, tz=False), SRC, WINDOW, LIMITS)
    assert [m.uid for m in meetings] == ["good"]
    assert [(e.reason, e.source) for e in errors] == [("recurrence-too-long", SRC)]


def test_bad_vevent_among_good_ones() -> None:
    events = (
        vevent("UID:a", "DTSTART:20260105T100000Z"),
        vevent("UID:broken", "DTSTART:not-a-date"),
        vevent("UID:badrule", "DTSTART:20260107T100000Z", "RRULE:FREQ=FORTNIGHTLY"),
        vevent("UID:b", "DTSTART:20260108T100000Z"),
    )
    meetings, errors = parse_calendar(calendar(*events, tz=False), SRC, WINDOW, LIMITS)
    assert [m.uid for m in meetings] == ["a", "b"]
    assert [e.reason for e in errors] == ["bad-vevent"] * 2
    assert all(e.source == SRC for e in errors)


@pytest.mark.parametrize(
    ("data", "limits", "reason"),
    [
        (b"\x00\xff garbage \x89", LIMITS, "bad-ical"),
        (b"BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", LIMITS, "bad-ical"),
        (b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260105T100000Z\r\n", LIMITS, "bad-ical"),
        (calendar(WEEKLY), Limits(max_ical_bytes=100), "ical-too-large"),
    ],
    ids=["binary", "vcard", "truncated", "too-large"],
)
def test_unusable_calendar_is_one_error(data: bytes, limits: Limits, reason: str) -> None:
    meetings, errors = parse_calendar(data, SRC, WINDOW, limits)
    assert meetings == []
    assert [(e.reason, e.source) for e in errors] == [(reason, SRC)]


def test_vevent_and_attendee_limits() -> None:
    attendees = [f"ATTENDEE;CN=P{i}:mailto:p{i}@example.com" for i in range(10)]
    events = [vevent(f"UID:e{i}", "DTSTART:20260105T100000Z", *attendees) for i in range(4)]
    limits = Limits(max_vevents=3, max_attendees=2)
    meetings, errors = parse_calendar(calendar(*events, tz=False), SRC, WINDOW, limits)
    assert [m.uid for m in meetings] == ["e0", "e1", "e2"]
    assert [a.address.email for a in meetings[0].attendees] == ["p0@example.com", "p1@example.com"]
    assert errors == [IngestError(SRC, "too-many-vevents", "4 > 3")]


def test_events_outside_the_window_are_not_returned() -> None:
    events = (
        vevent("UID:before", "DTSTART:20251231T235959Z"),
        vevent("UID:edge", "DTSTART:20260101T000000Z"),
        vevent("UID:after", "DTSTART:20260401T000000Z"),
    )
    meetings, _ = parse_calendar(calendar(*events, tz=False), SRC, WINDOW, LIMITS)
    assert [m.uid for m in meetings] == ["edge"]


def test_garbled_lines_and_minor_properties_do_not_cost_the_event() -> None:
    event = vevent(
        "UID:g",
        "DTSTART:20260105T100000Z",
        "DT=?ST",  # not a content line at all: icalendar reports it without a name
        "SEQUENCE:seven",
        "ATTENDEE;CN=Bob:mailto:bob@example.org",
    )
    [meeting], errors = parse_calendar(calendar(event, tz=False), SRC, WINDOW, LIMITS)
    assert errors == []
    assert (meeting.uid, meeting.sequence, [a.address.email for a in meeting.attendees]) == (
        "g", 0, ["bob@example.org"],
    )  # fmt: skip


def test_timezone_with_a_dense_rule_is_refused_before_icalendar_expands_it() -> None:
    hostile = BERLIN.replace("TZID:Europe/Berlin", "TZID:Custom Zone").replace(
        "RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", "RRULE:FREQ=SECONDLY"
    )
    data = calendar(vevent("UID:x", "DTSTART;TZID=Custom Zone:20260105T100000"), tz=False)
    data = data.replace(
        b"PRODID:-//test//EN\r\n",
        b"PRODID:-//test//EN\r\n" + hostile.replace("\n", "\r\n").encode(),
    )
    with terminates():
        meetings, errors = parse_calendar(data, SRC, WINDOW, LIMITS)
    assert (meetings, [e.reason for e in errors]) == ([], ["bad-ical"])


def test_sparse_rule_over_all_time_does_not_overflow() -> None:
    every_century = vevent("UID:c", "DTSTART:20260105T100000Z", "RRULE:FREQ=YEARLY;INTERVAL=100")
    all_time = Window(datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))
    meetings, errors = parse_calendar(calendar(every_century, tz=False), SRC, all_time, LIMITS)
    assert errors == []
    assert [m.start.year for m in meetings][:3] == [2026, 2126, 2226]
    assert len(meetings) == 80  # 2026, 2126, ..., 9926
