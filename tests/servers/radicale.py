"""A real Radicale CalDAV server for the CalDAV tests, plus a thin proxy in front of it.

One Radicale per test session (it starts in about 0.2 s, but a session-wide
server keeps the suite fast); every test gets a fresh user, so tests never
see each other's calendars. Users are appended to Radicale's plain htpasswd
file, which it re-reads on every login.

``DavProxy`` forwards to Radicale and can refuse ``sync-collection`` (a server
without RFC 6578, for the ETag fallback), rewrite response bodies (a lenient
server that stores what Radicale would reject) and fail on demand (5xx, 429).
"""

from __future__ import annotations

import importlib.util
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.servers import free_port, missing_server
from tests.servers.tls import loopback_tls

_CONFIG = """\
[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {root}/users
htpasswd_encryption = plain
[rights]
type = owner_only
[storage]
filesystem_folder = {root}/collections
[web]
type = none
[logging]
level = warning
"""


@dataclass
class RadicaleServer:
    root: Path
    url: str  # http://127.0.0.1:PORT/
    process: subprocess.Popen[bytes]

    def add_user(self, name: str, password: str) -> None:
        with (self.root / "users").open("a") as fh:
            fh.write(f"{name}:{password}\n")


def _start(root: Path) -> RadicaleServer | None:
    for _ in range(3):  # the free port can be taken between probe and bind
        port = free_port()
        conf = root / "radicale.conf"
        conf.write_text(_CONFIG.format(port=port, root=root))
        # The child writes to its own copy of the descriptor: ours is closed at
        # once, not left to a collection that would warn inside another test.
        with (root / "radicale.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "radicale", "--config", str(conf)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                requests.request("PROPFIND", url, timeout=5)
                return RadicaleServer(root, url, proc)
            except requests.RequestException:  # not listening yet, or still importing
                time.sleep(0.05)
        proc.kill()
        proc.wait()
    return None


@pytest.fixture(scope="session")
def radicale_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RadicaleServer]:
    if importlib.util.find_spec("radicale") is None:
        missing_server("Radicale (pip install radicale)")
    root = tmp_path_factory.mktemp("radicale")
    (root / "users").write_text("")
    server = _start(root)
    if server is None:
        missing_server(f"Radicale (did not start; see {root / 'radicale.log'})")
    try:
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@dataclass
class CalendarUser:
    """One fresh Radicale user; helpers to create calendars and objects as a client would."""

    server: RadicaleServer
    name: str
    password: str = field(repr=False)

    @property
    def url(self) -> str:
        return self.server.url

    def _call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> int:
        resp = requests.request(
            method,
            self.server.url.rstrip("/") + path,
            data=body,
            headers=headers,
            auth=(self.name, self.password),
            timeout=10,
        )
        assert resp.status_code < 300, f"{method} {path}: {resp.status_code} {resp.text[:300]}"
        return resp.status_code

    def calendar_path(self, calendar: str) -> str:
        return f"/{self.name}/{calendar}/"

    def make_calendar(self, calendar: str, components: tuple[str, ...] = ("VEVENT",)) -> str:
        comps = "".join(f'<C:comp name="{c}"/>' for c in components)
        body = (
            '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
            'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
            f"<D:displayname>{calendar}</D:displayname>"
            f"<C:supported-calendar-component-set>{comps}</C:supported-calendar-component-set>"
            "</D:prop></D:set></C:mkcalendar>"
        ).encode()
        self._call("MKCALENDAR", self.calendar_path(calendar), body)
        return self.calendar_path(calendar)

    def put(self, calendar: str, name: str, ics: str) -> str:
        path = self.calendar_path(calendar) + name
        self._call("PUT", path, ics.encode(), **{"Content-Type": "text/calendar"})
        return path

    def delete(self, calendar: str, name: str) -> None:
        self._call("DELETE", self.calendar_path(calendar) + name)

    def delete_calendar(self, calendar: str) -> None:
        self._call("DELETE", self.calendar_path(calendar))


@pytest.fixture
def radicale(radicale_server: RadicaleServer) -> CalendarUser:
    user = CalendarUser(radicale_server, f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex)
    radicale_server.add_user(user.name, user.password)
    return user


Rewrite = Callable[[str, str, bytes], bytes]  # method, path, body -> body


class DavProxy:
    """Forwards to Radicale; knobs let a test shape what the client sees."""

    def __init__(self, upstream: str, tls: ssl.SSLContext | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.refuse_sync_status: int | None = None  # answer sync-collection with this
        self.rewrite: Rewrite | None = None
        self.fail_next: list[tuple[int, dict[str, str], bytes]] = []  # answers to give first
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        # (token, Basic header): accept only this bearer token and log in upstream with Basic,
        # as an OAuth-fronted CalDAV service would
        self.bearer: tuple[str, str] | None = None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # keep test output clean
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                proxy.requests.append((self.command, self.path))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                if proxy.bearer is not None:
                    token, basic = proxy.bearer
                    if headers.get("Authorization") != f"Bearer {token}":
                        self._answer(401, b"", {"WWW-Authenticate": "Bearer"})
                        return
                    headers["Authorization"] = basic
                if proxy.fail_next:
                    status, extra, data = proxy.fail_next.pop(0)
                    self._answer(status, data, extra)
                elif proxy.refuse_sync_status and b"sync-collection" in body:
                    self._answer(proxy.refuse_sync_status, b"", {})
                else:
                    self._forward(body, headers)

            def _forward(self, body: bytes, headers: dict[str, str]) -> None:
                upstream = requests.request(
                    self.command,
                    proxy.upstream + self.path,
                    data=body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=30,
                )
                data = upstream.content
                if proxy.rewrite:
                    data = proxy.rewrite(self.command, self.path, data)
                keep = {"content-type", "location", "etag", "retry-after"}
                kept = {k: v for k, v in upstream.headers.items() if k.lower() in keep}
                self._answer(upstream.status_code, data, kept)

            def _answer(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = do_MKCALENDAR = _any

        return Handler


@pytest.fixture
def dav_proxy(radicale: CalendarUser) -> Iterator[DavProxy]:
    proxy = DavProxy(radicale.url)
    try:
        yield proxy
    finally:
        proxy.close()


@dataclass
class TlsProxy:
    proxy: DavProxy
    ca_file: Path  # PEM of the test CA that signed the proxy's certificate


@pytest.fixture
def tls_dav_proxy(radicale: CalendarUser, tmp_path: Path) -> Iterator[TlsProxy]:
    """The proxy over HTTPS with a certificate from a throwaway CA (trustme)."""
    tls = loopback_tls(tmp_path)
    proxy = DavProxy(radicale.url, tls=tls.server_context())
    try:
        yield TlsProxy(proxy, tls.ca)
    finally:
        proxy.close()


def ics_event(
    uid: str,
    start: str,
    *,
    end: str | None = None,
    summary: str = "Meeting",
    organizer: str | None = None,
    attendees: tuple[str, ...] = (),
    sequence: int = 0,
    extra: tuple[str, ...] = (),
    overrides: tuple[str, ...] = (),
) -> str:
    """A VCALENDAR with one VEVENT (plus RECURRENCE-ID ``overrides``), CRLF as RFC 5545 says.

    ``attendees`` are full property lines' values after "ATTENDEE", e.g.
    ``";CN=Ann;PARTSTAT=ACCEPTED:mailto:ann@example.com"``.
    """
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end or start[:9] + '23' + start[11:]}",
        f"SUMMARY:{summary}",
        f"SEQUENCE:{sequence}",
    ]
    if organizer:
        lines.append(f"ORGANIZER{organizer}")
    lines += [f"ATTENDEE{a}" for a in attendees]
    lines += list(extra)
    lines.append("END:VEVENT")
    body = "\r\n".join(lines)
    parts = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//autocapture tests//EN", body]
    parts += list(overrides)
    parts.append("END:VCALENDAR")
    return "\r\n".join(parts) + "\r\n"
