"""The CalDAV connector on a real Radicale with objects shaped as Outlook and Google write them."""

from __future__ import annotations

import gc
import logging
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.registry import CONNECTORS, BuildContext
from config.accounts import AccountBase
from connectors.base import ConfigurationError, Connector, Limits, Window
from connectors.caldav.connector import CaldavConnector
from connectors.http import BasicAuth
from connectors.records import SourceRef
from tests.admin_config import admin_settings
from tests.caldav_client import CountingAdapter, connect, fetch_all, meetings
from tests.calendars import OUTLOOK_HEAD, outlook_event
from tests.servers.radicale import CalendarUser, TlsProxy

pytestmark = pytest.mark.server


def connector_of(account: AccountBase) -> Connector:
    """The connector the agent builds for ``account``, through its registry."""
    return CONNECTORS.build(account, BuildContext(window=WINDOW, limits=Limits()))


WINDOW = Window(since=datetime(2026, 11, 1, tzinfo=UTC), until=datetime(2027, 3, 1, tzinfo=UTC))

OUTLOOK_SINGLE = (
    OUTLOOK_HEAD
    + outlook_event("0400000082-single@example.com", 3, "Contract review", month="202612")
    + "END:VCALENDAR\n"
)


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def test_a_single_event_with_timezone_rules_is_not_expanded_again(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "review.ics", crlf(OUTLOOK_SINGLE))
    first = fetch_all(connect(radicale), stream, None)
    assert [(m.start, m.recurrence_id) for m in meetings(first.records)] == [
        (datetime(2026, 12, 3, 9, tzinfo=UTC), None)
    ]
    assert first.next_cursor["series"] == {}  # no series to re-expand as the window moves
    counter = CountingAdapter()
    later = Window(WINDOW.since + timedelta(days=2), WINDOW.until + timedelta(days=2))
    again = fetch_all(connect(radicale, window=later, counter=counter), stream, first.next_cursor)
    assert (again.records, again.errors, again.removed) == ([], [], [])
    # Discovery aside, only the sync-collection poll: no calendar-multiget of review.ics.
    assert [r for r in counter.sent if r[0] == "REPORT"] == [("REPORT", stream)]


def test_a_capped_series_keeps_its_cut_occurrences_captured(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    daily = (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\n"
        "BEGIN:VEVENT\nUID:standup@google.com\nDTSTAMP:20261101T000000Z\n"
        "DTSTART:20261101T083000Z\nDTEND:20261101T084500Z\nRRULE:FREQ=DAILY\n"
        "SUMMARY:Stand-up\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    radicale.put("work", "standup.ics", crlf(daily))
    limits = Limits(max_occurrences=10)
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    window = Window(WINDOW.since, now + timedelta(days=30), now=now)
    first = fetch_all(connect(radicale, window=window, limits=limits), stream, None)
    kept = [m.start.day for m in meetings(first.records)]
    assert kept == [16, 17, 18, 19, 20, 21, 22, 23, 24, 25]  # nearest 20 November, 09:00
    assert [(e.source, e.reason) for e in first.errors] == [
        (SourceRef("rep1", stream, stream + "standup.ics"), "too-many-occurrences")
    ]
    # Two days on, the series is expanded again and the kept span moves with the present:
    # the occurrences cut at its old end are not deletions.
    now += timedelta(days=2)
    later = Window(WINDOW.since, now + timedelta(days=30), now=now)
    again = fetch_all(connect(radicale, window=later, limits=limits), stream, first.next_cursor)
    assert [m.start.day for m in meetings(again.records)] == list(range(18, 28))
    assert again.removed == []
    radicale.delete("work", "standup.ics")
    gone = fetch_all(connect(radicale, window=later, limits=limits), stream, again.next_cursor)
    # Deleted: every copy ever captured goes, the cut ones included.
    assert sorted(r.provider_id for r in gone.removed) == [stream + "standup.ics"] + [
        f"{stream}standup.ics#202611{day}T083000Z" for day in range(16, 28)
    ]


def test_credentials_over_plain_http_are_refused_unless_allowed(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    auth = BasicAuth(radicale.name, lambda: radicale.password)
    with pytest.raises(ConfigurationError, match="clear text") as refused:
        CaldavConnector("rep1", radicale.url, WINDOW, auth=auth)
    assert radicale.password not in str(refused.value)
    allowed = CaldavConnector("rep1", radicale.url, WINDOW, auth=auth, allow_plaintext=True)
    assert allowed.streams() == [stream]


def test_a_private_ca_is_trusted_with_ca_file(
    radicale: CalendarUser, tls_dav_proxy: TlsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "review.ics", crlf(OUTLOOK_SINGLE))
    fields = {"kind": "caldav", "url": tls_dav_proxy.proxy.url, "username": radicale.name}
    settings = admin_settings(
        tmp_path,
        monkeypatch,
        "example.com",
        {"rep1": {**fields, "password": radicale.password, "ca_file": tls_dav_proxy.ca_file}},
    )
    connector = connector_of(settings.accounts[0])
    assert connector.streams() == [stream]
    got = fetch_all(connector, stream, None)
    assert [m.summary for m in meetings(got.records)] == ["Contract review"]


def test_unverified_tls_is_said_once_through_the_project_logger(
    radicale: CalendarUser,
    tls_dav_proxy: TlsProxy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "review.ics", crlf(OUTLOOK_SINGLE))
    fields = {"kind": "caldav", "url": tls_dav_proxy.proxy.url, "username": radicale.name}
    account = {**fields, "password": radicale.password, "verify_tls": "false"}
    settings = admin_settings(tmp_path, monkeypatch, "example.com", {"rep1": account})
    # Whatever earlier tests left to the collector (a socket, a connection)
    # would warn inside the block below: collected here, it warns outside.
    gc.collect()
    with warnings.catch_warnings(record=True) as shown, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        cursor = None
        for _ in range(2):  # two syncs, each with its own connector, as the agent makes them
            got = fetch_all(connector_of(settings.accounts[0]), stream, cursor)
            cursor = got.next_cursor
    assert [str(w.message)[:60] for w in shown] == []
    origin = tls_dav_proxy.proxy.url
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (
            "autocapture.http",
            f"{origin}: TLS certificates are NOT verified (verify_tls: false); "
            "trust the server's CA with ca_file instead",
        )
    ]
