"""The Graph fake answers as Graph does: delta rounds, preferences, refusals, $batch, faults.

Driven by real msal tokens from the identity fake and plain requests, as the
connector will call it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msal
import pytest
import requests

from tests.servers.fake_http import Fault
from tests.servers.microsoft_graph import Graph
from tests.servers.microsoft_graph_wire import throttled, unavailable
from tests.servers.microsoft_identity import GRAPH_DEFAULT_SCOPE, Principal

CLIENT = "3f1c9e1a-5b7d-4b0e-9a53-7c2f0f4e8d11"
REP = "dana@acme.example"
DELTA = "/v1.0/users/{u}/mailFolders/{f}/messages/delta"


def raw_mail(n: int, day: int, subject: str, extra: str = "") -> bytes:
    return (
        f'From: "Ann Lee" <ann.lee@customer.example>\r\n'
        f"To: Dana Whitfield <{REP}>, ops@customer.example\r\n"
        f"Cc: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@customer.example>\r\n"
        f"Subject: {subject}\r\n"
        f"Date: Tue, {day:02d} Nov 2026 09:1{n % 10}:00 +0100\r\n"
        f"Message-ID: <m{n}.{day}@customer.example>\r\n"
        f"{extra}"
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n\r\n'
        f"Hello Dana,\r\n\r\nmessage {n}.\r\n\r\n--\r\nAnn Lee\r\n"
    ).encode()


@pytest.fixture
def graph(microsoft_graph: Graph) -> Graph:
    microsoft_graph.identity.register_app(CLIENT, secret="s3cr3t")
    microsoft_graph.add_user(REP)
    return microsoft_graph


def http(graph: Graph, token: str | None = "app") -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    session.verify = str(graph.server.ca_file)
    if token == "app":
        app = msal.ConfidentialClientApplication(
            CLIENT,
            client_credential="s3cr3t",
            authority=graph.identity.authority,
            instance_discovery=False,
            http_client=session,
        )
        token = app.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])["access_token"]
    if token is not None:
        session.headers["Authorization"] = f"Bearer {token}"
    return session


def rounds(session: requests.Session, url: str, **kw: Any) -> tuple[list[dict[str, Any]], str, int]:
    """All pages from ``url``: (items, deltaLink, pages)."""
    items, pages = [], 0
    while True:
        answer = session.get(url, **kw)
        assert answer.status_code == 200, answer.text
        page = answer.json()
        items += page["value"]
        pages += 1
        if "@odata.nextLink" in page:
            url, kw = page["@odata.nextLink"], {"headers": kw.get("headers")}
            continue
        return items, page["@odata.deltaLink"], pages


def test_mail_delta_pages_filters_then_reports_changes(graph: Graph) -> None:
    box = graph.mailboxes[REP]
    old = box.add(raw_mail(1, 2, "Old thread"))
    kept = [box.add(raw_mail(n, 10 + n, f"Pilot {n}")) for n in range(2, 7)]
    session = http(graph)
    url = f"{graph.root}/users/{REP}/mailFolders/inbox/messages/delta"
    params = {
        "$select": "subject,from,receivedDateTime,internetMessageId",
        "$filter": "receivedDateTime ge 2026-11-05T00:00:00Z",
    }
    prefer = {"Prefer": "odata.maxpagesize=2"}
    items, delta, pages = rounds(session, url, params=params, headers=prefer)
    assert pages == 3
    assert [i["id"] for i in items] == kept
    assert [i["subject"] for i in items] == [f"Pilot {n}" for n in range(2, 7)]
    assert set(items[0]) == {
        "@odata.type",
        "@odata.etag",
        "id",
        "subject",
        "from",
        "receivedDateTime",
        "internetMessageId",
    }
    assert items[0]["from"] == {
        "emailAddress": {"name": "Ann Lee", "address": "ann.lee@customer.example"}
    }
    assert items[0]["receivedDateTime"] == "2026-11-12T08:12:00Z"

    assert rounds(session, delta)[0] == []  # replaying the deltaLink: nothing new
    fresh = box.add(raw_mail(9, 20, "New"))
    box.delete(kept[0])
    box.delete(old)  # outside the first round's filter, still a change of the folder
    changes, _, _ = rounds(session, delta)
    assert [(c["id"], "@removed" in c) for c in changes] == [
        (fresh, False),
        (kept[0], True),
        (old, True),
    ]
    assert changes[1]["@removed"] == {"reason": "deleted"}
    assert set(changes[0]) >= {"subject", "internetMessageId"} and "body" not in changes[0]


def test_message_views_follow_select_and_prefer(graph: Graph) -> None:
    box = graph.mailboxes[REP]
    box.add(raw_mail(1, 12, "Pilot", extra="List-Id: <pilot.customer.example>\r\n"))
    session = http(graph)
    url = f"{graph.root}/users/{REP}/mailFolders('inbox')/messages/delta"
    answer = session.get(
        url,
        params={"$select": "body,toRecipients,ccRecipients,internetMessageHeaders,sender"},
        headers={"Prefer": 'outlook.body-content-type="text"'},
    )
    assert answer.headers["Preference-Applied"] == 'outlook.body-content-type="text"'
    (item,) = answer.json()["value"]
    assert item["body"] == {
        "contentType": "text",
        "content": "Hello Dana,\r\n\r\nmessage 1.\r\n\r\n--\r\nAnn Lee\r\n",  # Exchange's CRLF
    }
    assert item["toRecipients"] == [
        {"emailAddress": {"name": "Dana Whitfield", "address": REP}},
        {"emailAddress": {"name": "ops@customer.example", "address": "ops@customer.example"}},
    ]
    assert item["ccRecipients"] == [
        {"emailAddress": {"name": "Jürgen Müller", "address": "jm@customer.example"}}
    ]
    assert {"name": "List-Id", "value": "<pilot.customer.example>"} in item[
        "internetMessageHeaders"
    ]
    html = session.get(url, params={"$select": "body"}).json()["value"][0]["body"]
    assert html["contentType"] == "html"
    assert "<div>Hello Dana,<br>" in html["content"]
    default = session.get(url).json()["value"][0]
    assert "internetMessageHeaders" not in default and default["isDraft"] is False


def test_refusals_in_graphs_words(graph: Graph) -> None:
    session = http(graph)
    url = f"{graph.root}/users/{REP}/mailFolders/inbox/messages/delta"
    unknown = session.get(url, params={"$top": "5"})
    assert unknown.status_code == 400
    assert unknown.json()["error"]["code"] == "BadRequest"
    assert "$top" in unknown.json()["error"]["message"]
    bad_select = session.get(url, params={"$select": "subject,bogus"})
    assert (bad_select.status_code, bad_select.json()["error"]["code"]) == (
        400,
        "RequestBroker--ParseUri",
    )
    bad_filter = session.get(url, params={"$filter": "subject eq 'x'"})
    assert bad_filter.status_code == 400
    nobody = http(graph, token=None).get(url)
    assert nobody.status_code == 401
    assert nobody.json()["error"]["code"] == "InvalidAuthenticationToken"
    assert nobody.json()["error"]["message"] == "Access token is empty."
    assert set(nobody.json()["error"]["innerError"]) == {"date", "request-id", "client-request-id"}
    stranger = session.get(f"{graph.root}/users/eve@acme.example/mailFolders/inbox/messages/delta")
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (404, "ErrorInvalidUser")
    graph.identity.expire_access_tokens()
    expired = session.get(url)
    assert expired.json()["error"]["message"] == "Access token has expired or is not yet valid."


def test_delegated_token_opens_only_its_own_mailbox(graph: Graph) -> None:
    graph.add_user("sam@acme.example")
    token = graph.identity.grant_access(Principal(CLIENT, REP, ("Mail.Read",)))
    session = http(graph, token=token)
    own = session.get(f"{graph.root}/me/mailFolders/inbox/messages/delta")
    assert own.status_code == 200 and own.json()["value"] == []
    other = session.get(f"{graph.root}/users/sam@acme.example/mailFolders/inbox/messages/delta")
    assert (other.status_code, other.json()["error"]["code"]) == (403, "ErrorAccessDenied")
    calendar = session.get(
        f"{graph.root}/me/calendarView/delta",
        params={"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"},
    )
    assert calendar.status_code == 403  # no Calendars.Read consented


def test_expired_delta_token_is_410_sync_state_not_found(graph: Graph) -> None:
    graph.mailboxes[REP].add(raw_mail(1, 12, "Pilot"))
    session = http(graph)
    _, delta, _ = rounds(session, f"{graph.root}/users/{REP}/mailFolders/inbox/messages/delta")
    graph.expire_delta_tokens()
    gone = session.get(delta)
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "syncStateNotFound"


def event(
    event_id: str, start: str, end: str, kind: str = "singleInstance", **extra: Any
) -> dict[str, Any]:
    return {
        "id": event_id,
        "iCalUId": "040000008200E00074C5B7101A82E00800000000D0F2A5A0A15DDB01000000000000000010"
        "000000" + event_id[-8:].upper().rjust(8, "0"),
        "subject": "Pilot weekly",
        "type": kind,
        "isCancelled": False,
        "start": {"dateTime": start + ".0000000", "timeZone": "UTC"},
        "end": {"dateTime": end + ".0000000", "timeZone": "UTC"},
        "organizer": {"emailAddress": {"name": "Ann Lee", "address": "ann.lee@customer.example"}},
        "attendees": [],
        **extra,
    }


def test_calendar_view_delta_window_cancel_and_remove(graph: Graph) -> None:
    calendar = graph.calendars[REP]
    calendar.put(
        event("AAMkAD-master", "2026-11-03T09:00:00", "2026-11-03T09:30:00", "seriesMaster")
    )
    inside = calendar.put(
        event(
            "AAMkAD-occ1",
            "2026-11-10T09:00:00",
            "2026-11-10T09:30:00",
            "occurrence",
            seriesMasterId="AAMkAD-master",
            originalStart="2026-11-10T09:00:00Z",
        )
    )
    calendar.put(event("AAMkAD-late", "2027-02-01T09:00:00", "2027-02-01T10:00:00"))
    session = http(graph)
    url = f"{graph.root}/users/{REP}/calendarView/delta"
    missing = session.get(url)
    assert (missing.status_code, missing.json()["error"]["code"]) == (400, "ErrorInvalidParameter")
    assert (
        session.get(
            url,
            params={
                "$select": "subject",
                "startDateTime": "2026-11-01T00:00:00Z",
                "endDateTime": "2026-12-01T00:00:00Z",
            },
        ).status_code
        == 400
    )
    window = {"startDateTime": "2026-11-01T00:00:00Z", "endDateTime": "2026-12-01T00:00:00Z"}
    items, delta, _ = rounds(session, url, params=window)
    assert [i["id"] for i in items] == [inside]  # no master, nothing outside the window
    calendar.cancel(inside)
    (cancelled,), delta, _ = rounds(session, delta)
    assert cancelled["isCancelled"] is True and cancelled["subject"] == "Canceled: Pilot weekly"
    calendar.delete(inside)
    calendar.put(event("AAMkAD-later2", "2027-03-01T09:00:00", "2027-03-01T10:00:00"))
    (removed,), _, _ = rounds(session, delta)
    assert removed == {
        "@odata.type": "#microsoft.graph.event",
        "id": inside,
        "@removed": {"reason": "deleted"},
    }


def test_batch_answers_each_item_with_its_own_status_in_any_order(graph: Graph) -> None:
    box = graph.mailboxes[REP]
    ids = [box.add(raw_mail(n, 12, f"Pilot {n}")) for n in range(3)]
    graph.server.fail(throttled(7), path="/v1.0/users/{u}/messages/" + ids[1])
    session = http(graph)
    batch = {
        "requests": [
            {"id": str(n), "method": "GET", "url": f"/users/{REP}/messages/{i}?$select=subject"}
            for n, i in enumerate(ids)
        ]
    }
    answer = session.post(f"{graph.root}/$batch", json=batch)
    assert answer.status_code == 200
    responses = answer.json()["responses"]
    assert [r["id"] for r in responses] == ["2", "1", "0"]
    by_id = {r["id"]: r for r in responses}
    assert by_id["0"]["body"]["subject"] == "Pilot 0" and by_id["0"]["status"] == 200
    assert by_id["1"]["status"] == 429
    assert by_id["1"]["headers"]["Retry-After"] == "7"
    assert by_id["1"]["body"]["error"]["code"] == "ApplicationThrottled"
    items = graph.server.requests("GET", "/v1.0/users/{u}/messages/{id}")
    assert [r.header("graph-batch-id") for r in items] == ["0", "1", "2"]

    too_many = {"requests": [dict(batch["requests"][0], id=str(n)) for n in range(21)]}
    refused = session.post(f"{graph.root}/$batch", json=too_many)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, "BadRequest")


def test_faults_outside_batch_throttle_fail_and_drop(graph: Graph) -> None:
    session = http(graph)
    url = f"{graph.root}/users/{REP}/mailFolders/inbox/messages/delta"
    graph.server.fail(throttled(3), path=DELTA)
    graph.server.fail(unavailable(), path=DELTA)
    graph.server.fail(Fault.drop(), path=DELTA)
    first = session.get(url)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert session.get(url).status_code == 503
    with pytest.raises(requests.ConnectionError):
        session.get(url)
    assert session.get(url).status_code == 200
    assert len(graph.server.requests("GET", DELTA)) == 4


def test_invitation_is_an_event_message_with_its_event_on_expand(graph: Graph) -> None:
    calendar = graph.calendars[REP]
    meeting = calendar.put(event("AAMkAD-inv", "2026-11-20T14:00:00", "2026-11-20T15:00:00"))
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x@y\r\n"
        "DTSTART:20261120T140000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    raw = (
        raw_mail(4, 13, "Invitation: Pilot")
        .replace(
            b'Content-Type: text/plain; charset="utf-8"\r\n\r\n',
            b'Content-Type: text/calendar; method=REQUEST; charset="utf-8"\r\n\r\n' + ics.encode(),
        )
        .split(b"Hello Dana")[0]
    )
    message = graph.mailboxes[REP].add(raw, event_id=meeting)
    session = http(graph)
    url = f"{graph.root}/users/{REP}/messages/{message}"
    plain = session.get(url, params={"$select": "subject,meetingMessageType"}).json()
    assert plain["@odata.type"] == "#microsoft.graph.eventMessageRequest"
    assert plain["meetingMessageType"] == "meetingRequest" and "event" not in plain
    expanded = session.get(url, params={"$expand": "microsoft.graph.eventMessage/event"}).json()
    assert expanded["event"]["id"] == meeting
    assert expanded["event"]["iCalUId"] == calendar.events[meeting]["iCalUId"]
    assert datetime(2026, 11, 13, tzinfo=UTC) < datetime.fromisoformat(
        expanded["receivedDateTime"].replace("Z", "+00:00")
    )
