"""The project's one HTTP client: a small seam around a ``requests.Session``.

Why ``requests`` and not ``httpx``: one HTTP stack serves CalDAV/WebDAV and
the REST connectors to come (Gmail, Google Calendar, Microsoft Graph); the
Microsoft identity library (msal) accepts a requests session as its
``http_client``, so tokens and Graph calls can share one TLS and proxy
configuration; and requests' transport adapters are the seam tests use to
count or shape traffic (``HttpClient.mount``) without patching project
code. httpx would be a second HTTP stack for no capability we need.

What every request gets:

- a timeout (connect, read), always; TLS verification on unless the account
  says otherwise (``verify`` may also be a CA bundle path);
- ``trust_env = False``: no ``.netrc`` credentials and no proxy or CA bundle
  picked up silently from the environment of whoever started the service;
- a cap on the body read (``ResponseTooLarge``), counted after decompression;
- redirects followed here, method and body kept (WebDAV re-issues PROPFIND and
  REPORT), and with them the credentials: so a redirect may leave the origin
  only for a host the account lists (``allowed_redirect_hosts``), never from
  HTTPS down to HTTP; any other is a ``ConfigurationError`` and nothing is
  sent there.

Errors (``connectors.base`` hierarchy; messages carry method, origin and path,
never headers, bodies, query strings or credentials)::

    401                              -> the bearer token source refreshes once and the
                                        request goes again; a second 401 (or a
                                        Basic one) -> AuthError
    429, 5xx, timeout, connection    -> TransientError(retry_after), retried here
                                        (not 501: "not implemented" will not heal)
    403 that is a rate limit         -> TransientError, retried here (Google's
                                        rateLimitExceeded, or any Retry-After)
    TLS verification failure         -> ConfigurationError (retrying cannot help)
    body over max_response_bytes     -> ResponseTooLarge
    any other status                 -> returned; the caller interprets it
                                        (``refusal``: 403 -> PermissionDenied,
                                        others -> UnexpectedStatus)

Any other 403 is returned rather than raised because WebDAV puts
preconditions such as ``DAV:valid-sync-token`` in 403 bodies (RFC 6578
section 3.2).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import warnings
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import BaseAdapter

from connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    PermissionDenied,
    ResponseTooLarge,
    TransientError,
    UnexpectedStatus,
)
from connectors.credentials import TokenSource
from connectors.retry import RetryPolicy, parse_retry_after, retrying

log = logging.getLogger("autocapture.http")

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class BasicAuth(requests.auth.AuthBase):
    """RFC 7617 Basic; the password is resolved per request and never printed."""

    username: str
    password: Callable[[], str] = field(repr=False)  # read at each request, never kept

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        # UTF-8 credentials (RFC 7617 2.1, the charset every current server expects)
        pair = f"{self.username}:{self.password()}".encode()
        r.headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        return r


@dataclass(frozen=True, slots=True)
class BearerAuth(requests.auth.AuthBase):
    """RFC 6750 bearer token from a ``TokenSource``, asked for a fresh one after a 401."""

    source: TokenSource = field(repr=False)

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.source.token()}"
        return r

    def refreshed(self, refused: requests.PreparedRequest) -> bool:
        """Whether the source has a token other than the one ``refused`` carried."""
        sent = (refused.headers.get("Authorization") or "").removeprefix("Bearer ")
        return self.source.refresh() != sent


Auth = BasicAuth | BearerAuth


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


def refusal(response: HttpResponse, what: str) -> ConnectorError:
    """The error for a status the caller cannot use.

    A 403 that reaches a caller is no rate limit (``HttpClient`` retries
    those): the server knows the credentials and refuses them this resource,
    which signing in again cannot change, so it is not an ``AuthError``.
    """
    if response.status == 403:
        return PermissionDenied(
            f"{what}: access forbidden (HTTP 403); the account lacks permission for it"
        )
    return UnexpectedStatus(what, response.status)


# Rate limits that come as 403. Google APIs name one of these reasons in
# ``error.errors[].reason`` (or ``error.status`` RESOURCE_EXHAUSTED in the newer
# format); Microsoft Graph and Outlook name a throttling ``error.code``, mostly
# with 429 but not always. Every other 403 is a missing permission or scope.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
RATE_LIMIT_CODES = frozenset(
    {"TooManyRequests", "ApplicationThrottled", "MailboxConcurrency", "activityLimitReached"}
)


def is_rate_limit(status: int, headers: Mapping[str, str], body: bytes) -> bool:
    """Whether a 403 says "slow down" rather than "not allowed"."""
    if status != 403:
        return False
    if "retry-after" in headers:  # "come back later" is no permanent refusal
        return True
    error = _json_error(body)
    details = error.get("errors")
    reasons = (
        {d.get("reason") for d in details if isinstance(d, dict)}
        if isinstance(details, list)
        else set()
    )
    return (
        bool(reasons & RATE_LIMIT_REASONS)
        or error.get("status") == "RESOURCE_EXHAUSTED"
        or error.get("code") in RATE_LIMIT_CODES
    )


def _json_error(body: bytes) -> dict[str, object]:
    """The ``error`` object of a JSON error body (Google, Graph); empty if there is none."""
    if not body.lstrip().startswith(b"{"):
        return {}
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


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
        allowed_redirect_hosts: Collection[str] = (),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._session = _Session(timeout=(min(timeout, 10.0), timeout), verify=verify)
        self._auth = auth
        self._verify = verify
        self._timeout = (min(timeout, 10.0), timeout)
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self.max_response_bytes = max_response_bytes
        # "host" or "host:port" entries a redirect may leave the origin for
        self.allowed_redirect_hosts = frozenset(allowed_redirect_hosts)

    def __repr__(self) -> str:
        return f"HttpClient(auth={type(self._auth).__name__}, verify={self._verify!r})"

    @property
    def session(self) -> requests.Session:
        """The session itself, for a client library that takes one (msal's ``http_client``):
        its requests then share this client's TLS trust, timeouts and connection pool."""
        return self._session

    def use_bearer(self, source: TokenSource) -> None:
        """Send ``source``'s bearer token from now on: for a source that needs ``session``
        itself (msal), so cannot exist before this client does."""
        self._auth = BearerAuth(source)

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
        retry = retrying(
            self._retry,
            TransientError,
            sleep=self._sleep,
            before_sleep=lambda s: log.info(
                "%s %s: retry %d after transient failure", method, describe(url), s.attempt_number
            ),
        )
        call = _Call(method, url, headers or {}, body, max_bytes or self.max_response_bytes)
        response: HttpResponse = retry(self._follow, call)
        return response

    def _follow(self, call: _Call) -> HttpResponse:
        for _ in range(MAX_REDIRECTS + 1):
            response = self._send_once(call)
            location = response.headers.get("location")
            if response.status not in (301, 302, 307, 308) or not location:
                return response
            target = urljoin(call.url, location)
            check_redirect(call.url, target, self.allowed_redirect_hosts)
            call = replace(call, url=target)
        raise UnexpectedStatus(f"{call.what}: too many redirects", 310)

    def _send_once(self, call: _Call) -> HttpResponse:
        """One request; after a 401, once more if the token source has a fresh token."""
        raw = self._open(call)
        with raw:
            status = raw.status_code
            if status != 401:
                return self._read(call, raw)
            if call.refreshed or not isinstance(self._auth, BearerAuth):
                raise AuthError(f"{call.what}: credentials refused (HTTP 401)")
            if not self._auth.refreshed(raw.request):
                raise AuthError(f"{call.what}: credentials refused (HTTP 401), none fresher")
        log.info("%s: token refused; sending once more with a fresh one", call.what)
        return self._send_once(replace(call, refreshed=True))

    def _open(self, call: _Call) -> requests.Response:
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
        return raw

    def _read(self, call: _Call, raw: requests.Response) -> HttpResponse:
        status = raw.status_code
        headers = {k.lower(): v for k, v in raw.headers.items()}
        retry_after = parse_retry_after(headers.get("retry-after"))
        if status == 429 or (status >= 500 and status != 501):
            raise TransientError(f"{call.what}: HTTP {status}", retry_after=retry_after)
        body = _read_capped(raw, call.limit, call.what)
        if is_rate_limit(status, headers, body):
            raise TransientError(f"{call.what}: HTTP 403 rate limit", retry_after=retry_after)
        return HttpResponse(status=status, url=call.url, headers=headers, body=body)


class _Session(requests.Session):
    """A session whose every request has a timeout and the account's TLS trust, also when
    a library (msal) sends it: requests itself has no session-wide timeout."""

    def __init__(self, timeout: tuple[float, float], verify: bool | str) -> None:
        super().__init__()
        self.trust_env = False  # no .netrc, proxy or CA bundle from the environment
        self.verify = verify
        self.default_timeout = timeout

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


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
    refreshed: bool = False  # a 401 already made the token source refresh once

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


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


def _host_entry(host: str, port: int | None) -> tuple[str, str]:
    """("host", "host:port") as an allowed_redirect_hosts entry may name a URL's host."""
    shown = f"[{host}]" if ":" in host else host
    return shown, f"{shown}:{port}"


def check_redirect(source: str, target: str, allowed_hosts: Collection[str] = ()) -> None:
    """Credentials follow a redirect only within the origin, or to a host the account
    lists (RFC 6764 lets /.well-known/caldav point at another host of the provider),
    and never from HTTPS down to plain HTTP."""
    (a_scheme, a_host, a_port), (b_scheme, b_host, b_port) = _origin(source), _origin(target)
    if b_scheme not in ("http", "https") or not b_host:
        raise ConfigurationError(f"{describe(source)}: refusing redirect to {describe(target)}")
    if (a_scheme, a_host, a_port) == (b_scheme, b_host, b_port):
        return
    listed = not set(_host_entry(b_host, b_port)).isdisjoint(allowed_hosts)
    if listed and not (a_scheme == "https" and b_scheme == "http"):
        return
    raise ConfigurationError(
        f"{describe(source)}: the server redirects to another origin, {describe(target)}, "
        "where the account's credentials are not sent; if that host belongs to the same "
        "provider, add it to allowed_redirect_hosts"
    )
