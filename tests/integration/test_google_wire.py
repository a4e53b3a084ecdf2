"""connectors.google.wire against the loopback Google fake, through the real client."""

from __future__ import annotations

from typing import Any

import pytest
from google.oauth2 import credentials as user_credentials

from bench.mailgen import generate_mail
from connectors.base import AuthError, ConnectorError, CursorExpired, Limits, TransientError
from connectors.google.gmail_parse import parse_gmail_message
from connectors.google.wire import (
    build_service,
    current_history_id,
    get_messages,
    history_since,
    list_calendars,
    list_events,
    list_messages,
)
from connectors.mail.mime import parse_message_and_errors
from tests.google_clients import DANA, user_creds
from tests.servers.google_api import GoogleApiFake

LIMITS = Limits()


def mail(n: int, day: int = 2) -> bytes:
    return (
        f"From: Ann <ann@customer.example>\r\nTo: {DANA}\r\nSubject: Note {n}\r\n"
        f"Date: Mon, {day:02d} Nov 2026 09:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <n{n}@customer.example>\r\n\r\nBody {n}\r\n"
    ).encode()


def services(fake: GoogleApiFake, creds: Any = None) -> tuple[Any, Any]:
    creds = creds or user_creds(fake)
    return (
        build_service("gmail", creds, api_root=fake.url),
        build_service("calendar", creds, api_root=fake.url),
    )


def test_without_a_root_the_documents_keep_googles() -> None:
    creds = user_credentials.Credentials("ya29.unused")  # type: ignore[no-untyped-call]
    assert build_service("gmail", creds)._baseUrl == "https://gmail.googleapis.com/"
    assert build_service("calendar", creds)._baseUrl == "https://www.googleapis.com/calendar/v3/"


def test_list_then_batch_get_in_chunks_with_parts_that_fail_alone(
    google_api: GoogleApiFake,
) -> None:
    box = google_api.user(DANA).mailbox
    ids = [box.add(mail(n)) for n in range(120)]
    gmail, _ = services(google_api)
    page = list_messages(gmail, query="after:2026/11/01", max_results=100)
    assert (len(page.ids), page.result_size_estimate) == (100, 120)
    rest = list_messages(gmail, query="after:2026/11/01", page_token=page.next_page_token)
    assert (rest.next_page_token, sorted(page.ids + rest.ids)) == (None, sorted(ids))
    box.delete(ids[5])
    google_api.faults.add("429", path=ids[7], in_batch=True, retry_after=3)
    fetched = get_messages(gmail, page.ids + rest.ids)
    assert len(fetched.found) == 118 and fetched.missing == [ids[5]]
    assert list(fetched.failed) == [ids[7]]
    error = fetched.failed[ids[7]]
    assert isinstance(error, TransientError) and error.retry_after == 3.0
    one = fetched.found[ids[0]]
    assert sorted(one) == ["id", "internalDate", "labelIds", "payload", "sizeEstimate", "threadId"]
    assert len(google_api.requests("^/batch$")) == 3  # 50 + 50 + 20
    assert len(google_api.requests("/messages/", in_batch=True)) == 120


def test_history_since_then_expired(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    first = box.add(mail(1))
    gmail, _ = services(google_api)
    start = current_history_id(gmail)
    second = box.add(mail(2))
    brief = box.add(mail(3))
    box.delete(brief)
    box.delete(first)
    page = history_since(gmail, start, "mail")
    assert (page.added, page.deleted) == ([second], [brief, first])
    assert (page.history_id, page.next_page_token) == (str(box.history_id), None)
    assert history_since(gmail, page.history_id, "mail").added == []
    box.expire_history()
    with pytest.raises(CursorExpired) as caught:
        history_since(gmail, page.history_id, "mail")
    assert caught.value.stream == "mail"


def test_calendar_full_then_incremental_then_expired(google_api: GoogleApiFake) -> None:
    cal = google_api.user(DANA).calendars
    cal.add_calendar("team@group.calendar.google.com", "Team")
    first = cal.put(
        {
            "summary": "Kick-off",
            "start": {"dateTime": "2026-11-10T09:00:00Z"},
            "end": {"dateTime": "2026-11-10T10:00:00Z"},
        }
    )
    _, calendar = services(google_api)
    assert [c["id"] for c in list_calendars(calendar)] == [DANA, "team@group.calendar.google.com"]
    full = list_events(calendar, "primary", time_min="2026-11-01T00:00:00Z")
    assert ([e["id"] for e in full.items], full.next_page_token) == ([first["id"]], None)
    assert full.next_sync_token is not None
    cal.cancel(first["id"])
    changed = list_events(calendar, "primary", sync_token=full.next_sync_token)
    assert [(e["id"], e["status"]) for e in changed.items] == [(first["id"], "cancelled")]
    # No window with a sync token: the API refuses timeMin/timeMax there.
    assert set(google_api.requests("/events$")[-1].query) == {
        "singleEvents",
        "maxResults",
        "syncToken",
        "alt",
    }
    cal.expire_sync_tokens()
    with pytest.raises(CursorExpired) as caught:
        list_events(calendar, "primary", sync_token=changed.next_sync_token)
    assert caught.value.stream == "primary"


def test_errors_become_the_connectors_types_without_secrets(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    creds = user_creds(google_api)
    gmail, _ = services(google_api, creds)
    google_api.faults.add("403", path="/profile$")
    with pytest.raises(TransientError):
        current_history_id(gmail)
    google_api.faults.add("500", path="/profile$")
    with pytest.raises(TransientError) as caught:
        current_history_id(gmail)
    assert str(caught.value) == "Google answered 500"
    google_api.faults.add("drop", count=2, path="/profile$")  # both of httplib2's tries
    with pytest.raises(TransientError) as caught:
        current_history_id(gmail)
    assert str(caught.value).startswith("Google unreachable: ")
    google_api.auth.revoke(creds.refresh_token)
    google_api.auth.revoke_access_tokens()
    with pytest.raises(AuthError) as refused:
        current_history_id(gmail)
    assert str(refused.value) == "Google refused the credentials (invalid_grant)"
    assert creds.refresh_token not in str(refused.value)


def test_a_refused_batch_is_one_connector_error(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    gmail = build_service("gmail", user_creds(google_api), api_root=google_api.url + "elsewhere")
    with pytest.raises(ConnectorError) as caught:
        get_messages(gmail, ["18c2a00000001f3b"])
    assert type(caught.value) is ConnectorError
    assert str(caught.value) == "Google answered 404 (notFound)"


def test_fetched_resources_parse_as_the_raw_messages_do(google_api: GoogleApiFake) -> None:
    """MESSAGE_FIELDS keeps all the parser reads: over HTTP, batch and partial response."""
    box = google_api.user(DANA).mailbox
    raw_of = {box.add(item.raw): item.raw for item in generate_mail(25, seed=11)}
    gmail, _ = services(google_api)
    fetched = get_messages(gmail, list_messages(gmail).ids)
    meetings = 0
    assert sorted(fetched.found) == sorted(raw_of)
    for msg_id, resource in fetched.found.items():
        message, errors = parse_gmail_message(resource, "dana", "mail", LIMITS)
        expected, _ = parse_message_and_errors(raw_of[msg_id], message.source, LIMITS)
        assert errors == []
        assert (message.message_id, message.subject, message.date, message.text) == (
            expected.message_id,
            expected.subject,
            expected.date,
            expected.text,
        )
        assert [m.identity for m in message.meetings] == [m.identity for m in expected.meetings]
        assert message.size == len(raw_of[msg_id])
        meetings += len(message.meetings)
    assert meetings == 3  # seed 11 has three invitations among 25
