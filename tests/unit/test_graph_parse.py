"""Graph message and event resources -> Message / Meeting, read as every other source reads them."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.mailgen import generate_mail
from connectors.base import InvalidInput, Limits, Window
from connectors.calendar.ical import parse_calendar
from connectors.mail.mime import calendar_source, parse_message_and_errors
from connectors.microsoft.graph_event import ical_uid
from connectors.microsoft.graph_parse import (
    graph_source,
    is_removed,
    parse_graph_event,
    parse_graph_message,
)
from connectors.records import SourceRef
from tests.api_values import JSON_VALUE as _JSON
from tests.api_values import attendee
from tests.servers.microsoft_mail import Mailbox, message_view
from tests.servers.radicale import ics_event

LIMITS = Limits()
MSG_ID = "AAMkAGI2TG93AGAAAfa5c0e1b3d2a4f6e8c7b9a0d1e2f3a4b5c6d7e8f9a0b1c2AAA="

# A sent item as messages/delta returns it with $select of the properties
# and no internetMessageHeaders (Exchange keeps no Bcc header for it anyway).
SENT: dict[str, Any] = {
    "@odata.type": "#microsoft.graph.message",
    "@odata.etag": 'W/"CQAAABYAAAC4dGf1"',
    "id": MSG_ID,
    "receivedDateTime": "2026-11-12T08:12:05Z",
    "sentDateTime": "2026-11-12T08:12:00Z",
    "internetMessageId": "<DB9PR10MB5123ABCD@DB9PR10MB5123.EURPRD10.PROD.OUTLOOK.COM>",
    "subject": "Re: Pilot scope",
    "conversationId": "AAQkAGI2TG93ZjE0LTk0ZDEtNDQ1ZC1hNWQ5LTVlNGUxMjM0NTY3OAAQ=",
    "isDraft": False,
    "body": {"contentType": "text", "content": "Hi Ann,\r\n\r\nattached.\r\n\r\nDana"},
    "sender": {"emailAddress": {"name": "Dana Whitfield", "address": "dana@acme.example"}},
    "from": {"emailAddress": {"name": "Dana Whitfield", "address": "dana@acme.example"}},
    "toRecipients": [{"emailAddress": {"name": "Ann Lee", "address": "ann@customer.example"}}],
    "ccRecipients": [
        {"emailAddress": {"name": "Jürgen Müller", "address": "jm@customer.example"}},
        {"emailAddress": {"name": "Sales Team"}},  # an unresolved group: no address
    ],
    "bccRecipients": [
        {"emailAddress": {"name": "crm@acme.example", "address": "crm@acme.example"}}
    ],
    "replyTo": [],
}


def test_sent_item_without_headers_reads_its_properties() -> None:
    message, notes = parse_graph_message(SENT, "dana-m365", "sentitems", LIMITS)
    assert notes == []
    assert message.source == SourceRef("dana-m365", "sentitems", f"graph:{MSG_ID}")
    assert message.message_id == "DB9PR10MB5123ABCD@DB9PR10MB5123.EURPRD10.PROD.OUTLOOK.COM"
    assert message.date == datetime(2026, 11, 12, 8, 12, tzinfo=UTC)
    assert message.subject == "Re: Pilot scope"
    assert dict(message.headers) == {
        "from": "Dana Whitfield <dana@acme.example>",
        "sender": "Dana Whitfield <dana@acme.example>",
        "to": "Ann Lee <ann@customer.example>",
        # Names go back into the header as RFC 2047 words, as every source's headers keep them.
        "cc": "=?utf-8?b?SsO8cmdlbiBNw7xsbGVy?= <jm@customer.example>",
        "bcc": "crm@acme.example",
        "subject": "Re: Pilot scope",
        "message-id": "<DB9PR10MB5123ABCD@DB9PR10MB5123.EURPRD10.PROD.OUTLOOK.COM>",
        "date": "Thu, 12 Nov 2026 08:12:00 +0000",
    }
    assert (message.text, message.text_is_html) == ("Hi Ann,\r\n\r\nattached.\r\n\r\nDana", False)
    assert message.meetings == ()


@pytest.mark.parametrize("mail", list(generate_mail(40, seed=7)), ids=lambda m: m.folder)
def test_every_generated_message_reads_as_its_raw_bytes(mail: Any) -> None:
    box = Mailbox("dana@acme.example")
    stored = box.messages[box.add(mail.raw, "inbox")]
    select = frozenset({"internetMessageHeaders", "body", "subject", "receivedDateTime"})
    resource = message_view(stored, box, select, text_body=True)
    source = graph_source("a", "inbox", stored.id)
    from_graph, _ = parse_graph_message(resource, "a", "inbox", LIMITS)
    from_raw, _ = parse_message_and_errors(mail.raw, source, LIMITS)
    assert from_graph.identity == from_raw.identity
    assert (from_graph.date, from_graph.subject, from_graph.thread_key) == (
        from_raw.date,
        from_raw.subject,
        from_raw.thread_key,
    )
    assert from_graph.headers == from_raw.headers


def test_header_and_text_limits_hold() -> None:
    resource = copy.deepcopy(SENT)
    resource["internetMessageHeaders"] = [
        {"name": "From", "value": "Dana <dana@acme.example>"},
        {"name": "To", "value": ", ".join(f"p{n}@customer.example" for n in range(400))},
    ]
    resource["body"] = {"contentType": "html", "content": "<p>" + "x" * 5000 + "</p>"}
    limits = Limits(max_header_bytes=2048, max_text_bytes=100)
    message, notes = parse_graph_message(resource, "a", "inbox", limits)
    assert [n.reason for n in notes] == ["header-truncated"]
    assert message.header("from") == "Dana <dana@acme.example>"
    assert message.text == "<p>" + "x" * 97
    assert message.text_is_html is True


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ([], "bad-graph-message"),
        ({"id": "has space"}, "bad-graph-message"),
        ({"id": MSG_ID, "@removed": {"reason": "deleted"}}, "bad-graph-message"),
        ({"id": MSG_ID, "internetMessageHeaders": "From: x"}, "bad-graph-message"),
        (
            {"id": MSG_ID, "internetMessageHeaders": [{"name": "Bad Name", "value": "x"}]},
            "bad-graph-message",
        ),
        ({"id": MSG_ID, "toRecipients": "ann@customer.example"}, "bad-graph-message"),
        ({"id": MSG_ID, "body": "text"}, "bad-graph-message"),
        ({"id": MSG_ID}, "not-a-message"),
    ],
)
def test_bad_payloads_are_invalid_input_with_a_stable_reason(resource: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_graph_message(resource, "a", "inbox", LIMITS)
    assert raised.value.reason == reason


def test_removed_items_are_told_apart() -> None:
    assert is_removed({"id": MSG_ID, "@removed": {"reason": "changed"}}) is True
    assert is_removed(SENT) is False


# ---------------------------------------------------------------- events

# An Exchange-organized weekly meeting's encoded global object id; the
# occurrence on 2026-11-10 carries that date (07EA 0B 0A) in bytes 16-19.
SERIES_UID = (
    "040000008200E00074C5B7101A82E00800000000"
    "D0F2A5A0A15DDB01000000000000000010000000"
    "2E4C3C1D3C6E9E4A8E4F6F7E5A4D5C12"
)
OCCURRENCE_UID = SERIES_UID[:32] + "07EA0B0A" + SERIES_UID[40:]


def invitee(kind: str, response: str, name: str, address: str) -> dict[str, Any]:
    """An attendee as Graph lists it; ``time`` is 0001-01-01 until someone answers."""
    answered = (
        "0001-01-01T00:00:00Z" if response in ("none", "organizer") else "2026-11-05T08:20:25Z"
    )
    return {
        "type": kind,
        "status": {"response": response, "time": answered},
        "emailAddress": {"name": name, "address": address},
    }


def graph_event(**extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.event",
        "@odata.etag": 'W/"DwAAABYAAAA000001"',
        "id": "AAMkAGI2TG93AGAAAOcc1110=",
        "iCalUId": OCCURRENCE_UID,
        "subject": "Pilot weekly",
        "type": "exception",
        "seriesMasterId": "AAMkAGI2TG93AGAAAMaster=",
        "originalStart": "2026-11-10T09:00:00Z",
        "originalStartTimeZone": "W. Europe Standard Time",
        "isAllDay": False,
        "isCancelled": False,
        "showAs": "tentative",
        "start": {"dateTime": "2026-11-10T10:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-11-10T10:30:00.0000000", "timeZone": "UTC"},
        "location": {"displayName": "Room Elbe", "locationType": "conferenceRoom"},
        "organizer": {"emailAddress": {"name": "Ann Lee", "address": "ann@customer.example"}},
        "attendees": [
            invitee("required", "organizer", "Ann Lee", "ann@customer.example"),
            invitee("required", "tentativelyAccepted", "Dana Whitfield", "dana@acme.example"),
            invitee("optional", "none", "ops@customer.example", "ops@customer.example"),
            invitee("required", "declined", "sam@acme.example", "sam@acme.example"),
            invitee("resource", "accepted", "Room Elbe", "room.elbe@acme.example"),
        ],
    }
    event.update(extra)
    return event


def test_moved_occurrence_is_the_meeting_ical_reads_from_the_invitation() -> None:
    override = "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{SERIES_UID}",
            "DTSTAMP:20261101T000000Z",
            "RECURRENCE-ID:20261110T090000Z",
            "DTSTART:20261110T100000Z",
            "DTEND:20261110T103000Z",
            "SUMMARY:Pilot weekly",
            "LOCATION:Room Elbe",
            "ORGANIZER;CN=Ann Lee:mailto:ann@customer.example",
            "ATTENDEE;CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@customer.example",
            "ATTENDEE;CN=Dana Whitfield;PARTSTAT=TENTATIVE:mailto:dana@acme.example",
            "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:ops@customer.example",
            "ATTENDEE;PARTSTAT=DECLINED:mailto:sam@acme.example",
            "END:VEVENT",
        ]
    )
    ics = ics_event(
        SERIES_UID,
        "20261103T090000Z",
        end="20261103T093000Z",
        summary="Pilot weekly",
        extra=("RRULE:FREQ=WEEKLY;COUNT=4",),
        overrides=(override,),
    )
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    meetings, errors = parse_calendar(ics.encode(), SourceRef("c", "work", "x.ics"), window, LIMITS)
    assert errors == []
    from_ical = next(
        m for m in meetings if m.recurrence_id == datetime(2026, 11, 10, 9, tzinfo=UTC)
    )
    from_graph = parse_graph_event(graph_event(), "dana-m365", "calendar", LIMITS)
    assert from_graph.source == SourceRef(
        "dana-m365", "calendar", "graph:AAMkAGI2TG93AGAAAOcc1110="
    )
    assert from_graph.identity == f"ical:{SERIES_UID}|20261110T090000Z"
    assert from_graph.identity == from_ical.identity
    assert replace(from_graph, source=from_ical.source) == from_ical
    assert from_graph.attendees[1] == attendee("dana@acme.example", "Dana Whitfield", "TENTATIVE")
    assert "room.elbe@acme.example" not in {a.address.email for a in from_graph.attendees}


def test_invitation_from_another_system_keeps_its_uid() -> None:
    uid = "7kukuqrfedlm2f9t0vmcb8qkos@google.com"
    data = b"vCal-Uid\x01\x00\x00\x00" + uid.encode() + b"\x00"
    wrapped = (
        "040000008200E00074C5B7101A82E008"
        + "00000000"
        + "0" * 32
        + len(data).to_bytes(4, "little").hex()
    ).upper() + data.hex().upper()
    single = graph_event(iCalUId=wrapped, type="singleInstance")
    meeting = parse_graph_event(single, "a", "calendar", LIMITS)
    assert (meeting.uid, meeting.recurrence_id) == (uid, None)
    assert ical_uid("not-hex@example.com") == "not-hex@example.com"
    assert ical_uid(SERIES_UID.lower()) == SERIES_UID


def test_cancelled_all_day_and_windows_zone() -> None:
    cancelled = parse_graph_event(graph_event(isCancelled=True), "a", "c", LIMITS)
    assert cancelled.status == "cancelled"
    all_day = graph_event(
        type="singleInstance",
        isAllDay=True,
        start={"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "UTC"},
        end={"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "UTC"},
    )
    day = parse_graph_event(all_day, "a", "c", LIMITS)
    assert (day.all_day, day.start, day.end, day.recurrence_id) == (
        True,
        datetime(2026, 12, 24, tzinfo=UTC),
        datetime(2026, 12, 26, tzinfo=UTC),
        None,
    )
    berlin = graph_event(
        start={"dateTime": "2026-11-10T11:00:00.0000000", "timeZone": "W. Europe Standard Time"}
    )
    assert parse_graph_event(berlin, "a", "c", LIMITS).start == datetime(
        2026, 11, 10, 10, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("x", "bad-event"),
        (graph_event(id=""), "bad-event"),
        (graph_event(type="seriesMaster"), "unexpanded-series"),
        (graph_event(iCalUId=None), "bad-event"),
        (graph_event(start={"dateTime": "soon", "timeZone": "UTC"}), "bad-event"),
        (
            graph_event(start={"dateTime": "2026-11-10T10:00:00", "timeZone": "Mars/Olympus"}),
            "bad-event",
        ),
        (graph_event(originalStart=None), "bad-event"),
        (graph_event(originalStart="2026-11-10T09:00:00"), "bad-event"),
    ],
)
def test_bad_events_are_invalid_input(event: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_graph_event(event, "a", "c", LIMITS)
    assert raised.value.reason == reason


def test_attendees_beyond_the_limit_are_dropped() -> None:
    meeting = parse_graph_event(graph_event(), "a", "c", Limits(max_attendees=2))
    assert [a.address.email for a in meeting.attendees] == [
        "ann@customer.example",
        "dana@acme.example",
    ]


def test_expanded_event_message_carries_its_meeting_with_the_method() -> None:
    invitation = dict(
        SENT,
        **{
            "@odata.type": "#microsoft.graph.eventMessageRequest",
            "meetingMessageType": "meetingRequest",
            "event": graph_event(),
        },
    )
    message, notes = parse_graph_message(invitation, "dana-m365", "inbox", LIMITS)
    assert notes == []
    (meeting,) = message.meetings
    assert meeting.source == calendar_source(message.source)
    assert (meeting.identity, meeting.method, meeting.status) == (
        f"ical:{SERIES_UID}|20261110T090000Z",
        "REQUEST",
        "confirmed",
    )
    cancel = dict(invitation, meetingMessageType="meetingCancelled")
    (cancelled,) = parse_graph_message(cancel, "dana-m365", "inbox", LIMITS)[0].meetings
    assert (cancelled.method, cancelled.status) == ("CANCEL", "cancelled")
    broken = dict(invitation, event=graph_event(type="seriesMaster"))
    message, notes = parse_graph_message(broken, "dana-m365", "inbox", LIMITS)
    assert message.meetings == ()
    assert [(n.reason, n.source) for n in notes] == [
        ("unexpanded-series", calendar_source(message.source))
    ]


_MESSAGE_KEYS = st.sampled_from(
    [
        "id",
        "subject",
        "internetMessageId",
        "sentDateTime",
        "receivedDateTime",
        "body",
        "from",
        "toRecipients",
        "bccRecipients",
        "internetMessageHeaders",
        "meetingMessageType",
        "event",
        "@removed",
    ]
)
_EVENT_KEYS = st.sampled_from(
    [
        "id",
        "iCalUId",
        "type",
        "originalStart",
        "isAllDay",
        "isCancelled",
        "start",
        "end",
        "organizer",
        "attendees",
        "location",
        "subject",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_MESSAGE_KEYS, _JSON, max_size=8), st.dictionaries(_EVENT_KEYS, _JSON))
def test_hostile_json_gives_a_record_or_invalid_input(
    message: dict[str, Any], event: dict[str, Any]
) -> None:
    for resource in (message, dict(SENT, **message), {**message, "event": event}):
        try:
            parsed, _ = parse_graph_message(resource, "a", "inbox", LIMITS)
        except InvalidInput as error:
            assert error.reason in {"bad-graph-message", "not-a-message", "header-too-large"}
        else:
            assert parsed.source.provider_id.startswith("graph:")
    for candidate in (event, dict(graph_event(), **event)):
        try:
            meeting = parse_graph_event(candidate, "a", "c", LIMITS)
        except InvalidInput as error:
            assert error.reason in {"bad-event", "unexpanded-series"}
        else:
            assert meeting.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("ical_class", "sensitivity", "visibility", "private"),
    [
        ("PRIVATE", "private", "private", True),
        ("CONFIDENTIAL", "confidential", "confidential", True),
        ("PUBLIC", "normal", "public", False),
        (None, None, None, False),
    ],
)
def test_a_private_event_reads_private_from_ical_graph_and_google(
    ical_class: str | None, sensitivity: str | None, visibility: str | None, private: bool
) -> None:
    from connectors.google.gcal_parse import parse_event

    extra = (f"CLASS:{ical_class}",) if ical_class else ()
    ics = ics_event("doctor-1@example.com", "20261110T090000Z", extra=extra)
    window = Window(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    meetings, _ = parse_calendar(ics.encode(), SourceRef("c", "work", "x.ics"), window, LIMITS)
    graph = graph_event(**({"sensitivity": sensitivity} if sensitivity else {}))
    google = {
        "id": "doctor1",
        "iCalUID": "doctor-1@example.com",
        "status": "confirmed",
        "summary": "Dr. Weiss",
        "start": {"dateTime": "2026-11-10T09:00:00Z"},
        "end": {"dateTime": "2026-11-10T10:00:00Z"},
        **({"visibility": visibility} if visibility else {}),
    }
    assert [m.private for m in meetings] == [private]
    assert parse_graph_event(graph, "a", "c", LIMITS).private is private
    assert parse_event(google, "a", "me@example.com", LIMITS).private is private
