"""Connector failures through the agent: every one is typed, none is "unexpected";
and credentials never follow a redirect to another origin unless the account lists it.

CalDAV accounts against Radicale behind the test proxy, which can answer a
request with a status of the test's choosing. Two loopback servers on two
ports are two origins: the proxy answers with a 302 to a second server,
which records whatever reaches it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agent.sync import sync_once
from config.settings import Settings
from storage.database import Database, open_database
from tests.admin_config import admin_settings
from tests.servers.radicale import CalendarUser, DavProxy, ics_event

pytestmark = pytest.mark.server

SOON = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y%m%dT100000Z")


class Recorder:
    """Another origin: answers 404 to everything and keeps each request's headers."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                recorder.seen.append((self.command, self.path, dict(self.headers.items())))
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_PROPFIND = do_REPORT = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def caldav_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: CalendarUser, url: str, **extra: str
) -> Settings:
    fields = {
        "kind": "caldav",
        "owner": "rep1@ours.example",
        "url": url,
        "username": user.name,
        "password": user.password,
        "backfill": "30d",
        **extra,
    }
    return admin_settings(tmp_path, monkeypatch, "ours.example", {"cal": fields})


def test_a_403_marks_the_account_error_with_a_permission_message_not_needs_reauth(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    radicale.make_calendar("work")
    dav_proxy.fail_next.append((403, {"Content-Type": "text/plain"}, b"Access denied"))
    settings = caldav_account(tmp_path, monkeypatch, radicale, dav_proxy.url)
    [report] = sync_once(settings, db)
    assert report.outcome == "error"
    assert report.message == (
        f"PROPFIND {dav_proxy.url}: access forbidden (HTTP 403); "
        "the account lacks permission for it"
    )
    assert [(s.name, s.state) for s in db.account_status()] == [("cal", "error")]
    assert "unexpected" not in caplog.text and "Traceback" not in caplog.text


def test_an_unusable_status_is_an_account_error_without_a_traceback(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    radicale.make_calendar("work")
    dav_proxy.fail_next.append((400, {}, b""))
    settings = caldav_account(tmp_path, monkeypatch, radicale, dav_proxy.url)
    [report] = sync_once(settings, db)
    assert (report.outcome, report.message) == (
        "error",
        f"PROPFIND {dav_proxy.url}: unexpected HTTP status 400",
    )
    assert "unexpected failure" not in caplog.text and "Traceback" not in caplog.text


def test_a_redirect_to_another_origin_sends_it_nothing_and_says_what_to_configure(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    recorder: Recorder,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    radicale.make_calendar("work")
    dav_proxy.fail_next.append((302, {"Location": recorder.url + "dav/"}, b""))
    [report] = sync_once(caldav_account(tmp_path, monkeypatch, radicale, dav_proxy.url), db)
    assert recorder.seen == []  # not even a request without the Authorization header
    assert report.outcome == "error"
    assert report.message == (
        f"{dav_proxy.url}: the server redirects to another origin, {recorder.url}dav/, "
        "where the account's credentials are not sent; if that host belongs to the same "
        "provider, add it to allowed_redirect_hosts"
    )
    assert [(s.name, s.state) for s in db.account_status()] == [("cal", "error")]


def test_a_listed_host_is_followed_with_the_credentials(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("moved@x", SOON, summary="Moved"))
    second = DavProxy(radicale.url)  # the provider's other host: another port, same Radicale
    try:
        dav_proxy.fail_next.append((302, {"Location": second.url}, b""))
        host = second.url.removeprefix("http://").rstrip("/")
        account = caldav_account(
            tmp_path, monkeypatch, radicale, dav_proxy.url, allowed_redirect_hosts=f'["{host}"]'
        )
        [report] = sync_once(account, db)
    finally:
        second.close()
    assert (report.outcome, report.records, report.new_interactions) == ("ok", 1, 1)
    # Radicale answered the second origin, so the password went along.
    assert ("PROPFIND", "/") in second.requests
