"""The fake-HTTP-API harness the REST fakes build on, driven through requests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.servers.fake_http import FakeHttpServer, Fault, Request, Response


@pytest.fixture
def session() -> Iterator[requests.Session]:
    # trust_env off: this machine's REQUESTS_CA_BUNDLE would override `verify`.
    with requests.Session() as s:
        s.trust_env = False
        yield s


def message(request: Request) -> Response:
    return Response.json({"id": request.params["id"], "user": request.params["user"]})


def listing(request: Request) -> Response:
    return Response.json({"messages": [], "pageToken": request.arg("pageToken")})


def test_a_route_answers_with_its_segments_and_others_are_404(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("GET", "/v1/users/{user}/messages/{id}", message)
    got = session.get(f"{fake_http.url}/v1/users/me/messages/18c2f0a9", timeout=10)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert got.json() == {"id": "18c2f0a9", "user": "me"}
    missing = session.post(f"{fake_http.url}/v1/users/me/messages/18c2f0a9", timeout=10)
    assert missing.status_code == 404
    deeper = session.get(f"{fake_http.url}/v1/users/me/messages/18c2f0a9/raw", timeout=10)
    assert deeper.status_code == 404


def test_a_path_segment_takes_the_rest_of_the_path(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route(
        "GET", "/files/{rest:path}", lambda r: Response(200, {}, r.params["rest"].encode())
    )
    got = session.get(f"{fake_http.url}/files/a/b/c.ics", timeout=10)
    assert got.content == b"a/b/c.ics"


def test_every_request_is_logged_with_query_headers_and_body(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("GET", "/v1/users/{user}/messages", listing)
    fake_http.route("POST", "/batch", lambda r: Response(204))
    session.get(
        f"{fake_http.url}/v1/users/me/messages",
        params={"q": "after:2026/01/01", "labelIds": ["INBOX", "SENT"], "pageToken": ""},
        headers={"Authorization": "Bearer ya29.token"},
        timeout=10,
    )
    session.post(f"{fake_http.url}/batch", data=b"--b\r\n\r\n--b--", timeout=10)
    assert [(r.method, r.path) for r in fake_http.log] == [
        ("GET", "/v1/users/me/messages"),
        ("POST", "/batch"),
    ]
    listed = fake_http.log[0]
    assert listed.query == {
        "q": ["after:2026/01/01"],
        "labelIds": ["INBOX", "SENT"],
        "pageToken": [""],
    }
    assert listed.header("authorization") == "Bearer ya29.token"
    assert listed.body == b""
    assert fake_http.requests("POST", "/batch")[0].body == b"--b\r\n\r\n--b--"
    assert fake_http.requests("GET", "/v1/users/{user}/messages") == [listed]


def test_a_chunked_body_is_logged_whole(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("PUT", "/upload", lambda r: Response(201))
    got = session.put(f"{fake_http.url}/upload", data=iter([b"BEGIN:", b"VCALENDAR"]), timeout=10)
    assert got.status_code == 201
    assert fake_http.log[0].header("transfer-encoding") == "chunked"
    assert fake_http.log[0].body == b"BEGIN:VCALENDAR"


def test_queued_429s_answer_only_matching_requests_then_the_route_again(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("GET", "/v1/users/{user}/messages", listing)
    fake_http.route("GET", "/v1/users/{user}/profile", lambda r: Response.json({"ok": True}))
    fake_http.fail(
        Fault.answer(429, {"Retry-After": "1"}, b"slow down"),
        times=2,
        method="GET",
        path="/v1/users/{user}/messages",
    )
    url = f"{fake_http.url}/v1/users/me"
    answers = [
        session.get(f"{url}/messages", timeout=10),
        session.get(f"{url}/profile", timeout=10),
        session.get(f"{url}/messages", timeout=10),
        session.get(f"{url}/messages", timeout=10),
    ]
    assert [a.status_code for a in answers] == [429, 200, 429, 200]
    assert answers[0].headers["Retry-After"] == "1"
    assert answers[0].content == b"slow down"
    assert len(fake_http.requests("GET", "/v1/users/{user}/messages")) == 3


def test_a_500_fault_without_a_path_takes_the_next_request_whatever_it_is(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("DELETE", "/v1/events/{id}", lambda r: Response(204))
    fake_http.fail(Fault.answer(500))
    first = session.delete(f"{fake_http.url}/v1/events/e1", timeout=10)
    second = session.delete(f"{fake_http.url}/v1/events/e1", timeout=10)
    assert (first.status_code, second.status_code) == (500, 204)


def test_a_dropped_connection_is_a_connection_error_then_the_fake_serves_again(
    fake_http: FakeHttpServer, session: requests.Session
) -> None:
    fake_http.route("GET", "/v1/ping", lambda r: Response(200, {}, b"pong"))
    assert session.get(f"{fake_http.url}/v1/ping", timeout=10).content == b"pong"
    fake_http.fail(Fault.drop(), path="/v1/ping")
    # The drop comes on the kept-alive connection the first request opened.
    with pytest.raises(requests.ConnectionError):
        session.get(f"{fake_http.url}/v1/ping", timeout=10)
    assert session.get(f"{fake_http.url}/v1/ping", timeout=10).content == b"pong"
    assert len(fake_http.log) == 3


def test_tls_verifies_against_the_test_ca_only(
    fake_https: FakeHttpServer, session: requests.Session
) -> None:
    fake_https.route("GET", "/common/v2.0/.well-known/openid-configuration", listing)
    url = f"{fake_https.url}/common/v2.0/.well-known/openid-configuration"
    assert fake_https.url.startswith("https://127.0.0.1:")
    assert fake_https.ca_file is not None
    got = session.get(url, verify=str(fake_https.ca_file), timeout=10)
    assert got.status_code == 200
    with pytest.raises(requests.exceptions.SSLError):
        session.get(url, verify=True, timeout=10)  # the public roots do not know the test CA
    assert len(fake_https.log) == 1  # the refused handshake never became a request


def test_a_route_that_raises_answers_500_and_is_kept_for_the_test() -> None:
    def broken(request: Request) -> Response:
        raise KeyError("history")

    server = FakeHttpServer()
    try:
        server.route("GET", "/v1/history", broken)
        got = requests.get(f"{server.url}/v1/history", timeout=10)
    finally:
        server.close()
    assert got.status_code == 500
    assert len(server.handler_errors) == 1
    assert "KeyError: 'history'" in server.handler_errors[0]
