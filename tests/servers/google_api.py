"""A stateful, wire-faithful fake of the Gmail API, the Calendar API and Google's token endpoint.

One loopback HTTP server (``http://127.0.0.1:PORT/``) stands in for
``gmail.googleapis.com``, ``www.googleapis.com``, ``oauth2.googleapis.com``
and the consent page of ``accounts.google.com`` (``auth_uri``,
``google_consent``);
point the client at it with ``document_at(api, fake.url)`` and
``build_from_document`` (the shipped documents' ``rootUrl`` moved: batch
requests go to ``rootUrl + batchPath``, which ``client_options`` would not
move). Routes, parameters and response schemas come from those documents
(``google_discovery``); state lives per user in ``google_gmail.Mailbox``
and ``google_calendar.Calendars``; tokens in ``google_oauth``.

The request path is ``handle(method, target, headers, body)``, the same for
a plain request and for each part of a batch, so bearer checks, parameter
checks, faults and the request log see batch parts exactly as requests.

Batch (``POST /batch``, ``/batch/gmail/v1``, ``/batch/calendar/v3``):
multipart/mixed of ``application/http`` parts; each answer part echoes the
request's ``Content-ID`` as ``<response-ID>`` with its own status line;
more than 100 parts is refused, as the API documents; all parts must go to
one API.

Faults (``fake.faults.add``): the next N requests, optionally only those
whose path matches a pattern and only inside or outside a batch, answer
429 with Retry-After, 403 rateLimitExceeded, 500 backendError, or (outside a
batch) a dropped connection.
"""

from __future__ import annotations

import email.message
import email.parser
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.servers.google_calendar import Calendars
from tests.servers.google_discovery import ApiError, Method, document_at, methods, select
from tests.servers.google_gmail import Mailbox
from tests.servers.google_oauth import TokenAuthority

CONSENT_PATH = "/o/oauth2/auth"  # accounts.google.com's authorization endpoint
MAX_BATCH_PARTS = 100  # "You're limited to 100 calls in a single batch request."
BATCH_PATHS = {"/batch": None, "/batch/gmail/v1": "gmail", "/batch/calendar/v3": "calendar"}
DROP = object()  # an answer that closes the connection without a response


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of_json(cls, status: int, value: Any, headers: Mapping[str, str] | None = None) -> Answer:
        data = json.dumps(value, indent=2).encode()
        return cls(
            status, {"Content-Type": "application/json; charset=UTF-8", **(headers or {})}, data
        )


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    in_batch: bool
    at: float = field(default_factory=time.monotonic)  # when it arrived, for pace figures


@dataclass
class Fault:
    kind: str  # "429", "403", "500" or "drop"
    count: int
    path: re.Pattern[str] | None
    in_batch: bool | None  # None: wherever the request comes
    retry_after: int

    def answer(self, path: str) -> Answer | object:
        if self.kind == "drop":
            return DROP
        error = {
            "429": ApiError(
                429,
                "Too many concurrent requests for user.",
                "rateLimitExceeded",
                "usageLimits",
                headers={"Retry-After": str(self.retry_after)},
            ),
            "403": ApiError(403, "Rate Limit Exceeded", "rateLimitExceeded", "usageLimits"),
            "500": ApiError(500, "Backend Error", "backendError"),
        }[self.kind]
        api = "calendar" if path.startswith(("/calendar/", "/batch/calendar/")) else "gmail"
        return Answer.of_json(error.code, error.body(api), error.headers)


@dataclass
class Faults:
    pending: list[Fault] = field(default_factory=list)

    def add(
        self,
        kind: str,
        count: int = 1,
        path: str | None = None,
        in_batch: bool | None = None,
        retry_after: int = 1,
    ) -> None:
        if kind not in ("429", "403", "500", "drop"):
            raise ValueError(kind)
        if kind == "drop" and in_batch:
            raise ValueError("a batch part cannot drop the connection")
        pattern = re.compile(path) if path else None
        self.pending.append(Fault(kind, count, pattern, in_batch, retry_after))

    def take(self, path: str, in_batch: bool) -> Fault | None:
        for fault in self.pending:
            if fault.in_batch not in (None, in_batch) or (fault.kind == "drop" and in_batch):
                continue
            if fault.path is None or fault.path.search(path):
                fault.count -= 1
                if fault.count <= 0:
                    self.pending.remove(fault)
                return fault
        return None


@dataclass
class User:
    mailbox: Mailbox
    calendars: Calendars


class GoogleApiFake:
    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self.auth = TokenAuthority(self.url + "token")
        self.auth_uri = self.url + CONSENT_PATH.lstrip("/")
        self.faults = Faults()
        self.log: list[LoggedRequest] = []
        self.users: dict[str, User] = {}
        self.lock = threading.Lock()  # one request at a time changes state
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def user(self, address: str) -> User:
        if address not in self.users:
            self.users[address] = User(Mailbox(address), Calendars(address))
        return self.users[address]

    def document(self, api: str) -> dict[str, Any]:
        return document_at(api, self.url)

    def requests(self, path: str = "", in_batch: bool | None = None) -> list[LoggedRequest]:
        """Logged requests whose path matches ``path`` (a regular expression)."""
        return [
            r
            for r in self.log
            if re.search(path, r.path) and in_batch in (None, r.in_batch)
        ]  # fmt: skip

    # ------------------------------------------------------------ dispatch

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, in_batch: bool
    ) -> Answer | object:
        split = urlsplit(target)
        path = split.path
        query = parse_qs(split.query, keep_blank_values=True)
        with self.lock:
            self.log.append(LoggedRequest(method, path, query, dict(headers), in_batch))
            fault = self.faults.take(path, in_batch)
        if fault is not None:
            return fault.answer(path)
        if method == "POST" and path == "/token" and not in_batch:
            with self.lock:
                status, value = self.auth.token(body, headers.get("authorization"))
            return Answer.of_json(status, value)
        if method == "GET" and path == CONSENT_PATH and not in_batch:
            with self.lock:
                page = self.auth.consent.page(query)
            moved = {"Location": page.location} if page.location else {}
            text = {"Content-Type": "text/plain; charset=UTF-8"}
            return Answer(page.status, {**text, **moved}, page.text.encode())
        if method == "POST" and path in BATCH_PATHS and not in_batch:
            return self._batch(BATCH_PATHS[path], headers, body)
        found = _route(method, path)
        if found is None:
            return Answer.of_json(404, ApiError(404, "Not Found", "notFound").body("gmail"))
        api_method, params = found
        try:
            with self.lock:
                value = self._call(api_method, params, query, headers)
        except ApiError as exc:
            return Answer.of_json(exc.code, exc.body(api_method.api), exc.headers)
        return Answer.of_json(200, value)

    def _call(
        self,
        method: Method,
        params: dict[str, str],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
    ) -> Any:
        address = self.auth.user_of(headers.get("authorization"))
        method.check_query(query)
        user_id = params.pop("userId", "me")
        if user_id not in ("me", address):
            raise ApiError(403, f"Delegation denied for {address}", "forbidden")
        handler = _HANDLERS.get(method.id)
        if handler is None:
            raise ApiError(501, f"the fake does not implement {method.id}", "notImplemented")
        value = handler(self.user(address), query, *params.values())
        fields = query.get("fields")
        if fields and method.response:
            value = select(method.api, method.response, value, fields[0])
        return value

    def _batch(self, api: str | None, headers: Mapping[str, str], body: bytes) -> Answer:
        ctype = headers.get("content-type", "")
        if not ctype.startswith("multipart/mixed"):
            return _bad_batch("Content-Type must be multipart/mixed")
        whole = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body
        )
        parts = whole.get_payload()
        if not isinstance(parts, list) or not parts:
            return _bad_batch("no parts")
        if len(parts) > MAX_BATCH_PARTS:
            return _bad_batch(f"too many requests in a batch: {len(parts)} > {MAX_BATCH_PARTS}")
        boundary = "batch_" + secrets.token_urlsafe(12)
        out: list[bytes] = []
        apis = set()
        for part in parts:
            assert isinstance(part, email.message.Message)
            method, target, part_headers, part_body = _inner_request(part.get_payload())
            found = _route(method, urlsplit(target).path)
            apis.add(found[0].api if found else None)
            merged = {k: v for k, v in headers.items() if not k.startswith("content-")}
            merged.update(part_headers)
            answer = self.handle(method, target, merged, part_body, in_batch=True)
            assert isinstance(answer, Answer)
            out.append(_answer_part(boundary, part.get("Content-ID", ""), answer))
        if len(apis) > 1 or (api is not None and apis != {api}):
            return _bad_batch("all requests in a batch must go to the same API")
        data = b"".join(out) + f"--{boundary}--\r\n".encode()
        return Answer(200, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, data)


def _bad_batch(message: str) -> Answer:
    return Answer.of_json(400, ApiError(400, message, "badRequest").body("gmail"))


def _inner_request(payload: Any) -> tuple[str, str, dict[str, str], bytes]:
    text = payload if isinstance(payload, str) else bytes(payload).decode()
    line, _, rest = text.partition("\n")
    method, target, _ = line.strip().split(" ", 2)
    inner = email.parser.Parser().parsestr(rest)
    headers = {k.lower(): v for k, v in inner.items()}
    body = inner.get_payload()
    return method, target, headers, (body if isinstance(body, str) else "").encode()


def _answer_part(boundary: str, content_id: str, answer: Answer) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden"}
    reason |= {
        404: "Not Found",
        410: "Gone",
        429: "Too Many Requests",
        500: "Internal Server Error",
    }
    lines = [f"--{boundary}", "Content-Type: application/http"]
    if content_id:
        lines.append(f"Content-ID: <response-{content_id.strip().strip('<>')}>")
    lines += ["", f"HTTP/1.1 {answer.status} {reason.get(answer.status, 'Error')}"]
    lines += [f"{k}: {v}" for k, v in answer.headers.items()]
    lines += [f"Content-Length: {len(answer.body)}", "", ""]
    return "\r\n".join(lines).encode() + answer.body + b"\r\n"


def _route(method: str, path: str) -> tuple[Method, dict[str, str]] | None:
    for api in ("gmail", "calendar"):
        for candidate in methods(api):
            match = candidate.pattern.fullmatch(path)
            if match and candidate.http_method == method:
                return candidate, {k: unquote(v) for k, v in match.groupdict().items()}
    return None


_HANDLERS: dict[str, Callable[..., Any]] = {
    "gmail.users.getProfile": lambda u, q: u.mailbox.get_profile(q),
    "gmail.users.labels.list": lambda u, q: u.mailbox.list_labels(q),
    "gmail.users.messages.list": lambda u, q: u.mailbox.list_messages(q),
    "gmail.users.messages.get": lambda u, q, i: u.mailbox.get_message(q, i),
    "gmail.users.history.list": lambda u, q: u.mailbox.list_history(q),
    "calendar.calendarList.list": lambda u, q: u.calendars.list_calendars(q),
    "calendar.events.list": lambda u, q, c: u.calendars.list_events(q, c),
}


def _handler(fake: GoogleApiFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = fake.handle(self.command, self.path, headers, body, in_batch=False)
            if not isinstance(answer, Answer):
                self.close_connection = True
                return
            self.send_response(answer.status)
            for key, value in answer.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    return Handler


@pytest.fixture
def google_api() -> Iterator[GoogleApiFake]:
    fake = GoogleApiFake()
    try:
        yield fake
    finally:
        fake.close()
