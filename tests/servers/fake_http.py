"""A loopback HTTP(S) server for wire-faithful fakes of REST APIs (Gmail, Graph, ...).

A fake is a set of routes, each a plain function from ``Request`` to
``Response`` over whatever state the fake keeps::

    server = FakeHttpServer()
    server.route("GET", "/v1/users/{user}/messages/{id}", get_message)
    server.fail(Fault.answer(429, {"Retry-After": "1"}), times=2, path="/v1/users/{user}/messages")

The server is real HTTP/1.1 on 127.0.0.1 with keep-alive, so the client
libraries under test (requests, google-api-python-client, msal) see what
they see in production: connection reuse, a socket closed mid-exchange,
TLS that must verify against a CA they were told to trust.

Faults are queued per request: the next ``times`` requests that match
answer with the fault instead of the route (a status with headers and
body, or a dropped connection), which is how a test shows that a client
honours Retry-After or survives a reset. Every request, faulted or not,
lands in ``log`` in arrival order for the test to assert on.

A route that raises answers 500 and its exception is kept in
``handler_errors``; the ``fake_http`` fixture fails the test if any is
left, so a broken fake never passes for a client that tolerates 500s.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.servers.tls import TlsFiles, loopback_tls


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string, still percent-encoded
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    params: Mapping[str, str] = field(default_factory=dict)  # the route's {name} segments

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        """The first value of query parameter ``name``."""
        values = self.query.get(name)
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Response:
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def json(
        cls, value: Any, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Response:
        extra = {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}
        return cls(status, extra, json.dumps(value).encode())


Handler = Callable[[Request], Response]


@dataclass(frozen=True)
class Fault:
    """What a faulted request gets: an answer, or the connection closed without one."""

    response: Response | None  # None: drop the connection

    @classmethod
    def answer(
        cls, status: int, headers: Mapping[str, str] | None = None, body: bytes = b""
    ) -> Fault:
        return cls(Response(status, dict(headers or {}), body))

    @classmethod
    def drop(cls) -> Fault:
        return cls(None)


def compile_path(pattern: str) -> re.Pattern[str]:
    """``/a/{name}/b`` matches one segment per ``{name}``; ``{name:path}`` matches the rest."""
    parts = re.split(r"(\{\w+(?::path)?\})", pattern)
    regex = ""
    for part in parts:
        if match := re.fullmatch(r"\{(\w+)(:path)?\}", part):
            regex += f"(?P<{match[1]}>.+)" if match[2] else f"(?P<{match[1]}>[^/]+)"
        else:
            regex += re.escape(part)
    return re.compile(regex)


@dataclass
class _Queued:
    fault: Fault
    remaining: int
    method: str | None
    path: re.Pattern[str] | None

    def takes(self, method: str, path: str) -> bool:
        if self.method is not None and method != self.method:
            return False
        return self.path is None or self.path.fullmatch(path) is not None


class FakeHttpServer:
    """Routes, queued faults and a request log behind a threaded loopback server."""

    def __init__(self, tls: TlsFiles | None = None) -> None:
        self.log: list[Request] = []
        self.ca_file = tls.ca if tls is not None else None  # what a client must trust
        self.handler_errors: list[str] = []
        # Seconds every answer waits, as a distant server's would: lets a crash
        # test kill a client half-way through a capture that would end too soon.
        self.latency = 0.0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: list[_Queued] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        if tls is not None:
            context = tls.server_context()
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        with self._lock:
            self._routes.append((method.upper(), compile_path(pattern), handler))

    def fail(
        self, fault: Fault, times: int = 1, method: str | None = None, path: str | None = None
    ) -> None:
        """The next ``times`` requests matching ``method`` and ``path`` (a route pattern) get ``fault``."""
        compiled = compile_path(path) if path is not None else None
        with self._lock:
            self._faults.append(_Queued(fault, times, method and method.upper(), compiled))

    @property
    def faults_left(self) -> int:
        """Faulted answers queued and not yet served."""
        with self._lock:
            return sum(q.remaining for q in self._faults)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Request]:
        """The logged requests matching ``method`` and ``path`` (a route pattern), in order."""
        compiled = compile_path(path) if path is not None else None
        with self._lock:
            logged = list(self.log)
        return [
            r
            for r in logged
            if (method is None or r.method == method.upper())
            and (compiled is None or compiled.fullmatch(r.path))
        ]

    def respond(self, request: Request) -> Fault | Response:
        """The fault queued for ``request``, else its route's response (a 404 without one)."""
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            self.log.append(request)
            for queued in self._faults:
                if queued.takes(request.method, request.path):
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._faults.remove(queued)
                    return queued.fault
            routes = list(self._routes)
        for method, pattern, handler in routes:
            match = pattern.fullmatch(request.path)
            if method == request.method and match:
                return self._call(handler, request, match.groupdict())
        return Response.json({"error": {"code": 404, "message": "no such route"}}, 404)

    def _call(self, handler: Handler, request: Request, params: dict[str, str]) -> Response:
        try:
            return handler(replace(request, params=params))
        except Exception:
            with self._lock:
                self.handler_errors.append(traceback.format_exc())
            return Response.json({"error": {"code": 500, "message": "fake failed"}}, 500)


def _handler_class(server: FakeHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the real APIs

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _any(self) -> None:
            url = urlsplit(self.path)
            request = Request(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query, keep_blank_values=True),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=_read_body(self),
            )
            answer = server.respond(request)
            if isinstance(answer, Fault):
                if answer.response is None:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                answer = answer.response
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _any

    return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while size := int(handler.rfile.readline().split(b";")[0], 16):
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()  # the CRLF after each chunk
        while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(chunks)
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


@contextmanager
def _serving(server: FakeHttpServer) -> Iterator[FakeHttpServer]:
    try:
        yield server
    finally:
        server.close()
    assert server.handler_errors == [], "a fake's route raised:\n" + "\n".join(
        server.handler_errors
    )


@pytest.fixture
def fake_http() -> Iterator[FakeHttpServer]:
    """A plain-HTTP fake; the test adds its routes."""
    with _serving(FakeHttpServer()) as server:
        yield server


@pytest.fixture
def fake_https(tmp_path: Path) -> Iterator[FakeHttpServer]:
    """The fake over HTTPS; ``ca_file`` is the PEM of the CA that signed its certificate."""
    with _serving(FakeHttpServer(loopback_tls(tmp_path))) as server:
        yield server
