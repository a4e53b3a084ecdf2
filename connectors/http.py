"""The project's one HTTP client: a small seam around a ``requests.Session``.

Why ``requests`` and not ``httpx``: it is already installed through msal,
msal takes a requests session as its ``http_client`` (so Microsoft Graph
tokens and Graph calls will share one TLS and proxy configuration), and its
transport adapters are the seam tests use to count or shape traffic
(``HttpClient.mount``) without patching project code. httpx would be a
second HTTP stack for no capability we need.

What every request gets:

- a timeout (connect, read), always; TLS verification on unless the account
  says otherwise (``verify`` may also be a CA bundle path);
- ``trust_env = False``: no ``.netrc`` credentials and no proxy or CA bundle
  picked up silently from the environment of whoever started the service;
- a cap on the body read (``ResponseTooLarge``), counted after decompression;
- redirects followed here, method and body kept (WebDAV re-issues PROPFIND and
  REPORT), never downgrading to plain HTTP on another origin.

Errors (``connectors.base`` hierarchy; messages carry method, origin and path,
never headers, bodies, query strings or credentials)::

    401                              -> AuthError
    429, 5xx, timeout, connection    -> TransientError(retry_after), retried here
                                        (not 501: "not implemented" will not heal)
    TLS verification failure         -> ConfigurationError (retrying cannot help)
    body over max_response_bytes     -> ResponseTooLarge
    any other status                 -> returned; the caller interprets it
                                        (``refusal`` maps what it cannot use)

A 403 is returned rather than raised because WebDAV puts preconditions such
as ``DAV:valid-sync-token`` in 403 bodies (RFC 6578 section 3.2).
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type

from connectors.base import AuthError, ConfigurationError, ConnectorError, TransientError

log = logging.getLogger("autocapture.http")

TokenSource = Callable[[], str]  # resolves a secret at request time, never stored in clear
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class ResponseTooLarge(ConnectorError):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what}: response larger than {limit} bytes")
        self.limit = limit


class UnexpectedStatus(ConnectorError):
    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: unexpected HTTP status {status}")
        self.status = status


@dataclass(frozen=True, slots=True)
class BasicAuth(requests.auth.AuthBase):
    """RFC 7617 Basic; the password is resolved per request and never printed."""

    username: str
    password: TokenSource = field(repr=False)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        # UTF-8 credentials (RFC 7617 2.1, the charset every current server expects)
        pair = f"{self.username}:{self.password()}".encode()
        r.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return r


@dataclass(frozen=True, slots=True)
class BearerAuth(requests.auth.AuthBase):
    """RFC 6750 bearer token from a provider (msal caches and refreshes it)."""

    token: TokenSource = field(repr=False)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token()}"
        return r


Auth = BasicAuth | BearerAuth


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds on retrying transient failures inside one call.

    A Retry-After longer than ``max_wait`` is not slept here: the error goes
    up with ``retry_after`` so the agent reschedules instead of blocking a worker.
    """

    attempts: int = 4
    backoff: float = 0.5  # first wait without Retry-After; doubles, with jitter
    max_wait: float = 30.0  # longest single wait
    total_wait: float = 60.0  # longest sum of waits for one call


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    url: str
    headers: Mapping[str, str]  # lower-cased names
    body: bytes


def describe(url: str) -> str:
    """scheme://host[:port]/path: what error messages may show of a URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def refusal(response: HttpResponse, what: str) -> ConnectorError:
    """The error for a status the caller cannot use: 403 is a refusal of these credentials."""
    if response.status == 403:
        return AuthError(f"{what}: access forbidden (HTTP 403)")
    return UnexpectedStatus(what, response.status)


class HttpClient:
    """One session, its credentials, timeouts, retry bounds and body cap."""

    def __init__(
        self,
        *,
        auth: Auth | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = 32 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = requests.Session()
        self._session.trust_env = False
        self._auth = auth
        self._verify = verify
        self._timeout = (min(timeout, 10.0), timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.max_response_bytes = max_response_bytes

    def __repr__(self) -> str:
        return f"HttpClient(auth={type(self._auth).__name__}, verify={self._verify!r})"

    def mount(self, prefix: str, adapter: BaseAdapter) -> None:
        """Route URLs starting with ``prefix`` through ``adapter`` (the transport seam)."""
        self._session.mount(prefix, adapter)

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        max_bytes: int | None = None,
    ) -> HttpResponse:
        """Send with retries; any status but 401/429/5xx (501 excepted) comes back to the caller."""
        retrying = Retrying(
            sleep=self._sleep,
            stop=self._should_stop,
            wait=self._wait,
            retry=retry_if_exception_type(TransientError),
            reraise=True,
            before_sleep=lambda s: log.info(
                "%s %s: retry %d after transient failure", method, describe(url), s.attempt_number
            ),
        )
        call = _Call(method, url, headers or {}, body, max_bytes or self.max_response_bytes)
        response: HttpResponse = retrying(self._follow, call)
        return response

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        backoff = self._retry.backoff * 2.0 ** (state.attempt_number - 1)
        return min(self._retry.max_wait, backoff * random.uniform(1.0, 1.5))

    def _should_stop(self, state: RetryCallState) -> bool:
        upcoming = state.upcoming_sleep
        return (
            state.attempt_number >= self._retry.attempts
            or upcoming > self._retry.max_wait
            or state.idle_for + upcoming > self._retry.total_wait
        )

    def _follow(self, call: _Call) -> HttpResponse:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(call)
            location = response.headers.get("location")
            if response.status not in (301, 302, 307, 308) or not location:
                return response
            target = urljoin(call.url, location)
            _check_redirect(call.url, target)
            call = replace(call, url=target)
        raise UnexpectedStatus(f"{call.what}: too many redirects", 310)

    def _send_once(self, call: _Call) -> HttpResponse:
        if self._verify is False:
            _warn_unverified(call.url)
        try:
            raw = self._session.request(
                call.method,
                call.url,
                headers=dict(call.headers),
                data=call.body,
                auth=self._auth,
                timeout=self._timeout,
                verify=self._verify,
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.SSLError:
            raise ConfigurationError(f"{call.what}: TLS verification failed") from None
        except requests.exceptions.Timeout:
            raise TransientError(f"{call.what}: timed out") from None
        except requests.exceptions.ConnectionError:
            raise TransientError(f"{call.what}: connection failed") from None
        with raw:
            status = raw.status_code
            if status == 401:
                raise AuthError(f"{call.what}: credentials refused (HTTP 401)")
            if status == 429 or (status >= 500 and status != 501):
                retry_after = parse_retry_after(raw.headers.get("retry-after"))
                raise TransientError(f"{call.what}: HTTP {status}", retry_after=retry_after)
            return HttpResponse(
                status=status,
                url=call.url,
                headers={k.lower(): v for k, v in raw.headers.items()},
                body=_read_capped(raw, call.limit, call.what),
            )


_unverified_warned: set[str] = set()
_unverified_lock = threading.Lock()


def _warn_unverified(url: str) -> None:
    """Say once per origin, through our logger, that certificates go unchecked.

    urllib3 would print an InsecureRequestWarning on every request, burying
    the log of a long-running agent; the account chose this (verify_tls:
    false), so one clear line per origin is enough.
    """
    parts = urlsplit(url)
    if parts.scheme != "https":
        return
    # Re-added each time: the filter list is global and others may reset it.
    warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
    origin = describe(f"{parts.scheme}://{parts.netloc}/")
    with _unverified_lock:
        if origin in _unverified_warned:
            return
        _unverified_warned.add(origin)
    log.warning(
        "%s: TLS certificates are NOT verified (verify_tls: false); "
        "trust the server's CA with ca_file instead",
        origin,
    )


@dataclass(frozen=True, slots=True)
class _Call:
    """One request as retried and redirected: everything but the session."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    limit: int

    @property
    def what(self) -> str:
        return f"{self.method} {describe(self.url)}"


def _read_capped(raw: requests.Response, limit: int, what: str) -> bytes:
    declared = raw.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(what, limit)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in raw.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(what, limit)
            chunks.append(chunk)
    except requests.exceptions.RequestException:
        raise TransientError(f"{what}: body interrupted") from None
    return b"".join(chunks)


def _check_redirect(source: str, target: str) -> None:
    """Credentials follow a redirect only to the same origin or to HTTPS (RFC 6764 lets
    /.well-known/caldav point at another host)."""
    a, b = urlsplit(source), urlsplit(target)
    same_origin = (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    if b.scheme not in ("http", "https") or (not same_origin and b.scheme != "https"):
        raise ConfigurationError(f"{describe(source)}: refusing redirect to {describe(target)}")
