"""The Microsoft 365 connector through the real msal against the loopback identity and Graph
fakes: the shared contract for a mail folder and the primary calendar, and what the wire costs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import Connector, Limits, Window
from connectors.records import Cursor
from tests.contract import ConnectorContract
from tests.microsoft_clients import CLIENT_SECRET, DANA, connector_on, graph_event, register
from tests.servers.microsoft_graph import Graph

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=60), NOW + timedelta(days=30), NOW)
LIMITS = Limits(max_header_bytes=8192)


def mail(n: int, sender: str = "Ann Lee <ann@customer.example>") -> bytes:
    return (
        f"From: {sender}\r\nTo: Dana <{DANA}>\r\nSubject: Note {n}\r\n"
        f"Date: Mon, {n % 27 + 2:02d} Nov 2026 09:{n % 60:02d}:00 +0000\r\n"
        f"Message-ID: <c{n}@customer.example>\r\n\r\nBody {n}\r\n"
    ).encode()


def event(n: int) -> dict[str, Any]:
    start = datetime(2026, 12, n % 27 + 1, n % 20 + 1, tzinfo=UTC)
    guests = [("ann@customer.example", "required", "accepted")]
    return graph_event(
        f"AAMkAGevent{n:04d}AAA=", f"item{n}@contract", start, f"Item {n}", DANA, guests
    )


@pytest.fixture
def graph(microsoft_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> Graph:
    monkeypatch.setenv("TEST_M365_CLIENT_SECRET", CLIENT_SECRET)
    register(microsoft_graph)
    return microsoft_graph


class MailHarness:
    stream = "mail:inbox"

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.box = graph.mailboxes[DANA]
        self.ids: dict[int, str] = {}

    def make_connector(self) -> Connector:
        return connector_on(self.graph, WINDOW, LIMITS, calendar="false")

    def add_item(self, n: int) -> str:
        self.ids[n] = self.box.add(mail(n))
        return f"msgid:c{n}@customer.example"

    def add_bad_item(self) -> str:
        # A header without its value: Graph's schema promises name and value.
        self.box.add(mail(99), damage={"internetMessageHeaders": [{"name": "Subject"}]})
        return "bad-graph-message"

    def remove_item(self, n: int) -> None:
        self.box.delete(self.ids[n])

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        self.graph.expire_delta_tokens()
        return cursor


class CalendarHarness:
    stream = "calendar:primary"

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.calendar = graph.calendars[DANA]

    def make_connector(self) -> Connector:
        return connector_on(self.graph, WINDOW, LIMITS, folders="[]")

    def add_item(self, n: int) -> str:
        self.calendar.put(event(n))
        return f"ical:item{n}@contract|"

    def add_bad_item(self) -> str:
        # No iCalUId: an event Exchange never serves, with no identity to store it by.
        self.calendar.put({**event(98), "iCalUId": None})
        return "bad-event"

    def remove_item(self, n: int) -> None:
        self.calendar.delete(event(n)["id"])

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        self.graph.expire_delta_tokens()
        return cursor


class TestMicrosoftMailContract(ConnectorContract):
    @pytest.fixture
    def harness(self, graph: Graph) -> MailHarness:
        return MailHarness(graph)


class TestMicrosoftCalendarContract(ConnectorContract):
    @pytest.fixture
    def harness(self, graph: Graph) -> CalendarHarness:
        return CalendarHarness(graph)
