"""The Microsoft 365 connector through the real msal against the loopback identity and Graph
fakes: the shared contract for a mail folder and the primary calendar, and what the wire costs."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from connectors.base import ConfigurationError, Connector, Limits, Window
from connectors.records import Cursor
from tests.caldav_client import meetings
from tests.contract import ConnectorContract, drain
from tests.microsoft_clients import (
    DANA,
    connector_on,
    graph_event,
    graph_time,
)
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


def test_a_page_longer_than_asked_is_read_in_parts_and_resumes_exactly(graph: Graph) -> None:
    graph.page_size = 5  # more than the batch of 2 the connector asks for
    box = graph.mailboxes[DANA]
    expected = sorted(f"msgid:c{n}@customer.example" for n in range(7) if box.add(mail(n)))
    first = drain(connector_on(graph, WINDOW, LIMITS, calendar="false"), "mail:inbox", None, 2)
    assert first.identities == expected
    assert [len(c) for c in first.cursors].count(2) >= 2  # {"link", "skip"} mid-page
    for k, cursor in enumerate(first.cursors):
        again = drain(
            connector_on(graph, WINDOW, LIMITS, calendar="false"), "mail:inbox", cursor, 2
        )
        seen = [r.identity for r in first.records[: first.batch_ends[k]]]
        assert sorted(seen + again.identities) == expected, f"resuming from cursor {k}"


def test_folders_by_path_and_calendars_by_id_are_streams_of_their_own(graph: Graph) -> None:
    box = graph.mailboxes[DANA]
    customers = box.add_folder("Customers")  # under Inbox
    key = box.add_folder("Key accounts", customers)
    box.add_folder("Customers", None)  # the same name at the top: not the one meant
    box.add(mail(1), customers)
    box.add(mail(2), key)
    box.add(mail(3))  # Inbox itself: not chosen
    team = graph.add_calendar(DANA, "AAMkAGteamcalendar=")
    team.put(event(4))
    graph.calendars[DANA].put(event(5))
    connector = connector_on(
        graph,
        WINDOW,
        LIMITS,
        folders="[inbox/customers, Inbox/Customers/Key accounts]",
        calendars="[AAMkAGteamcalendar=]",
    )
    try:
        assert connector.streams() == [
            "mail:inbox/customers",
            "mail:Inbox/Customers/Key accounts",
            "calendar:AAMkAGteamcalendar=",
        ]
        got = {s: drain(connector, s, None, 10).identities for s in connector.streams()}
    finally:
        connector.close()
    assert got == {
        "mail:inbox/customers": ["msgid:c1@customer.example"],
        "mail:Inbox/Customers/Key accounts": ["msgid:c2@customer.example"],
        "calendar:AAMkAGteamcalendar=": ["ical:item4@contract|"],
    }
    missing = connector_on(graph, WINDOW, LIMITS, folders="[Inbox/Suppliers]", calendar="false")
    with pytest.raises(ConfigurationError) as caught:
        missing.fetch("mail:Inbox/Suppliers", None, 10)
    missing.close()
    assert str(caught.value) == (
        "account 'dana-m365': mail folder 'Inbox/Suppliers': no folder 'Suppliers' in Inbox"
    )


def test_at_most_four_requests_are_in_flight_per_mailbox(graph: Graph) -> None:
    # Eight connectors on one mailbox (accounts, threads of a poller) polling at once:
    # Exchange would throttle the fifth concurrent request; the connector never sends it.
    graph.mailboxes[DANA].add(mail(1))
    graph.hold_until = 5  # each answer waits for a fifth request in flight (or 2 s)
    connectors = [connector_on(graph, WINDOW, LIMITS, calendar="false") for _ in range(8)]
    try:
        with ThreadPoolExecutor(8) as pool:
            batches = list(pool.map(lambda c: c.fetch("mail:inbox", None, 10), connectors))
    finally:
        for connector in connectors:
            connector.close()
    assert [len(b.records) for b in batches] == [1] * 8
    assert graph.peak_in_flight[DANA] <= 4  # never the fifth that would release them
    assert [r for r in graph.server.log if r.path.startswith("/v1.0/")].__len__() == 8


SERIES = (
    "040000008200E00074C5B7101A82E008{date}80F1D2C3B4A5D9010000000000000000"
    "10000000" + "11223344556677889900AABBCCDDEEFF"
)


def occurrence(day: int, kind: str, **extra: Any) -> dict[str, Any]:
    """An instance of a weekly series as calendarView lists it: its own id and iCalUId
    (the instance date in bytes 16-19), its original start."""
    original = datetime(2026, 12, day, 9, tzinfo=UTC)
    goid = SERIES.format(date=f"{2026:04X}{12:02X}{day:02X}")
    guests = [("ann@customer.example", "required", "accepted")]
    base = graph_event(f"AAMkAGocc{day:02d}=", goid, original, "Weekly", DANA, guests)
    return {
        **base,
        "type": kind,
        "seriesMasterId": "AAMkAGmaster=",
        "originalStart": original.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }


def test_each_occurrence_of_a_series_is_one_meeting_by_uid_and_original_start(
    graph: Graph,
) -> None:
    calendar = graph.calendars[DANA]
    calendar.put({**occurrence(1, "occurrence"), "id": "AAMkAGmaster=", "type": "seriesMaster"})
    calendar.put(occurrence(1, "occurrence"))
    moved = datetime(2026, 12, 9, 15, tzinfo=UTC)  # the 8th's meeting moved to the 9th
    calendar.put(occurrence(8, "exception", start=graph_time(moved), subject="Weekly, moved"))
    calendar.put(occurrence(15, "occurrence", isCancelled=True))
    connector = connector_on(graph, WINDOW, LIMITS, folders="[]")
    try:
        got = drain(connector, "calendar:primary", None, 10)
    finally:
        connector.close()
    uid = SERIES.format(date="00000000")
    assert {m.identity: (m.start, m.status, m.summary) for m in meetings(got.records)} == {
        f"ical:{uid}|20261201T090000Z": (
            datetime(2026, 12, 1, 9, tzinfo=UTC),
            "confirmed",
            "Weekly",
        ),
        f"ical:{uid}|20261208T090000Z": (moved, "confirmed", "Weekly, moved"),
        f"ical:{uid}|20261215T090000Z": (
            datetime(2026, 12, 15, 9, tzinfo=UTC),
            "cancelled",
            "Weekly",
        ),
    }
    assert got.errors == []  # calendarView lists no series master: nothing to refuse


def test_a_window_moved_on_starts_a_new_round_that_sees_meetings_booked_further_ahead(
    graph: Graph,
) -> None:
    calendar = graph.calendars[DANA]
    calendar.put(event(1))
    first = connector_on(graph, WINDOW, LIMITS, folders="[]")
    start = drain(first, "calendar:primary", None, 10)
    first.close()
    assert start.identities == ["ical:item1@contract|"]
    later = Window(WINDOW.since + timedelta(days=3), WINDOW.until + timedelta(days=3), NOW)
    far = WINDOW.until + timedelta(days=1)  # beyond the first window's end
    guests = [("bo@customer.example", "required", "none")]
    calendar.put(graph_event("AAMkAGfar=", "far@contract", far, "Far", DANA, guests))
    moved_on = connector_on(graph, later, LIMITS, folders="[]")
    try:
        renewed = drain(moved_on, "calendar:primary", start.cursor, 10)
        again = drain(moved_on, "calendar:primary", renewed.cursor, 10)
    finally:
        moved_on.close()
    # The old round drained, then today's window listed whole: the far meeting comes in.
    assert renewed.identities == ["ical:far@contract|", "ical:item1@contract|"]
    assert renewed.cursor is not None and renewed.cursor["until"] == later.until.isoformat()
    assert again.records == [] and again.removed == []
