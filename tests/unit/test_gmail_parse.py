"""Gmail API message resources -> Message: recorded shapes, the MIME walk, limits, bad input."""

from __future__ import annotations

import base64
import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.mailgen import generate_mail
from connectors.base import InvalidInput, Limits
from connectors.google.gmail_parse import gmail_source, parse_gmail_message
from connectors.mail.mime import parse_message_and_errors
from connectors.records import SourceRef
from tests.servers.google_gmail import Mailbox

LIMITS = Limits()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    b"UID:040000008200E00074C5B7101A82E00800000000@outlook.example\r\n"
    b"DTSTAMP:20261102T080000Z\r\nDTSTART:20261110T090000Z\r\nDTEND:20261110T100000Z\r\n"
    b"SUMMARY:Pilot review\r\nORGANIZER;CN=Ann Lee:mailto:ann@customer.example\r\n"
    b"ATTENDEE;CN=Dana;PARTSTAT=NEEDS-ACTION:mailto:dana@acme.example\r\n"
    b"END:VEVENT\r\nEND:VCALENDAR\r\n"
)

# The shape users.messages.get(format=full) returns for an Outlook invitation
# with a PDF attached (ids, sizes and header order as Gmail gives them).
RECORDED: dict[str, Any] = {
    "id": "18c2f3a4b5d6e7f8",
    "threadId": "18c2f3a4b5d6e7f8",
    "labelIds": ["IMPORTANT", "CATEGORY_PERSONAL", "INBOX"],
    "snippet": "Hi Dana, here is the pilot plan. Ann",
    "sizeEstimate": 48213,
    "historyId": "9913",
    "internalDate": "1793604604000",
    "payload": {
        "partId": "",
        "mimeType": "multipart/mixed",
        "filename": "",
        "headers": [
            {"name": "Delivered-To", "value": "dana@acme.example"},
            {"name": "Received", "value": "by 2002:a05:6a10:1234 with SMTP id x; Mon"},
            {"name": "From", "value": "Ann Lee <ann@customer.example>"},
            {"name": "To", "value": "Dana Whitfield <dana@acme.example>"},
            {"name": "Cc", "value": "ops@customer.example"},
            {"name": "Subject", "value": "Pilot review – next steps"},
            {"name": "Date", "value": "Mon, 2 Nov 2026 08:30:00 +0100"},
            {"name": "Message-ID", "value": "<DB9PR0@outlook.example>"},
            {"name": "In-Reply-To", "value": "<CAF1@mail.gmail.com>"},
            {"name": "References", "value": "<CAF0@mail.gmail.com> <CAF1@mail.gmail.com>"},
            {"name": "Content-Type", "value": 'multipart/mixed; boundary="_004_"'},
        ],
        "body": {"size": 0},
        "parts": [
            {
                "partId": "0",
                "mimeType": "multipart/alternative",
                "filename": "",
                "headers": [
                    {"name": "Content-Type", "value": 'multipart/alternative; boundary="_000_"'}
                ],
                "body": {"size": 0},
                "parts": [
                    {
                        "partId": "0.0",
                        "mimeType": "text/plain",
                        "filename": "",
                        "headers": [
                            {"name": "Content-Type", "value": 'text/plain; charset="utf-8"'},
                            {"name": "Content-Transfer-Encoding", "value": "base64"},
                        ],
                        "body": {
                            "size": 43,
                            "data": b64(b"Hi Dana,\r\nhere is the pilot plan.\r\nAnn\r\n"),
                        },
                    },
                    {
                        "partId": "0.1",
                        "mimeType": "text/html",
                        "filename": "",
                        "headers": [
                            {"name": "Content-Type", "value": 'text/html; charset="utf-8"'}
                        ],
                        "body": {"size": 30, "data": b64(b"<p>Hi Dana, here is the plan</p>")},
                    },
                    {
                        "partId": "0.2",
                        "mimeType": "text/calendar",
                        "filename": "",
                        "headers": [
                            {
                                "name": "Content-Type",
                                "value": 'text/calendar; charset="utf-8"; method=REQUEST',
                            },
                        ],
                        "body": {"size": len(ICS), "data": b64(ICS)},
                    },
                ],
            },
            {
                "partId": "1",
                "mimeType": "application/pdf",
                "filename": "pilot.pdf",
                "headers": [
                    {"name": "Content-Type", "value": 'application/pdf; name="pilot.pdf"'},
                    {"name": "Content-Disposition", "value": 'attachment; filename="pilot.pdf"'},
                ],
                "body": {"attachmentId": "ANGjdJ9fkTs-i3GCQo5o97f_itG", "size": 40213},
            },
        ],
    },
}


def parse(resource: Any, limits: Limits = LIMITS) -> Any:
    return parse_gmail_message(resource, "dana-gmail", "mail", limits)


def test_recorded_invitation_with_attachment() -> None:
    message, errors = parse(RECORDED)
    assert errors == []
    assert message.source == SourceRef("dana-gmail", "mail", f"gm:{0x18C2F3A4B5D6E7F8}")
    assert message.message_id == "DB9PR0@outlook.example"
    assert message.thread_key == "CAF0@mail.gmail.com"
    assert message.date == datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
    assert message.subject == "Pilot review – next steps"
    assert message.headers == (  # recipients after the other fields, as the raw path reads them
        ("from", "Ann Lee <ann@customer.example>"),
        ("subject", "Pilot review – next steps"),
        ("date", "Mon, 2 Nov 2026 08:30:00 +0100"),
        ("message-id", "<DB9PR0@outlook.example>"),
        ("in-reply-to", "<CAF1@mail.gmail.com>"),
        ("references", "<CAF0@mail.gmail.com> <CAF1@mail.gmail.com>"),
        ("content-type", 'multipart/mixed; boundary="_004_"'),
        ("to", "Dana Whitfield <dana@acme.example>"),
        ("cc", "ops@customer.example"),
    )
    assert message.text == "Hi Dana,\r\nhere is the pilot plan.\r\nAnn\r\n"
    assert message.text_is_html is False
    assert message.size == 48213
    assert message.labels == ("IMPORTANT", "CATEGORY_PERSONAL", "INBOX")
    [meeting] = message.meetings
    assert meeting.identity == "ical:040000008200E00074C5B7101A82E00800000000@outlook.example|"
    assert meeting.source == SourceRef(
        "dana-gmail",
        "mail",
        f"gm:{0x18C2F3A4B5D6E7F8}#calendar#040000008200E00074C5B7101A82E00800000000@outlook.example|",
    )
    assert (meeting.start, meeting.method) == (datetime(2026, 11, 10, 9, tzinfo=UTC), "REQUEST")
    assert [a.address.email for a in meeting.attendees] == ["dana@acme.example"]


def test_html_only_text_is_capped_and_flagged() -> None:
    resource = copy.deepcopy(RECORDED)
    alternative = resource["payload"]["parts"][0]["parts"]
    del alternative[0]  # no text/plain
    message, _ = parse(resource, Limits(max_text_bytes=10))
    assert (message.text, message.text_is_html) == ("<p>Hi Dana", True)


def test_attachments_and_forwarded_messages_never_give_the_text() -> None:
    forwarded = {
        "partId": "0",
        "mimeType": "message/rfc822",
        "filename": "",
        "headers": [],
        "body": {"size": 0},
        "parts": [
            {"partId": "0.0", "mimeType": "text/plain", "body": {"size": 5, "data": b64(b"inner")}}
        ],
    }
    attached_text = {
        "partId": "1",
        "mimeType": "text/plain",
        "filename": "notes.txt",
        "headers": [],
        "body": {"attachmentId": "ANGjdJx", "size": 3000},
    }
    outer = {
        "partId": "2",
        "mimeType": "text/plain",
        "filename": "",
        "headers": [{"name": "Content-Disposition", "value": "attachment"}],
        "body": {"size": 5, "data": b64(b"outer")},
    }
    resource = copy.deepcopy(RECORDED)
    resource["payload"]["parts"] = [forwarded, attached_text, outer]
    message, _ = parse(resource)
    assert (message.text, message.meetings) == (None, ())


def test_latin1_part_that_gmail_left_in_its_charset() -> None:
    resource = {
        "id": "1a",
        "payload": {
            "mimeType": "text/plain",
            "headers": [
                {"name": "Subject", "value": "Grüße"},
                {"name": "Content-Type", "value": "text/plain; charset=iso-8859-1"},
            ],
            "body": {"size": 6, "data": b64("Grüße".encode("latin-1"))},
        },
    }
    message, _ = parse(resource)
    assert (message.text, message.subject, message.date) == ("Grüße", "Grüße", None)


def test_internal_date_dates_a_message_without_a_usable_date() -> None:
    resource = copy.deepcopy(RECORDED)
    resource["payload"]["headers"] = [{"name": "Date", "value": "someday"}]
    message, _ = parse(resource)
    assert message.date == datetime(2026, 11, 2, 7, 30, 4, tzinfo=UTC)


def test_unpadded_and_broken_base64_cost_only_the_text() -> None:
    part = {"mimeType": "text/plain", "headers": [], "body": {"size": 4, "data": "SGV5IQ"}}
    message, _ = parse(
        {"id": "2b", "payload": {**part, "headers": [{"name": "To", "value": "x@y.example"}]}}
    )
    assert message.text == "Hey!"
    to = [{"name": "To", "value": "x@y.example"}]
    message, _ = parse(
        {"id": "2b", "payload": {**part, "headers": to, "body": {"size": 4, "data": "é***"}}}
    )
    assert message.text == ""


def test_part_count_and_depth_limits_keep_the_message() -> None:
    leaf = {"mimeType": "text/plain", "headers": [], "body": {"size": 4, "data": b64(b"deep")}}
    node: dict[str, Any] = leaf
    for _ in range(30):
        node = {"mimeType": "multipart/mixed", "headers": [], "parts": [node]}
    header = [{"name": "From", "value": "ann@customer.example"}]
    message, _ = parse(
        {"id": "3c", "payload": {**node, "headers": header}}, Limits(max_mime_depth=20)
    )
    assert (message.text, message.header("from")) == (None, "ann@customer.example")
    many = [{"mimeType": "image/png", "filename": f"{i}.png", "body": {}} for i in range(600)]
    payload = {"mimeType": "multipart/mixed", "headers": header, "parts": [*many, leaf]}
    message, _ = parse({"id": "3c", "payload": payload})
    assert message.text is None  # beyond max_mime_parts (500)


def test_oversized_calendar_part_is_an_error_not_a_crash() -> None:
    resource = copy.deepcopy(RECORDED)
    resource["payload"]["parts"][0]["parts"][2]["body"]["size"] = 10**9
    message, errors = parse(resource)
    assert message.meetings == ()
    assert [(e.reason, e.detail) for e in errors] == [("ical-too-large", "1000000000 bytes")]


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        ([], "bad-gmail-message"),
        ({"payload": {"headers": []}}, "bad-gmail-message"),
        ({"id": "ZZ-not-hex", "payload": {"headers": []}}, "bad-gmail-message"),
        ({"id": "1", "payload": "x"}, "bad-gmail-message"),
        ({"id": "1", "payload": {}}, "bad-gmail-message"),
        ({"id": "1", "payload": {"headers": [{"name": 3, "value": "x"}]}}, "bad-gmail-message"),
        ({"id": "1", "payload": {"headers": ["From: x"]}}, "bad-gmail-message"),
        (
            {"id": "1", "payload": {"headers": [{"name": "X-Junk", "value": "a" * 300_000}]}},
            "header-too-large",
        ),
    ],
)
def test_unusable_resources_are_invalid_input(resource: Any, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(resource)
    assert caught.value.reason == reason


def test_gmail_source_is_the_imap_x_gm_msgid_form() -> None:
    assert gmail_source("a", "mail", "18c2f3a4b5d6e7f8").provider_id == "gm:1784256291143084024"
    with pytest.raises(InvalidInput):
        gmail_source("a", "mail", "18c2f3a4b5d6e7f8a")  # longer than 64 bits


def test_the_gmail_view_of_a_message_reads_as_its_raw_bytes_do() -> None:
    """Through the fake's rendering of generated mail, the API path and the raw path agree."""
    box = Mailbox("dana.whitfield@acme-corp.example")
    invitations = 0
    for item in generate_mail(40, seed=11):  # 3 invitations, 12 with HTML alternatives
        msg_id = box.add(item.raw)
        resource = box.get_message({"format": ["full"]}, msg_id)
        via_api, api_errors = parse(resource)
        via_raw, raw_errors = parse_message_and_errors(item.raw, via_api.source, LIMITS)
        assert (via_api.message_id, via_api.thread_key, via_api.date) == (
            via_raw.message_id,
            via_raw.thread_key,
            via_raw.date,
        )
        assert (via_api.subject, via_api.text, via_api.text_is_html) == (
            via_raw.subject,
            via_raw.text,
            via_raw.text_is_html,
        )
        assert [m.identity for m in via_api.meetings] == [m.identity for m in via_raw.meetings]
        assert [n for n, _ in via_api.headers] == [n for n, _ in via_raw.headers]
        assert (api_errors, raw_errors) == ([], [])
        invitations += len(via_api.meetings)
    assert invitations == 3


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
_PART_KEYS = st.sampled_from(["mimeType", "headers", "body", "parts", "filename", "data", "size"])


_TOP_KEYS = st.sampled_from(["internalDate", "sizeEstimate", "labelIds", "threadId", "raw"])


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        _PART_KEYS, _JSON | st.sampled_from(["text/plain", "text/calendar"]), max_size=5
    ),
    st.lists(st.fixed_dictionaries({"name": st.text(max_size=12), "value": st.text(max_size=40)})),
    st.dictionaries(_TOP_KEYS, _JSON | st.from_regex(r"[0-9]{1,16}", fullmatch=True), max_size=3),
)
def test_hostile_payloads_give_a_message_or_invalid_input(
    part: dict[str, Any], headers: Any, top: dict[str, Any]
) -> None:
    resource = {**top, "id": "18c2", "payload": {**part, "headers": headers}}
    try:
        message, errors = parse(resource)
    except InvalidInput as exc:
        assert exc.reason in ("bad-gmail-message", "header-too-large", "not-a-message")
    else:
        assert message.source.provider_id == "gm:6338"
        assert all(e.reason for e in errors)


@pytest.mark.parametrize("internal", ["999999999999999", "-5", "", "1e12", None, 17])
def test_an_internal_date_out_of_range_leaves_the_message_undated(internal: Any) -> None:
    subject = [{"name": "Subject", "value": "Quarterly review"}]
    resource = {"id": "4d", "internalDate": internal, "payload": {"headers": subject}}
    message, _ = parse(resource)
    assert message.date is None
