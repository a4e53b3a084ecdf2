"""The HTTP seam: error mapping, retries with Retry-After, caps, redirects, credentials.

A scripted transport adapter stands in for the network (the seam
``HttpClient.mount`` exists for this); waits go to a recorder instead of sleeping.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from connectors.base import (
    AuthError,
    ConfigurationError,
    PermissionDenied,
    ResponseTooLarge,
    TransientError,
)
from connectors.credentials import ReadSecret
from connectors.http import (
    BasicAuth,
    BearerAuth,
    HttpClient,
    refusal,
)
from connectors.retry import RetryPolicy, parse_retry_after
from tests.tokens import RotatingTokens

Step = Callable[[requests.PreparedRequest], requests.Response] | Exception


def answer(status: int, body: bytes = b"", **headers: str) -> Step:
    def build(request: requests.PreparedRequest) -> requests.Response:
        resp = requests.Response()
        resp.status_code = status
        resp.headers = CaseInsensitiveDict({k.replace("_", "-"): v for k, v in headers.items()})
        resp.raw = io.BytesIO(body)
        resp.url = request.url or ""
        resp.request = request
        return resp

    return build


class Script(BaseAdapter):
    """Plays one step per request and keeps what was sent."""

    def __init__(self, *steps: Step) -> None:
        super().__init__()
        self.steps = list(steps)
        self.sent: list[requests.PreparedRequest] = []
        self.timeouts: list[object] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[no-untyped-def]
        self.sent.append(request)
        self.timeouts.append(timeout)
        step = self.steps.pop(0)
        if isinstance(step, Exception):
            raise step
        return step(request)

    def close(self) -> None:
        pass


def client_with(script: Script, **kwargs: object) -> tuple[HttpClient, list[float]]:
    waits: list[float] = []
    client = HttpClient(sleep=waits.append, **kwargs)  # type: ignore[arg-type]
    client.mount("https://dav.test/", script)
    return client, waits


def test_ok_response_comes_back_with_body_headers_and_timeout() -> None:
    script = Script(answer(207, b"<x/>", Content_Type="application/xml"))
    client, waits = client_with(script, timeout=12.0)
    resp = client.request("PROPFIND", "https://dav.test/cal/", body=b"<p/>")
    assert (resp.status, resp.body, resp.headers["content-type"]) == (
        207,
        b"<x/>",
        "application/xml",
    )
    assert script.sent[0].method == "PROPFIND" and script.sent[0].body == b"<p/>"
    assert script.timeouts == [(10.0, 12.0)]
    assert waits == []


def test_503_then_429_with_retry_after_are_retried_honouring_the_header() -> None:
    script = Script(answer(503), answer(429, Retry_After="7"), answer(200, b"done"))
    client, waits = client_with(script)
    resp = client.request("GET", "https://dav.test/x")
    assert resp.body == b"done"
    assert len(script.sent) == 3
    assert 0.5 <= waits[0] <= 0.75  # first backoff: 0.5 s with up to 50% jitter
    assert waits[1] == 7.0


def test_retries_stop_after_the_attempt_bound() -> None:
    script = Script(*[answer(502) for _ in range(3)])
    client, waits = client_with(script, retry=RetryPolicy(attempts=3))
    with pytest.raises(TransientError, match="HTTP 502"):
        client.request("GET", "https://dav.test/x")
    assert len(script.sent) == 3 and len(waits) == 2


def test_a_retry_after_beyond_the_bound_is_left_to_the_agent() -> None:
    script = Script(answer(429, Retry_After="3600"), answer(200))
    client, waits = client_with(script)
    with pytest.raises(TransientError) as caught:
        client.request("GET", "https://dav.test/x")
    assert caught.value.retry_after == 3600.0
    assert waits == [] and len(script.sent) == 1


def test_timeouts_and_connection_failures_are_transient_and_retried() -> None:
    script = Script(
        requests.exceptions.ReadTimeout("read timed out https://dav.test/x?token=s3cret"),
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ConnectTimeout("slow"),
        requests.exceptions.ConnectionError("refused"),
    )
    client, waits = client_with(script)
    with pytest.raises(TransientError) as caught:
        client.request("GET", "https://dav.test/x?token=s3cret")
    assert len(script.sent) == 4 and len(waits) == 3
    assert str(caught.value) == "GET https://dav.test/x: connection failed"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_401_is_an_auth_error_without_the_credentials() -> None:
    script = Script(answer(401, b"bad password hunter2"))
    auth = BasicAuth("alice", lambda: "hunter2")
    client, _ = client_with(script, auth=auth)
    with pytest.raises(AuthError) as caught:
        client.request("GET", "https://dav.test/x")
    assert "hunter2" not in str(caught.value) and "hunter2" not in repr(auth)
    assert "hunter2" not in repr(client)
    assert len(script.sent) == 1


def test_403_is_returned_and_refusal_maps_it_to_a_permission_error() -> None:
    client, _ = client_with(Script(answer(403, b"<error/>")))
    resp = client.request("REPORT", "https://dav.test/cal/")
    assert resp.status == 403 and resp.body == b"<error/>"
    refused = refusal(resp, "REPORT https://dav.test/cal/")
    # Valid credentials without a permission: signing in again would not help.
    assert type(refused) is PermissionDenied and not isinstance(refused, AuthError)
    assert isinstance(refused, ConfigurationError)
    assert str(refused) == (
        "REPORT https://dav.test/cal/: access forbidden (HTTP 403); "
        "the account lacks permission for it"
    )


def google_error(reason: str, status: str = "PERMISSION_DENIED") -> bytes:
    """A Google API error body as Gmail and Calendar send it."""
    return json.dumps(
        {
            "error": {
                "code": 403,
                "message": "Quota exceeded or access denied.",
                "errors": [{"domain": "usageLimits", "reason": reason, "message": "..."}],
                "status": status,
            }
        }
    ).encode()


def graph_error(code: str) -> bytes:
    """A Microsoft Graph error body."""
    inner = {"request-id": "0f6c2e3a-5b1d-4a8e-9c7f-2d4e6a8b0c1e", "date": "2026-12-07T01:00:00"}
    return json.dumps({"error": {"code": code, "message": "...", "innerError": inner}}).encode()


@pytest.mark.parametrize(
    "body",
    [
        google_error("rateLimitExceeded"),
        google_error("userRateLimitExceeded"),
        google_error("quotaExceeded", status="RESOURCE_EXHAUSTED"),  # the newer format
        graph_error("ApplicationThrottled"),
        graph_error("MailboxConcurrency"),
    ],
)
def test_a_rate_limit_403_is_transient_and_retried(body: bytes) -> None:
    script = Script(answer(403, body, Content_Type="application/json"), answer(200, b"ok"))
    client, waits = client_with(script)
    assert client.request("GET", "https://dav.test/x").body == b"ok"
    assert len(script.sent) == 2 and len(waits) == 1


def test_a_403_with_retry_after_is_a_rate_limit_that_outlasts_the_retries() -> None:
    script = Script(*[answer(403, b"slow down", Retry_After="2") for _ in range(2)])
    client, waits = client_with(script, retry=RetryPolicy(attempts=2))
    with pytest.raises(TransientError, match="HTTP 403 rate limit") as caught:
        client.request("GET", "https://dav.test/x")
    assert caught.value.retry_after == 2.0 and waits == [2.0]


@pytest.mark.parametrize(
    "body",
    [
        google_error("insufficientPermissions"),
        google_error("forbidden"),
        graph_error("ErrorAccessDenied"),
        graph_error("Authorization_RequestDenied"),
        b'{"error": "not an object"}',
        b"{broken json",
    ],
)
def test_a_permission_403_is_not_retried(body: bytes) -> None:
    script = Script(answer(403, body, Content_Type="application/json"))
    client, waits = client_with(script)
    resp = client.request("GET", "https://dav.test/x")
    assert resp.status == 403 and waits == [] and len(script.sent) == 1
    assert isinstance(refusal(resp, "GET"), PermissionDenied)


def test_tls_failure_is_a_configuration_error_not_retried() -> None:
    script = Script(requests.exceptions.SSLError("certificate verify failed"))
    client, waits = client_with(script)
    with pytest.raises(ConfigurationError, match="TLS verification failed"):
        client.request("GET", "https://dav.test/x")
    assert waits == []


def test_body_over_the_cap_is_refused_declared_or_streamed() -> None:
    script = Script(answer(200, b"x" * 100, Content_Length="100"), answer(200, b"y" * 100))
    client, _ = client_with(script, max_response_bytes=64)
    with pytest.raises(ResponseTooLarge):
        client.request("GET", "https://dav.test/a")
    with pytest.raises(ResponseTooLarge):
        client.request("GET", "https://dav.test/b")


def test_same_origin_redirect_keeps_method_and_body() -> None:
    script = Script(answer(301, Location="/dav/"), answer(207, b"<m/>"))
    client, _ = client_with(script)
    resp = client.request("PROPFIND", "https://dav.test/.well-known/caldav", body=b"<p/>")
    assert resp.url == "https://dav.test/dav/"
    assert [(r.method, r.url, r.body) for r in script.sent] == [
        ("PROPFIND", "https://dav.test/.well-known/caldav", b"<p/>"),
        ("PROPFIND", "https://dav.test/dav/", b"<p/>"),
    ]


def test_redirect_to_plain_http_elsewhere_is_refused() -> None:
    script = Script(answer(302, Location="http://evil.test/steal"))
    client, _ = client_with(script, auth=BasicAuth("alice", lambda: "pw"))
    with pytest.raises(ConfigurationError, match="another origin"):
        client.request("GET", "https://dav.test/x")
    assert len(script.sent) == 1


def test_credentials_never_follow_a_redirect_to_another_https_origin() -> None:
    script = Script(answer(302, Location="https://other.test/steal"))
    client, _ = client_with(script, auth=BearerAuth(ReadSecret(lambda: "tok-secret")))
    client.mount("https://other.test/", script)
    with pytest.raises(ConfigurationError) as caught:
        client.request("PROPFIND", "https://dav.test/.well-known/caldav")
    assert str(caught.value) == (
        "https://dav.test/.well-known/caldav: the server redirects to another origin, "
        "https://other.test/steal, where the account's credentials are not sent; if that "
        "host belongs to the same provider, add it to allowed_redirect_hosts"
    )
    assert [r.url for r in script.sent] == ["https://dav.test/.well-known/caldav"]


@pytest.mark.parametrize(
    ("allowed", "target", "followed"),
    [
        ({"cal.provider.test"}, "https://cal.provider.test/dav/", True),
        ({"cal.provider.test"}, "https://cal.provider.test:8443/dav/", True),
        ({"cal.provider.test:443"}, "https://cal.provider.test/dav/", True),
        ({"cal.provider.test:443"}, "https://cal.provider.test:8443/dav/", False),
        ({"cal.provider.test"}, "http://cal.provider.test/dav/", False),  # a downgrade
        ({"provider.test"}, "https://cal.provider.test/dav/", False),  # no subdomains
        (set(), "https://dav.test:8443/dav/", False),  # another port is another origin
    ],
)
def test_a_redirect_leaves_the_origin_only_for_a_listed_host(
    allowed: set[str], target: str, followed: bool
) -> None:
    script = Script(answer(301, Location=target), answer(207, b"<m/>"))
    client, _ = client_with(
        script, auth=BasicAuth("alice", lambda: "pw"), allowed_redirect_hosts=allowed
    )
    for prefix in ("https://cal.provider.test", "http://cal.provider.test", "https://dav.test:"):
        client.mount(prefix, script)
    if followed:
        assert client.request("PROPFIND", "https://dav.test/.well-known/caldav").url == target
        assert script.sent[1].url == target and "Authorization" in script.sent[1].headers
    else:
        with pytest.raises(ConfigurationError, match="allowed_redirect_hosts"):
            client.request("PROPFIND", "https://dav.test/.well-known/caldav")
        assert len(script.sent) == 1


def test_basic_and_bearer_headers_resolved_per_request() -> None:
    tokens = iter(["t1", "t2"])
    script = Script(answer(200), answer(200))
    bearer, _ = client_with(script, auth=BearerAuth(ReadSecret(lambda: next(tokens))))
    bearer.request("GET", "https://dav.test/a")
    bearer.request("GET", "https://dav.test/b")
    assert [r.headers["Authorization"] for r in script.sent] == ["Bearer t1", "Bearer t2"]
    script = Script(answer(200))
    basic, _ = client_with(script, auth=BasicAuth("zoë", lambda: "pä:ss"))
    basic.request("GET", "https://dav.test/a")
    encoded = script.sent[0].headers["Authorization"].removeprefix("Basic ")
    assert base64.b64decode(encoded).decode() == "zoë:pä:ss"


def test_session_ignores_the_environment() -> None:
    client = HttpClient()
    assert client._session.trust_env is False  # no .netrc, proxies or CA bundle by surprise


def test_parse_retry_after_seconds_and_http_date() -> None:
    now = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Sat, 28 Nov 2026 12:00:30 GMT", now) == 30.0
    assert parse_retry_after("Sat, 28 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_401_makes_the_token_source_refresh_once_and_the_request_go_again() -> None:
    script = Script(answer(401, WWW_Authenticate="Bearer"), answer(200, b"ok"))
    source = RotatingTokens("old", "new")
    client, waits = client_with(script, auth=BearerAuth(source))
    assert client.request("REPORT", "https://dav.test/cal/", body=b"<r/>").body == b"ok"
    assert [(r.headers["Authorization"], r.body) for r in script.sent] == [
        ("Bearer old", b"<r/>"),
        ("Bearer new", b"<r/>"),
    ]
    assert source.refreshes == 1 and waits == []


def test_a_second_401_after_the_refresh_is_an_auth_error() -> None:
    script = Script(answer(401), answer(401), answer(200))
    source = RotatingTokens("old", "new", "newer")
    client, _ = client_with(script, auth=BearerAuth(source))
    with pytest.raises(AuthError, match=r"credentials refused \(HTTP 401\)"):
        client.request("GET", "https://dav.test/x")
    assert [r.headers["Authorization"] for r in script.sent] == ["Bearer old", "Bearer new"]
    assert source.refreshes == 1


def test_a_source_with_nothing_fresher_is_not_asked_to_send_the_same_token_again() -> None:
    script = Script(answer(401), answer(200))
    read: list[str] = []
    client, _ = client_with(script, auth=BearerAuth(ReadSecret(lambda: "tok-A", read.append)))
    with pytest.raises(AuthError, match="none fresher"):
        client.request("GET", "https://dav.test/x")
    assert len(script.sent) == 1
    assert read == ["tok-A", "tok-A"]  # every value handed out is announced for redaction
