"""The Gmail connector through the real google-api-python-client against the loopback fake:
the shared contract for the mail stream and a calendar stream, and what the wire costs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from connectors.base import AuthError, Connector, Limits, Window
from connectors.credentials import ReadSecret
from connectors.google.gmail import GmailConnector, from_settings
from connectors.google.session import QuotaPace
from connectors.records import Cursor
from tests.contract import ConnectorContract, drain
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, DANA, GMAIL_SCOPE
from tests.servers.google_api import GoogleApiFake

WINDOW = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC))
LIMITS = Limits(max_header_bytes=8192)
CLIENT_SECRET = "GOCSPX-contract-secret"


def mail(n: int, sender: str = "Ann Lee <ann@customer.example>") -> bytes:
    return (
        f"From: {sender}\r\nTo: Dana <{DANA}>\r\nSubject: Note {n}\r\n"
        f"Date: Mon, {n % 27 + 2:02d} Nov 2026 09:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <c{n}@customer.example>\r\n\r\nBody {n}\r\n"
    ).encode()


def connector_on(
    fake: GoogleApiFake, user: str = DANA, refresh: str | None = None, **options: Any
) -> GmailConnector:
    fake.auth.add_client(CLIENT_ID, CLIENT_SECRET)
    token = refresh or fake.auth.add_refresh_token(user, (GMAIL_SCOPE, CALENDAR_SCOPE))
    options.setdefault("pace", QuotaPace(10_000.0, 10_000.0))
    return from_settings(
        "dana-gmail",
        CLIENT_ID,
        ReadSecret(lambda: CLIENT_SECRET),
        ReadSecret(lambda: token),
        fake.auth.token_uri,
        lambda value: None,
        WINDOW,
        LIMITS,
        api_root=fake.url,
        calendar_api_root=fake.url,
        **options,
    )


class MailHarness:
    stream = "mail"

    def __init__(self, fake: GoogleApiFake) -> None:
        self.fake = fake
        self.box = fake.user(DANA).mailbox
        self.ids: dict[int, str] = {}

    def make_connector(self) -> Connector:
        return connector_on(self.fake, calendar=False)

    def add_item(self, n: int) -> str:
        self.ids[n] = self.box.add(mail(n))
        return f"msgid:c{n}@customer.example"

    def add_bad_item(self) -> str:
        self.box.add(mail(99).replace(b"Subject:", b"X-Filler: " + b"x" * 9000 + b"\r\nSubject:"))
        return "header-too-large"

    def remove_item(self, n: int) -> None:
        self.box.delete(self.ids[n])

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        self.box.expire_history()
        return cursor


class CalendarHarness:
    stream = f"calendar:{DANA}"

    def __init__(self, fake: GoogleApiFake) -> None:
        self.fake = fake
        self.calendars = fake.user(DANA).calendars
        self.ids: dict[int, str] = {}

    def make_connector(self) -> Connector:
        return connector_on(self.fake)

    def add_item(self, n: int) -> str:
        start = f"2026-12-{n % 27 + 1:02d}T{n % 20 + 1:02d}:00:00+01:00"
        end = f"2026-12-{n % 27 + 1:02d}T{n % 20 + 1:02d}:30:00+01:00"
        event = self.calendars.put(
            {
                "summary": f"Item {n}",
                "iCalUID": f"item{n}@contract",
                "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
                "end": {"dateTime": end, "timeZone": "Europe/Berlin"},
                "attendees": [{"email": "ann@customer.example", "responseStatus": "accepted"}],
            }
        )
        self.ids[n] = event["id"]
        return f"ical:item{n}@contract|"

    def add_bad_item(self) -> str:
        # A time without its offset: RFC 3339, which the API promises, requires one.
        self.calendars.put(
            {
                "start": {"dateTime": "2026-12-09T10:00:00"},
                "end": {"dateTime": "2026-12-09T11:00:00"},
            }
        )
        return "bad-event"

    def remove_item(self, n: int) -> None:
        self.calendars.cancel(self.ids[n])

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        self.calendars.expire_sync_tokens()
        return cursor


class TestGmailMailContract(ConnectorContract):
    @pytest.fixture
    def harness(self, google_api: GoogleApiFake) -> MailHarness:
        return MailHarness(google_api)


class TestGoogleCalendarContract(ConnectorContract):
    @pytest.fixture
    def harness(self, google_api: GoogleApiFake) -> CalendarHarness:
        return CalendarHarness(google_api)


def test_only_the_parts_of_a_batch_that_failed_are_asked_again(google_api: GoogleApiFake) -> None:
    box = google_api.user(DANA).mailbox
    ids = [box.add(mail(n)) for n in range(60)]
    google_api.faults.add("429", path=ids[7], in_batch=True, retry_after=1)
    google_api.faults.add("500", path=ids[42], in_batch=True)
    connector = connector_on(google_api, calendar=False)
    got = drain(connector, "mail", None, 500)
    assert sorted(r.identity for r in got.records) == sorted(
        f"msgid:c{n}@customer.example" for n in range(60)
    )
    asked = Counter(
        r.path.rsplit("/", 1)[1] for r in google_api.requests("/messages/", in_batch=True)
    )
    assert {i: n for i, n in asked.items() if n != 1} == {ids[7]: 2, ids[42]: 2}
    assert len(asked) == 60
    # One listing; the newest 50 (both failures among them), their two failed parts
    # alone, then the last 10.
    assert [r.path for r in google_api.requests("^/(batch|gmail)", in_batch=False)] == [
        "/gmail/v1/users/me/profile",
        "/gmail/v1/users/me/messages",
        "/batch",
        "/batch",
        "/batch",
    ]
    sizes: list[int] = []
    for r in google_api.log:
        if r.path == "/batch":
            sizes.append(0)
        elif r.in_batch:
            sizes[-1] += 1
    assert sizes == [50, 2, 10]


def test_a_revoked_grant_is_an_auth_error_naming_the_command_that_mends_it(
    google_api: GoogleApiFake,
) -> None:
    token = google_api.auth.add_refresh_token(DANA)
    google_api.auth.revoke(token)
    connector = connector_on(google_api, refresh=token)
    with pytest.raises(AuthError) as caught:
        connector.fetch("mail", None, 10)
    assert str(caught.value) == (
        "Google refused the credentials (invalid_grant); "
        "run `autocapture auth google dana-gmail` to grant access again"
    )


def test_a_meeting_the_look_ahead_reaches_later_is_read_though_it_never_changed(
    google_api: GoogleApiFake,
) -> None:
    harness = CalendarHarness(google_api)
    harness.add_item(0)  # 2026-12-01
    beyond = harness.calendars.put(
        {
            "iCalUID": "beyond@contract",
            "start": {"dateTime": "2027-03-10T10:00:00+00:00"},
            "end": {"dateTime": "2027-03-10T11:00:00+00:00"},
        }
    )
    first = drain(harness.make_connector(), harness.stream, None, 10)
    assert first.identities == ["ical:item0@contract|"]
    google_api.log.clear()
    later = Window(WINDOW.since, datetime(2027, 4, 1, tzinfo=UTC))
    # The agent rebuilds its connector as the clock moves: the look-ahead now ends a month on.
    wider = from_settings(
        "dana-gmail",
        CLIENT_ID,
        ReadSecret(lambda: CLIENT_SECRET),
        ReadSecret(lambda: google_api.auth.add_refresh_token(DANA)),
        google_api.auth.token_uri,
        lambda value: None,
        later,
        LIMITS,
        api_root=google_api.url,
        calendar_api_root=google_api.url,
    )
    second = drain(wider, harness.stream, first.cursor, 10)
    assert second.identities == ["ical:beyond@contract|"]
    assert beyond["id"] in second.records[0].source.provider_id
    listed = [r.query for r in google_api.requests("/events$")]
    assert [sorted(q) for q in listed] == [
        ["alt", "maxResults", "singleEvents", "timeMax", "timeMin"],
    ]
    assert listed[0]["timeMin"] == ["2027-03-01T00:00:00Z"]
    third = drain(wider, harness.stream, second.cursor, 10)
    assert third.records == []
    assert "syncToken" in google_api.requests("/events$")[-1].query


def test_a_token_endpoint_outage_is_transient_not_a_refused_grant(
    google_api: GoogleApiFake,
) -> None:
    # google-auth tries the token endpoint three times itself; the third 500 reaches the
    # connector, whose retry then gets a token.
    google_api.faults.add("500", count=3, path="^/token$")
    box = google_api.user(DANA).mailbox
    box.add(mail(1))
    got = drain(connector_on(google_api, calendar=False), "mail", None, 10)
    assert got.identities == ["msgid:c1@customer.example"]
    assert len(google_api.requests("^/token$")) == 4
