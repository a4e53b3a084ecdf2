"""Microsoft 365 accounts through the whole agent pass, against the loopback identity and Graph
fakes driven by the real msal: config -> connector -> matcher -> storage."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest

from agent.connections import Connections
from agent.redact import redact
from agent.sync import sync_once
from config.loader import load_text
from config.settings import Settings
from storage.database import Database
from tests.microsoft_clients import (
    CLIENT_ID,
    CLIENT_SECRET,
    DANA,
    account_yaml,
    certificate,
    graph_event,
    register,
    settings_text,
)
from tests.plans import text_in_every_column
from tests.servers.fake_http import Fault
from tests.servers.microsoft_graph import Graph
from tests.servers.microsoft_graph_wire import throttled, unavailable
from tests.stored import contacts, interactions

NOW = datetime.now(UTC)
SOON = (NOW + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
# Exchange's encoded global object id of a meeting Dana organised (MS-OXOCAL 2.2.1.27):
# prefix, instance date (zero: the series), creation time, padding, size, data.
GOID = (
    "040000008200E00074C5B7101A82E008"
    "00000000"
    "80F1D2C3B4A5D901"
    "0000000000000000"
    "10000000"
    "6A1F0E9D8C7B6A5F4E3D2C1B0A998877"
)
DELTA = "/v1.0/users/{user}/mailFolders/{folder}/messages/delta"
CALENDAR_DELTA = "/v1.0/users/{user}/calendarView/delta"


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%a, %d %b %Y %H:%M:%S +0000")


def mail(n: int, sender: str, to: str, subject: str, extra: str = "", days_ago: int = 0) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {stamp(days_ago or 20 - n)}\r\n"
        f"Message-ID: <m{n}@mail.example>\r\n{extra}\r\nHello {n}.\r\n"
    ).encode()


def invitation(uid: str, start: datetime, to: str) -> bytes:
    """The invitation Exchange sends: text plus a text/calendar REQUEST naming every attendee."""
    fmt = "%Y%m%dT%H%M%SZ"
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
        f"ORGANIZER;CN=Dana:mailto:{DANA}\r\n"
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:{to}\r\n"
        "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:cleo@customer.example\r\n"
        "ATTENDEE;CUTYPE=ROOM;ROLE=NON-PARTICIPANT:mailto:room-4@acme.example\r\n"
        f"UID:{uid}\r\nSUMMARY:Review\r\nDTSTART:{start.strftime(fmt)}\r\n"
        f"DTEND:{(start + timedelta(minutes=30)).strftime(fmt)}\r\nDTSTAMP:{NOW.strftime(fmt)}\r\n"
        "SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return (
        f"From: Dana <{DANA}>\r\nTo: {to}\r\nSubject: Review\r\nDate: {stamp(2)}\r\n"
        "Message-ID: <invite-review@acme.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLet us review.\r\n"
        "--b\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
        f"{ics}--b--\r\n"
    ).encode()


REVIEW_ID = "AAMkAGI2TG93AAAreview="
REVIEW = graph_event(
    REVIEW_ID,
    GOID,
    SOON,
    "Review",
    DANA,
    [
        (DANA, "required", "organizer"),
        ("ann@customer.example", "required", "accepted"),
        ("cleo@customer.example", "optional", "tentativelyAccepted"),
        ("room-4@acme.example", "resource", "accepted"),
    ],
)
REVIEW_KEY = f"ical:{GOID}|"


def load(graph: Graph) -> dict[str, str]:
    """Dana's mailbox and calendar; returns message ids by Message-ID."""
    box = graph.mailboxes[DANA]
    ids = {
        "m1": box.add(mail(1, "Ann Lee <ann@customer.example>", f"Dana <{DANA}>", "Pilot")),
        "m2": box.add(
            mail(2, f"Dana <{DANA}>", "Ann Lee <ann@customer.example>", "Re: Pilot"), "sentitems"
        ),
        "m3": box.add(
            mail(
                3,
                "Bob Stone <bob@partner.example>",
                f"Dana <{DANA}>",
                "Intro",
                "Cc: Ann Lee <ann@customer.example>\r\n",
            )
        ),
        "m4": box.add(mail(4, "Old <old@customer.example>", DANA, "Ancient", days_ago=400)),
        "m5": box.add(mail(5, "Eve <eve@junk.example>", DANA, "Junk"), "junkemail"),
        "m6": box.add(mail(6, "Shop <noreply@shop.example>", DANA, "Your order")),
    }
    graph.calendars[DANA].put(REVIEW)
    # Dana's copy of the invitation she sent, in Sent Items: an eventMessage.
    ids["invite"] = box.add(
        invitation(GOID, SOON, "ann@customer.example"), "sentitems", event_id=REVIEW_ID
    )
    return ids


LOADED = {
    "msgid:m1@mail.example": ("received", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:m2@mail.example": ("sent", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:m3@mail.example": (
        "received",
        ["ann@customer.example", "bob@partner.example", DANA],
        [("dana", False)],
    ),
    "msgid:m6@mail.example": ("received", [DANA, "noreply@shop.example"], [("dana", False)]),
    "msgid:invite-review@acme.example": (
        "sent",
        ["ann@customer.example", DANA],
        [("dana", False)],
    ),
    # One meeting, from the calendar and from the invitation Dana sent: two copies.
    REVIEW_KEY: (
        "confirmed",
        ["ann@customer.example", "cleo@customer.example", DANA],
        [("dana", False), ("dana", False)],
    ),
}


@pytest.fixture
def graph(microsoft_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> Graph:
    monkeypatch.setenv("TEST_M365_CLIENT_SECRET", CLIENT_SECRET)
    register(microsoft_graph)
    return microsoft_graph


def settings_for(graph: Graph, *accounts: list[str], extra: str = "") -> Settings:
    return load_text(settings_text(accounts or [account_yaml(graph, "dana")], extra))


def graph_calls(graph: Graph) -> list[str]:
    """Graph requests of the log as path templates, sorted (token requests left out)."""
    names = {v: k for k, v in graph.mailboxes[DANA].folders.items()}
    out = []
    for request in graph.server.log:
        if not request.path.startswith("/v1.0/"):
            continue
        path = request.path.replace(DANA, "{user}").replace("%40", "@")
        for folder_id, name in names.items():
            path = path.replace(name, "{folder}").replace(folder_id, "{folder}")
        out.append(path)
    return sorted(out)


def test_a_loaded_mailbox_and_calendar_give_exact_contacts_and_interactions_and_idle_is_cheap(
    graph: Graph, db: Database
) -> None:
    ids = load(graph)
    settings = settings_for(graph)
    connections = Connections()
    try:
        [first] = sync_once(settings, db, connections=connections)
        assert (first.outcome, first.streams) == (
            "ok",
            ["mail:inbox", "mail:sentitems", "calendar:primary"],
        )
        assert interactions(db) == LOADED
        assert contacts(db) == [
            (("ann@customer.example",), "Ann Lee"),  # mail both ways
            (("cleo@customer.example",), None),  # met in the meeting Dana organised
        ]  # Bob only wrote once: no exchange yet; the room never becomes a contact
        views = {v.identity: v for v in db.list_interactions(limit=100)}
        assert views["msgid:m1@mail.example"].subject == "Pilot"
        # The invitation was asked for again, once, with its event expanded.
        expanded = [r for r in graph.server.log if r.header("graph-batch-id") is not None]
        assert [unquote(r.path.rsplit("/", 1)[1]) for r in expanded] == [ids["invite"]]
        assert [r.arg("$expand") for r in expanded] == ["microsoft.graph.eventMessage/event"]
        graph.server.log.clear()
        [idle] = sync_once(settings, db, connections=connections)
        assert (idle.outcome, idle.records) == ("ok", 0)
        assert graph_calls(graph) == [CALENDAR_DELTA, DELTA, DELTA]
        graph.server.log.clear()
        [again] = sync_once(settings, db, connections=connections)
        assert (again.outcome, again.records) == ("ok", 0)
        # The kept connector's token is cached by msal: nothing but the three deltas.
        assert len(graph.server.log) == 3 and graph_calls(graph) == [CALENDAR_DELTA, DELTA, DELTA]
    finally:
        connections.close_all()


def test_added_deleted_moved_and_modified_items_are_reflected_once(
    graph: Graph, db: Database
) -> None:
    ids = load(graph)
    settings = settings_for(graph)
    sync_once(settings, db)
    box, calendar = graph.mailboxes[DANA], graph.calendars[DANA]
    box.add(mail(7, "Ann Lee <ann@customer.example>", DANA, "Contract"))
    box.delete(ids["m1"])
    box.move(ids["m3"], "deleteditems")  # out of the captured folders: removed there
    box.touch(ids["m6"])  # read or flagged: comes back in delta, changes nothing
    calendar.put({**REVIEW, "subject": "Review, moved", "start": {**REVIEW["start"]}})
    later = graph_event(
        "AAMkAGI2TG93AAAlater=",
        "later@acme.example",
        SOON + timedelta(days=1),
        "Later",
        DANA,
        [("dan@customer.example", "required", "none")],
    )
    calendar.put(later)
    graph.server.log.clear()
    [second] = sync_once(settings, db)
    assert (second.outcome, second.records) == ("ok", 4)  # m7, m6 again, two events
    rows = interactions(db)
    assert rows["msgid:m1@mail.example"] == (
        "removed",
        ["ann@customer.example", DANA],
        [("dana", True)],
    )
    assert rows["msgid:m3@mail.example"][0] == "removed"
    assert rows["msgid:m7@mail.example"] == (
        "received",
        ["ann@customer.example", DANA],
        [("dana", False)],
    )
    assert rows["msgid:m6@mail.example"] == LOADED["msgid:m6@mail.example"]
    assert rows["ical:later@acme.example|"][0] == "confirmed"
    views = {v.identity: v for v in db.list_interactions(limit=100)}
    assert views[REVIEW_KEY].subject == "Review, moved"
    calendar.cancel(later["id"])
    [third] = sync_once(settings, db)
    assert (third.outcome, third.records) == ("ok", 1)
    assert interactions(db)["ical:later@acme.example|"][0] == "cancelled"
    calendar.delete(later["id"])
    [fourth] = sync_once(settings, db)
    assert (fourth.outcome, fourth.records) == ("ok", 0)
    assert interactions(db)["ical:later@acme.example|"] == (
        "removed",
        ["dan@customer.example", DANA],
        [("dana", True)],
    )
    assert len(interactions(db)) == len(LOADED) + 2


def test_an_expired_delta_token_resyncs_without_duplicates(graph: Graph, db: Database) -> None:
    load(graph)
    settings = settings_for(graph)
    sync_once(settings, db)
    before = contacts(db)
    graph.mailboxes[DANA].add(mail(9, "Ann Lee <ann@customer.example>", DANA, "Again"))
    graph.expire_delta_tokens()
    [second] = sync_once(settings, db)
    assert (second.outcome, second.resynced) == ("ok", True)
    expected = dict(LOADED)
    expected["msgid:m9@mail.example"] = (
        "received",
        ["ann@customer.example", DANA],
        [("dana", False)],
    )
    assert interactions(db) == expected
    assert contacts(db) == before
    [third] = sync_once(settings, db)
    assert (third.outcome, third.resynced, third.records) == ("ok", False, 0)


def test_a_429_storm_inside_and_outside_batch_and_503s_lose_and_double_nothing(
    graph: Graph, db: Database
) -> None:
    load(graph)
    settings = settings_for(graph)
    server = graph.server
    server.fail(throttled(1), times=3, path=DELTA)
    server.fail(unavailable(), times=2, path=CALENDAR_DELTA)
    server.fail(Fault.drop(), times=1, path=DELTA)
    # A batch item's answer: the same fault, inside the $batch response.
    server.fail(throttled(1), times=2, path="/v1.0/users/{user}/messages/{id}")
    server.fail(throttled(1), times=1, path="/v1.0/$batch")
    [first] = sync_once(settings, db)
    assert first.outcome == "ok"
    assert server.faults_left == 0  # every fault was served
    assert interactions(db) == LOADED
    assert len(contacts(db)) == 2
    items = [r for r in server.log if r.header("graph-batch-id") is not None]
    assert len(items) == 3  # two throttled answers, then the expanded invitation
    [again] = sync_once(settings, db)
    assert (again.outcome, again.records) == ("ok", 0)


def test_a_refused_client_marks_only_that_account_needs_reauth(
    graph: Graph, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(graph)
    graph.add_user("sam@acme.example")
    monkeypatch.setenv("TEST_M365_OLD_SECRET", "Zq8~revoked.secret")
    settings = settings_for(
        graph,
        account_yaml(graph, "dana"),
        account_yaml(graph, "sam", "sam@acme.example", client_secret="${TEST_M365_OLD_SECRET}"),
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "ok", "sam": "needs_reauth"}
    assert reports["sam"].message == (
        "credentials refused: account 'sam': token for Graph: the identity platform refused "
        "(invalid_client, AADSTS7000215); check the app's client secret or certificate in "
        "Entra ID and the admin consent to Mail.Read and Calendars.Read, then run "
        "`autocapture sync --account sam`; sign in again"
    )
    assert {s.name: s.state for s in db.account_status()} == {"dana": "ok", "sam": "needs_reauth"}
    assert interactions(db) == LOADED


def test_a_meeting_from_microsoft_365_and_as_an_invitation_email_is_one_interaction(
    graph: Graph, db: Database, tmp_path: Path
) -> None:
    load(graph)
    # Ann's copy of the invitation Exchange sent her, exported as mbox: its UID is the
    # global object id without the instance date, which is what Graph's iCalUId reads as.
    archive = tmp_path / "ann.mbox"
    archive.write_bytes(
        b"From MAILER-DAEMON Mon Nov  2 09:00:00 2026\n"
        + invitation(GOID, SOON, "ann@customer.example").replace(b"\r\n", b"\n")
        + b"\n"
    )
    extra = (
        "  - name: ann-export\n    kind: archive\n    owner: ann@customer.example\n"
        f"    paths: [{archive}]\n    lookahead: 30d\n"
    )
    settings = settings_for(graph, account_yaml(graph, "dana"), extra=extra)
    reports = sync_once(settings, db)
    assert [(r.account, r.outcome) for r in reports] == [("dana", "ok"), ("ann-export", "ok")]
    rows = interactions(db)
    assert rows[REVIEW_KEY] == (
        "confirmed",
        ["ann@customer.example", "cleo@customer.example", DANA],
        [("ann-export", False), ("dana", False), ("dana", False)],
    )
    assert [k for k in rows if k.startswith("ical:")] == [REVIEW_KEY]


def test_no_token_secret_or_certificate_key_reaches_a_log_line_an_error_or_a_column(
    graph: Graph,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    load(graph)
    graph.add_user("sam@acme.example")
    key, cert = certificate()
    _, other_cert = certificate()  # registered for nobody: Sam's app is refused
    graph.identity.register_app("cert-app", certificate_pem=cert.encode())
    graph.identity.register_app("sam-app", certificate_pem=other_cert.encode())
    (tmp_path / "app.crt").write_text(cert)
    monkeypatch.setenv("TEST_M365_KEY", key)
    by_cert = {
        "client_secret": None,
        "certificate": str(tmp_path / "app.crt"),
        "certificate_key": "${TEST_M365_KEY}",
    }
    settings = settings_for(
        graph,
        account_yaml(graph, "dana", client_id="cert-app", **by_cert),
        account_yaml(graph, "sam", "sam@acme.example", client_id="sam-app", **by_cert),
        account_yaml(graph, "dana-secret"),
    )
    connections = Connections()
    try:
        sync_once(settings, db, connections=connections)
        first_tokens = list(graph.identity.access_tokens)
        graph.identity.expire_access_tokens()  # the kept connectors' tokens: 401, then fresh
        reports = {r.account: r for r in sync_once(settings, db, connections=connections)}
        assert {n: r.outcome for n, r in reports.items()} == {
            "dana": "ok",
            "sam": "needs_reauth",
            "dana-secret": "ok",
        }
        graph.server.fail(unavailable(), times=12, path=CALENDAR_DELTA)  # retries run out
        broken = {r.account: r for r in sync_once(settings, db, connections=connections)}
    finally:
        connections.close_all()
    assert broken["dana"].outcome == "error" and "HTTP 503" in broken["dana"].message
    access = first_tokens + list(graph.identity.access_tokens)
    assert len(access) >= 4  # two accounts' tokens before the 401s, and after
    key_body = "".join(key.splitlines()[1:-1])[:64]  # any part of the key would do
    secrets = [CLIENT_SECRET, key, key_body, *access]
    assert all(redact(s) == "***" for s in [CLIENT_SECRET, key, *access])
    stored = text_in_every_column(db)
    shown = caplog.text + "".join(r.message for r in [*reports.values(), *broken.values()])
    assert [s for s in secrets if s in stored or s in shown] == []
    assert "sam" in stored and "invalid_client" in stored  # the columns were read


def test_a_failing_account_is_never_spun_on(graph: Graph, db: Database) -> None:
    load(graph)
    settings = settings_for(graph)
    # Throttled for an hour: not slept through (a worker would block), not retried.
    graph.server.fail(throttled(3600), times=1, path=DELTA)
    [throttled_pass] = sync_once(settings, db)
    assert throttled_pass.outcome == "error"
    assert "HTTP 429" in throttled_pass.message
    asked = [r for r in graph.server.log if r.path.startswith("/v1.0/")]
    assert len(asked) == 1  # the first delta; the pass stops at the account's first failure
    graph.server.log.clear()
    # Down for good: a bounded number of tries, then the account waits for its next poll.
    graph.server.fail(unavailable(), times=100, path=DELTA)
    [down] = sync_once(settings, db)
    assert down.outcome == "error" and "HTTP 503" in down.message
    assert len([r for r in graph.server.log if r.path.startswith("/v1.0/")]) == 8
    assert interactions(db) == {}


def test_a_mailbox_outside_the_apps_scope_is_an_error_not_a_sign_in(
    graph: Graph, db: Database
) -> None:
    load(graph)
    graph.add_user("ceo@acme.example")
    graph.app_scopes[CLIENT_ID] = {DANA}  # an admin scoped the app to the sales mailboxes
    settings = settings_for(
        graph, account_yaml(graph, "dana"), account_yaml(graph, "ceo", "ceo@acme.example")
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "ok", "ceo": "error"}
    assert reports["ceo"].message.endswith(
        "mail:inbox delta: access forbidden (HTTP 403); the account lacks permission for it"
    )
    assert {s.name: s.state for s in db.account_status()} == {"dana": "ok", "ceo": "error"}
