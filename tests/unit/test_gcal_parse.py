"""Google Calendar event resources -> Meeting, and the same meeting read from iCalendar."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import InvalidInput, Limits, Window
from connectors.calendar.ical import parse_calendar
from connectors.google.gcal_parse import event_source, is_tombstone, parse_event
from connectors.records import SourceRef
from tests.api_values import JSON_VALUE, attendee
from tests.servers.radicale import ics_event

LIMITS = Limits()
UID = "7kukuqrfedlm2f9t0vmcb8qkos@google.com"

# An instance of a weekly series, moved by its organizer, as events.list
# (singleEvents=true) returns it.
RECORDED: dict[str, Any] = {
    "kind": "calendar#event",
    "etag": '"3425187650196000"',
    "id": "7kukuqrfedlm2f9t0vmcb8qkos_20261110T090000Z",
    "status": "confirmed",
    "htmlLink": "https://www.google.com/calendar/event?eid=N2t1a3VxcmZlZGxt",
    "created": "2026-10-20T14:03:11.000Z",
    "updated": "2026-11-05T08:20:25.098Z",
    "summary": "Pilot weekly",
    "location": "Room Elbe",
    "creator": {"email": "ann@customer.example"},
    "organizer": {"email": "ann@customer.example", "displayName": "Ann Lee"},
    "start": {"dateTime": "2026-11-10T11:00:00+01:00", "timeZone": "Europe/Berlin"},
    "end": {"dateTime": "2026-11-10T11:30:00+01:00", "timeZone": "Europe/Berlin"},
    "recurringEventId": "7kukuqrfedlm2f9t0vmcb8qkos",
    "originalStartTime": {"dateTime": "2026-11-10T10:00:00+01:00", "timeZone": "Europe/Berlin"},
    "iCalUID": UID,
    "sequence": 2,
    "attendees": [
        {
            "email": "ann@customer.example",
            "displayName": "Ann Lee",
            "organizer": True,
            "responseStatus": "accepted",
        },
        {
            "email": "dana@acme.example",
            "displayName": "Dana Whitfield",
            "self": True,
            "responseStatus": "tentative",
        },
        {"email": "ops@customer.example", "optional": True, "responseStatus": "needsAction"},
        {"email": "sam@acme.example", "responseStatus": "declined"},
        {
            "email": "c_1883sj2ka3ksg@resource.calendar.google.com",
            "displayName": "Room Elbe",
            "resource": True,
            "responseStatus": "accepted",
        },
    ],
    "reminders": {"useDefault": True},
    "eventType": "default",
}


def test_recorded_instance_of_a_moved_occurrence() -> None:
    meeting = parse_event(RECORDED, "dana-google", "dana@acme.example", LIMITS)
    assert meeting.source == SourceRef(
        "dana-google",
        "dana@acme.example",
        "gcal:dana@acme.example/7kukuqrfedlm2f9t0vmcb8qkos_20261110T090000Z",
    )
    assert meeting.identity == f"ical:{UID}|20261110T090000Z"
    assert meeting.recurrence_id == datetime(2026, 11, 10, 9, tzinfo=UTC)
    assert (meeting.start, meeting.end) == (
        datetime(2026, 11, 10, 10, tzinfo=UTC),
        datetime(2026, 11, 10, 10, 30, tzinfo=UTC),
    )
    assert (meeting.all_day, meeting.status, meeting.sequence) == (False, "confirmed", 2)
    assert (meeting.summary, meeting.location, meeting.method) == (
        "Pilot weekly",
        "Room Elbe",
        None,
    )
    assert meeting.organizer == attendee("ann@customer.example", "Ann Lee", "NEEDS-ACTION")
    assert meeting.attendees == (
        attendee("ann@customer.example", "Ann Lee", "ACCEPTED"),
        attendee("dana@acme.example", "Dana Whitfield", "TENTATIVE"),
        attendee("ops@customer.example", None, "NEEDS-ACTION", "OPT-PARTICIPANT"),
        attendee("sam@acme.example", None, "DECLINED"),
    )  # the room is not a participant


def test_the_same_meeting_from_caldav_is_the_same_interaction() -> None:
    """The series as CalDAV serves it, with the moved occurrence as a RECURRENCE-ID override."""
    override = "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{UID}",
            "DTSTAMP:20261105T082025Z",
            "RECURRENCE-ID;TZID=Europe/Berlin:20261110T100000",
            "DTSTART;TZID=Europe/Berlin:20261110T110000",
            "DTEND;TZID=Europe/Berlin:20261110T113000",
            "SUMMARY:Pilot weekly",
            "LOCATION:Room Elbe",
            "SEQUENCE:2",
            "ORGANIZER;CN=Ann Lee:mailto:ann@customer.example",
            "ATTENDEE;CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@customer.example",
            "ATTENDEE;CN=Dana Whitfield;PARTSTAT=TENTATIVE:mailto:dana@acme.example",
            "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:ops@customer.example",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:sam@acme.example",
            "END:VEVENT",
        ]
    )
    ics = ics_event(
        UID,
        "20261103T090000Z",
        end="20261103T093000Z",
        summary="Pilot weekly",
        sequence=1,
        extra=("RRULE:FREQ=WEEKLY;COUNT=4",),
        overrides=(override,),
    )
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    meetings, errors = parse_calendar(
        ics.encode(), SourceRef("dana-caldav", "work", "x.ics"), window, LIMITS
    )
    assert errors == []
    from_caldav = next(
        m for m in meetings if m.recurrence_id == datetime(2026, 11, 10, 9, tzinfo=UTC)
    )
    from_google = parse_event(RECORDED, "dana-google", "dana@acme.example", LIMITS)
    assert from_google.identity == from_caldav.identity
    assert replace(from_google, source=from_caldav.source) == from_caldav


def test_single_all_day_event_and_an_instance_of_an_all_day_series() -> None:
    single = {
        "id": "abc",
        "iCalUID": "abc@google.com",
        "status": "tentative",
        "start": {"date": "2026-12-24"},
        "end": {"date": "2026-12-26"},
    }
    meeting = parse_event(single, "a", "primary", LIMITS)
    assert (meeting.recurrence_id, meeting.all_day, meeting.status) == (None, True, "tentative")
    assert (meeting.start, meeting.end) == (
        datetime(2026, 12, 24, tzinfo=UTC),
        datetime(2026, 12, 26, tzinfo=UTC),
    )
    assert meeting.identity == "ical:abc@google.com|"
    instance = {
        **single,
        "id": "abc_20261231",
        "recurringEventId": "abc",
        "originalStartTime": {"date": "2026-12-31"},
        "start": {"date": "2026-12-31"},
    }
    del instance["end"]
    meeting = parse_event(instance, "a", "primary", LIMITS)
    assert meeting.identity == "ical:abc@google.com|20261231T000000Z"
    assert meeting.end == datetime(2027, 1, 1, tzinfo=UTC)  # one day, as RFC 5545 says


def test_a_cancelled_occurrence_and_a_deleted_event() -> None:
    cancelled = {
        "kind": "calendar#event",
        "id": "7kukuqrfedlm2f9t0vmcb8qkos_20261117T090000Z",
        "status": "cancelled",
        "recurringEventId": "7kukuqrfedlm2f9t0vmcb8qkos",
        "originalStartTime": {"dateTime": "2026-11-17T10:00:00+01:00", "timeZone": "Europe/Berlin"},
        "iCalUID": UID,
    }
    assert not is_tombstone(cancelled)
    meeting = parse_event(cancelled, "a", "primary", LIMITS)
    assert (meeting.status, meeting.identity) == ("cancelled", f"ical:{UID}|20261117T090000Z")
    assert (meeting.start, meeting.end) == (datetime(2026, 11, 17, 9, tzinfo=UTC), None)
    tombstone = {"kind": "calendar#event", "etag": '"1"', "id": "lunch1", "status": "cancelled"}
    assert is_tombstone(tombstone)
    assert event_source("a", "primary", tombstone["id"]) == SourceRef(
        "a", "primary", "gcal:primary/lunch1"
    )


def test_attendee_limit_drops_the_rest() -> None:
    many = copy.deepcopy(RECORDED)
    many["attendees"] = [{"email": f"p{i}@x.example"} for i in range(50)]
    meeting = parse_event(many, "a", "primary", Limits(max_attendees=3))
    assert [a.address.email for a in meeting.attendees] == [
        "p0@x.example",
        "p1@x.example",
        "p2@x.example",
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"id": None}, "bad-event"),
        ({"iCalUID": ""}, "bad-event"),
        ({"recurrence": ["RRULE:FREQ=WEEKLY"]}, "unexpanded-series"),
        ({"start": {"dateTime": "2026-11-10T11:00:00"}}, "bad-event"),  # no offset
        ({"start": {"dateTime": "tomorrow"}}, "bad-event"),
        ({"start": {"timeZone": "Europe/Berlin"}}, "bad-event"),
        ({"start": "2026-11-10"}, "bad-event"),
        ({"originalStartTime": {"date": "2026-02-30"}}, "bad-event"),
    ],
)
def test_unusable_events_are_invalid_input(change: dict[str, Any], reason: str) -> None:
    event = {**RECORDED, **change}
    with pytest.raises(InvalidInput) as caught:
        parse_event(event, "a", "primary", LIMITS)
    assert caught.value.reason == reason


def test_garbage_fields_do_not_cost_the_meeting() -> None:
    event = {
        **RECORDED,
        "sequence": "two",
        "summary": 42,
        "organizer": "ann",
        "attendees": [None, {"email": 7}, {"email": "not-an-address"}, {"email": "ok@x.example"}],
    }
    meeting = parse_event(event, "a", "primary", LIMITS)
    assert (meeting.sequence, meeting.summary, meeting.organizer) == (0, None, None)
    assert [a.address.email for a in meeting.attendees] == ["ok@x.example"]
    with pytest.raises(InvalidInput):
        parse_event(["not", "an", "event"], "a", "primary", LIMITS)


_KEYS = st.sampled_from(
    [
        "id",
        "iCalUID",
        "status",
        "start",
        "end",
        "originalStartTime",
        "recurringEventId",
        "attendees",
        "organizer",
        "sequence",
        "summary",
        "recurrence",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_KEYS, JSON_VALUE, max_size=8))
def test_hostile_events_give_a_meeting_or_invalid_input(change: dict[str, Any]) -> None:
    try:
        meeting = parse_event({**RECORDED, **change}, "a", "primary", LIMITS)
    except InvalidInput as exc:
        assert exc.reason in ("bad-event", "unexpanded-series")
    else:
        assert meeting.start.tzinfo is UTC and meeting.uid
