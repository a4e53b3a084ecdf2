"""The shared connector contract, run by the CalDAV connector against a real Radicale."""

from __future__ import annotations

import pytest

from connectors.base import Connector, Limits
from connectors.records import Cursor
from tests.caldav_client import connect
from tests.contract import ConnectorContract
from tests.servers.radicale import CalendarUser, DavProxy, ics_event

pytestmark = pytest.mark.server

# Small enough that one oversized object is cheap to make, large enough for real events.
LIMITS = Limits(max_ical_bytes=16_000)


class RadicaleHarness:
    def __init__(self, user: CalendarUser, url: str | None = None) -> None:
        self.user = user
        self.url = url
        self.stream = user.make_calendar("contract")

    def make_connector(self) -> Connector:
        return connect(self.user, url=self.url, limits=LIMITS)

    def add_item(self, n: int) -> str:
        start = f"202612{n % 28 + 1:02d}T{n % 24:02d}0000Z"
        self.user.put("contract", f"item{n}.ics", ics_event(f"item{n}@contract", start))
        return f"ical:item{n}@contract|"

    def add_bad_item(self) -> str:
        # Radicale refuses malformed iCalendar on PUT, so the bad item it can hold is
        # one over the connector's size limit.
        huge = "DESCRIPTION:" + "x" * 20_000
        self.user.put(
            "contract", "huge.ics", ics_event("huge@x", "20261215T100000Z", extra=(huge,))
        )
        return "ical-too-large"

    def remove_item(self, n: int) -> None:
        self.user.delete("contract", f"item{n}.ics")

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        if cursor.get("mode") == "etag":
            pytest.skip("ETag mode has no token that can expire")
        # A token of a state this server never had, as after a restore from backup.
        return {**cursor, "sync_token": "http://radicale.org/ns/sync/" + "f" * 64}


class TestCaldavContract(ConnectorContract):
    @pytest.fixture
    def harness(self, radicale: CalendarUser) -> RadicaleHarness:
        return RadicaleHarness(radicale)


class TestCaldavEtagFallbackContract(ConnectorContract):
    """The same guarantees from a server without sync-collection (RFC 6578 is optional)."""

    @pytest.fixture
    def harness(self, radicale: CalendarUser, dav_proxy: DavProxy) -> RadicaleHarness:
        dav_proxy.refuse_sync_status = 501
        return RadicaleHarness(radicale, url=dav_proxy.url)
