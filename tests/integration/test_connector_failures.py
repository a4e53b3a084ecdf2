"""Connector failures through the agent, and the credentials seams of the HTTP client.

- every failure is typed and none is logged as "unexpected";
- credentials never follow a redirect to another origin unless the account
  lists its host;
- a refused bearer token is refreshed once; a second refusal marks the
  account needs_reauth; every token read is masked; an unreadable secret is
  a configuration error naming its key.

CalDAV accounts against Radicale behind the test proxy, which can answer a
request with a status of the test's choosing, or play an OAuth-fronted
service (it accepts one bearer token and logs in to Radicale with Basic).
``Origin`` is a second loopback server (another port: another origin) that
records the Authorization header of whatever reaches it; as a token gate in
front of the proxy it plays the token's owner: when the expired token
arrives, it rotates the token file the account reads (as an external token
refresher would) and answers 401.
"""

from __future__ import annotations

import base64
import logging
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from agent.redact import redact
from agent.sync import AccountReport, sync_once
from config.settings import Settings
from storage.database import Database, open_database
from tests.admin_config import admin_settings
from tests.servers.radicale import CalendarUser, DavProxy, ics_event

pytestmark = pytest.mark.server

SOON = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y%m%dT100000Z")


class Origin:
    """Records each request's Authorization header; answers 401 to ``expired`` (first
    rewriting ``token_file`` to ``rotate_to``), forwards the rest to ``upstream``, or
    answers 404 without one."""

    def __init__(
        self,
        upstream: str | None = None,
        expired: str | None = None,
        token_file: Path | None = None,
        rotate_to: str = "",
    ) -> None:
        self.seen: list[str] = []
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                origin.seen.append(self.headers.get("Authorization", ""))
                if expired is not None and origin.seen[-1] == f"Bearer {expired}":
                    if token_file is not None:
                        token_file.write_text(rotate_to + "\n")
                    self._answer(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
                elif upstream is None:
                    self._answer(404, b"", {})
                else:
                    self._forward(upstream, body)

            def _forward(self, upstream: str, body: bytes) -> None:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                got = requests.request(
                    self.command,
                    upstream.rstrip("/") + self.path,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=30,
                )
                keep = ("content-type", "etag")
                kept = {k: v for k, v in got.headers.items() if k.lower() in keep}
                self._answer(got.status_code, got.content, kept)

            def _answer(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PROPFIND = do_REPORT = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder() -> Iterator[Origin]:
    server = Origin()
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
        "allow_plaintext": "true",  # the loopback test servers speak plain HTTP
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
    recorder: Origin,
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


def oauth_calendar(radicale: CalendarUser, dav_proxy: DavProxy) -> str:
    """A calendar with one meeting behind the proxy; the one token the proxy accepts."""
    radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("renewed@x", SOON, summary="Renewed"))
    basic = base64.b64encode(f"{radicale.name}:{radicale.password}".encode()).decode()
    good = "ya29.good-" + uuid.uuid4().hex
    dav_proxy.bearer = (good, "Basic " + basic)
    return good


def sync_with_expiring_token(
    dav_proxy: DavProxy, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh: str
) -> tuple[AccountReport, list[str], str]:
    """One pass of an account whose token file holds an expired token, rotated to
    ``fresh`` when refused: the report, the Authorization headers seen, the expired token."""
    expired = "ya29.expired-" + uuid.uuid4().hex
    token_file = tmp_path / "token"
    token_file.write_text(expired + "\n")
    gate = Origin(dav_proxy.url, expired, token_file, fresh)
    fields = {
        "kind": "caldav",
        "url": gate.url,
        "token": f"file:{token_file}",
        "allow_plaintext": "true",
        "backfill": "30d",
    }
    try:
        settings = admin_settings(tmp_path, monkeypatch, "ours.example", {"cal": fields})
        [report] = sync_once(settings, db)
    finally:
        gate.close()
    return report, gate.seen, expired


def test_an_expired_token_is_refreshed_once_and_the_fresh_one_is_masked(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    good = oauth_calendar(radicale, dav_proxy)
    report, seen, expired = sync_with_expiring_token(dav_proxy, db, tmp_path, monkeypatch, good)
    assert (report.outcome, report.records, report.new_interactions) == ("ok", 1, 1)
    assert seen[:2] == [f"Bearer {expired}", f"Bearer {good}"]
    assert set(seen[2:]) == {f"Bearer {good}"}
    # Read at the time of use, so never registered at startup: masked all the same.
    assert redact(f"old {expired} new {good}") == "old *** new ***"


def test_a_refreshed_token_refused_too_marks_the_account_needs_reauth(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    oauth_calendar(radicale, dav_proxy)
    revoked = "ya29.revoked-" + uuid.uuid4().hex
    report, seen, expired = sync_with_expiring_token(dav_proxy, db, tmp_path, monkeypatch, revoked)
    assert seen == [f"Bearer {expired}", f"Bearer {revoked}"]
    assert report.outcome == "needs_reauth"
    assert report.message.startswith("credentials refused: PROPFIND http://127.0.0.1:")
    assert report.message.endswith(": credentials refused (HTTP 401); sign in again")
    assert [(s.name, s.state) for s in db.account_status()] == [("cal", "needs_reauth")]


def test_an_unreadable_secret_is_a_configuration_error_naming_its_key(
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    fields = {
        "kind": "caldav",
        "url": "http://127.0.0.1:9/dav/",  # never reached: the password is read first
        "username": "rep1",
        "password": "unused",
        "allow_plaintext": "true",
    }
    settings = admin_settings(tmp_path, monkeypatch, "ours.example", {"cal": fields})
    monkeypatch.delenv("TEST_PW_CAL")
    [report] = sync_once(settings, db)
    assert (report.outcome, report.message) == (
        "error",
        "password ${TEST_PW_CAL} is unavailable: the environment variable is not set",
    )
    assert "unexpected" not in caplog.text and "Traceback" not in caplog.text
