"""CalDAV against servers that differ from Radicale, via a thin proxy in front of it:
no sync-collection (ETag fallback), other expiry statuses, lenient storage, failures."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pytest
import requests

from agent.connections import build_connector
from config.accounts import CaldavAccount
from config.values import Secret
from connectors.base import AuthError, ConfigurationError, CursorExpired, Limits, TransientError
from connectors.caldav.connector import CaldavConnector
from connectors.caldav.webdav import parse_multistatus
from connectors.http import BasicAuth, HttpClient
from connectors.retry import RetryPolicy
from tests.caldav_client import WINDOW, fetch_all, meetings
from tests.contract import drain
from tests.servers.radicale import CalendarUser, DavProxy, TlsProxy, ics_event

pytestmark = pytest.mark.server

SYNC_TOKEN_ERROR = b'<?xml version="1.0"?><D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>'


def through(
    proxy: DavProxy, user: CalendarUser, waits: list[float] | None = None
) -> CaldavConnector:
    client = HttpClient(
        auth=BasicAuth(user.name, lambda: user.password),
        timeout=10,
        retry=RetryPolicy(attempts=3),
        sleep=(waits if waits is not None else []).append,
    )
    return CaldavConnector("rep1", proxy.url, WINDOW, client=client)


def test_without_sync_collection_etags_carry_add_modify_delete(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    dav_proxy.refuse_sync_status = 403
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z", summary="A"))
    radicale.put("work", "b.ics", ics_event("b@x", "20261202T100000Z", summary="B"))
    first = fetch_all(through(dav_proxy, radicale), stream, None)
    assert first.next_cursor["mode"] == "etag"
    assert sorted(m.identity for m in meetings(first.records)) == ["ical:a@x|", "ical:b@x|"]
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z", summary="A2", sequence=1))
    radicale.put("work", "c.ics", ics_event("c@x", "20261203T100000Z", summary="C"))
    radicale.delete("work", "b.ics")
    second = fetch_all(through(dav_proxy, radicale), stream, first.next_cursor)
    assert sorted((m.identity, m.summary, m.sequence) for m in meetings(second.records)) == [
        ("ical:a@x|", "A2", 1),
        ("ical:c@x|", "C", 0),
    ]
    assert [r.provider_id for r in second.removed] == [stream + "b.ics"]
    dav_proxy.requests.clear()
    idle = fetch_all(through(dav_proxy, radicale), stream, second.next_cursor)
    assert (idle.records, idle.removed, idle.errors) == ([], [], [])
    assert dav_proxy.requests == [("PROPFIND", stream)]


def test_a_server_that_stops_offering_sync_collection_expires_the_cursor(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    first = fetch_all(through(dav_proxy, radicale), stream, None)
    assert first.next_cursor["mode"] == "sync"
    dav_proxy.refuse_sync_status = 405
    with pytest.raises(CursorExpired):
        through(dav_proxy, radicale).fetch(stream, first.next_cursor, 10)
    resync = fetch_all(through(dav_proxy, radicale), stream, None)
    assert resync.next_cursor["mode"] == "etag"
    assert [m.identity for m in meetings(resync.records)] == ["ical:a@x|"]


@pytest.mark.parametrize("status", [409, 412])
def test_valid_sync_token_precondition_expires_the_cursor_whatever_the_status(
    radicale: CalendarUser, dav_proxy: DavProxy, status: int
) -> None:
    stream = radicale.make_calendar("work")
    first = fetch_all(through(dav_proxy, radicale), stream, None)
    dav_proxy.fail_next.append((status, {"Content-Type": "application/xml"}, SYNC_TOKEN_ERROR))
    with pytest.raises(CursorExpired, match="no longer knows the sync-token"):
        through(dav_proxy, radicale).fetch(stream, first.next_cursor, 10)


def test_a_malformed_object_is_an_error_and_the_rest_is_captured(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    stream = radicale.make_calendar("work")
    for name in ("a", "bad", "c"):
        radicale.put("work", f"{name}.ics", ics_event(f"{name}@x", "20261201T100000Z"))

    def corrupt(method: str, path: str, body: bytes) -> bytes:
        # A lenient server stored garbage where Radicale keeps the "bad" event.
        if method != "REPORT" or b"calendar-data" not in body:
            return body
        return re.sub(
            rb"BEGIN:VCALENDAR(?:(?!END:VCALENDAR).)*UID:bad@x.*?END:VCALENDAR",
            b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:2026-13-45\r\nEND:VCALENDAR",
            body,
            flags=re.S,
        )

    dav_proxy.rewrite = corrupt
    got = fetch_all(through(dav_proxy, radicale), stream, None)
    assert sorted(m.identity for m in meetings(got.records)) == ["ical:a@x|", "ical:c@x|"]
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        (stream + "bad.ics", "bad-ical")
    ]


def test_transient_failures_are_retried_honouring_retry_after(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    dav_proxy.fail_next += [(503, {}, b""), (429, {"Retry-After": "4"}, b"")]
    waits: list[float] = []
    got = fetch_all(through(dav_proxy, radicale, waits), stream, None)
    assert [m.identity for m in meetings(got.records)] == ["ical:a@x|"]
    assert len(waits) == 2 and 0.5 <= waits[0] <= 0.75 and waits[1] == 4.0
    dav_proxy.fail_next += [(502, {}, b"")] * 3
    with pytest.raises(TransientError, match="HTTP 502"):
        through(dav_proxy, radicale).fetch(stream, got.next_cursor, 10)


def test_hrefs_outside_the_calendar_are_never_fetched_or_captured(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    stranger = b'<response><href>/someone-else/cal/x.ics</href><propstat><prop><getetag>"1"</getetag></prop><status>HTTP/1.1 200 OK</status></propstat></response>'

    def confuse(method: str, path: str, body: bytes) -> bytes:
        if method == "REPORT" and b"<sync-token>" in body:
            return body.replace(b"<response>", stranger + b"<response>", 1)
        return body

    dav_proxy.rewrite = confuse
    got = fetch_all(through(dav_proxy, radicale), stream, None)
    assert [m.source.provider_id for m in meetings(got.records)] == [stream + "a.ics"]
    assert (got.errors, got.removed) == ([], [])
    multigets = [p for m, p in dav_proxy.requests if m == "REPORT"]
    assert multigets == [stream, stream]  # the listing and one multiget of a.ics only


def test_tls_is_verified_by_default_and_a_private_ca_can_be_trusted(
    radicale: CalendarUser, tls_dav_proxy: TlsProxy
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    url = tls_dav_proxy.proxy.url
    assert url.startswith("https://")
    auth = BasicAuth(radicale.name, lambda: radicale.password)
    default = CaldavConnector("rep1", url, WINDOW, auth=auth)
    with pytest.raises(ConfigurationError, match="TLS verification failed"):
        default.streams()
    trusting = CaldavConnector("rep1", url, WINDOW, auth=auth, verify=str(tls_dav_proxy.ca_file))
    assert trusting.streams() == [stream]
    got = fetch_all(trusting, stream, None)
    assert [m.identity for m in meetings(got.records)] == ["ical:a@x|"]


def test_a_paged_sync_listing_is_followed_to_its_end(
    radicale: CalendarUser, dav_proxy: DavProxy
) -> None:
    stream = radicale.make_calendar("work")
    for name in ("a", "b"):
        radicale.put("work", f"{name}.ics", ics_event(f"{name}@x", "20261201T100000Z"))
    middle = radicale_token(radicale, stream)
    for name in ("c", "d"):
        radicale.put("work", f"{name}.ics", ics_event(f"{name}@x", "20261202T100000Z"))
    first_page = (
        '<?xml version="1.0"?><multistatus xmlns="DAV:">'
        + "".join(
            f'<response><href>{stream}{n}.ics</href><propstat><prop><getetag>"x"</getetag>'
            "</prop><status>HTTP/1.1 200 OK</status></propstat></response>"
            for n in ("a", "b")
        )
        + f"<response><href>{stream}</href><status>HTTP/1.1 507 Insufficient Storage</status>"
        f"</response><sync-token>{middle}</sync-token></multistatus>"
    ).encode()
    pages = [first_page]

    def page(method: str, path: str, body: bytes) -> bytes:
        # Like Google: the first listing stops early with a 507 on the collection (RFC 6578 3.6).
        if method == "REPORT" and b"<sync-token>" in body and pages:
            return pages.pop()
        return body

    dav_proxy.rewrite = page
    got = drain(through(dav_proxy, radicale), stream, None, 10)
    assert got.identities == ["ical:a@x|", "ical:b@x|", "ical:c@x|", "ical:d@x|"]
    assert got.batch_ends == [2, 4]


def radicale_token(user: CalendarUser, stream: str) -> str:
    body = (
        b'<?xml version="1.0"?><d:sync-collection xmlns:d="DAV:"><d:sync-token/>'
        b"<d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"
    )
    resp = requests.request(
        "REPORT",
        user.url.rstrip("/") + stream,
        data=body,
        auth=(user.name, user.password),
        timeout=10,
    )
    token = parse_multistatus(resp.content).sync_token
    assert token
    return token


def test_bearer_tokens_from_settings_are_sent_and_a_refused_one_is_auth_error(
    radicale: CalendarUser, dav_proxy: DavProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    basic = base64.b64encode(f"{radicale.name}:{radicale.password}".encode()).decode()
    dav_proxy.bearer = ("tok-" + radicale.password, "Basic " + basic)
    account = CaldavAccount(
        name="oauth-cal",
        kind="caldav",
        url=dav_proxy.url,
        allow_plaintext=True,  # the proxy listens on loopback over http://
        token=Secret("env", "CALDAV_TEST_TOKEN"),
        timeout=timedelta(seconds=5),
    )
    monkeypatch.setenv("CALDAV_TEST_TOKEN", "tok-" + radicale.password)
    conn = build_connector(account, WINDOW, Limits())
    assert conn.streams() == [stream]
    assert [m.identity for m in meetings(fetch_all(conn, stream, None).records)] == ["ical:a@x|"]
    monkeypatch.setenv("CALDAV_TEST_TOKEN", "revoked")
    with pytest.raises(AuthError) as caught:
        build_connector(account, WINDOW, Limits()).streams()
    assert "revoked" not in str(caught.value)
