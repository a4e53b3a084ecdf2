"""Microsoft 365 accounts through the whole agent pass, against the loopback identity and Graph
fakes driven by the real msal: config -> connector -> matcher -> storage. Capture, changes,
expiry and one meeting from two sources here; failures in test_microsoft_failures."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

from agent.connections import Connections
from agent.sync import sync_once
from storage.database import Database
from tests.microsoft_clients import (
    DANA,
    account_yaml,
    graph_event,
)
from tests.microsoft_mailbox import (
    CALENDAR_DELTA,
    DELTA,
    GOID,
    LOADED,
    REVIEW,
    REVIEW_KEY,
    SOON,
    graph_calls,
    invitation,
    load,
    mail,
    settings_for,
)
from tests.servers.microsoft_graph import Graph
from tests.stored import contacts, interactions


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
