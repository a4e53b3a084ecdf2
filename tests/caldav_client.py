"""A CalDAV connector on a test Radicale user, with its requests counted.

Requests are counted through the client's transport seam (a counting
adapter mounted on ``HttpClient``), which is how the tests prove an idle
poll's cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from requests.adapters import HTTPAdapter

from connectors.base import Connector, Limits, Window
from connectors.caldav.connector import CaldavConnector
from connectors.http import BasicAuth, HttpClient
from connectors.records import Batch, Cursor, Meeting
from tests.contract import stored
from tests.servers.radicale import CalendarUser

WINDOW = Window(since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2027, 3, 1, tzinfo=UTC))


class CountingAdapter(HTTPAdapter):
    """The real transport, counting (method, path) of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str]] = []

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append((request.method or "", request.path_url))
        return super().send(request, *args, **kwargs)


def connect(
    user: CalendarUser,
    *,
    url: str | None = None,
    password: str | None = None,
    window: Window = WINDOW,
    limits: Limits | None = None,
    calendars: list[str] | None = None,
    counter: CountingAdapter | None = None,
    name: str = "rep1",
) -> CaldavConnector:
    secret = user.password if password is None else password
    client = HttpClient(auth=BasicAuth(user.name, lambda: secret), timeout=10)
    if counter is not None:
        client.mount("http://", counter)
    return CaldavConnector(
        name, url or user.url, window, limits, calendars=calendars, client=client
    )


def by_identity(records: list[Meeting]) -> dict[str, Meeting]:
    found = {r.identity: r for r in records}
    assert len(found) == len(records), "an identity appeared twice"
    return found


def meetings(records: Sequence[object]) -> list[Meeting]:
    found = [r for r in records if isinstance(r, Meeting)]
    assert len(found) == len(records), "a calendar yields meetings only"
    return found


def fetch_all(conn: Connector, stream: str, cursor: Cursor | None, limit: int = 50) -> Batch:
    """Drain into one batch-like result (records, errors, removed, last cursor)."""
    records, errors, removed = [], [], []
    for _ in range(100):
        batch = conn.fetch(stream, stored(cursor), limit)
        records += batch.records
        errors += batch.errors
        removed += batch.removed
        cursor = batch.next_cursor
        if not batch.has_more:
            return Batch(records, errors, batch.next_cursor, False, removed)
    raise AssertionError("never finished")
