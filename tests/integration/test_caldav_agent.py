"""CalDAV accounts through the whole agent pass (config -> connector -> matcher -> storage).

What the user sees: one interaction per
meeting however many reps hold it, rooms never become participants, a 401
marks only that account ``needs_reauth``, and an invalid sync-token resyncs
without a duplicate.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Protocol

import pytest

from agent.connections import Connections
from agent.sync import sync_account, sync_once
from config.settings import Settings
from matcher.plan import Plan
from storage.database import Database, open_database
from tests.admin_config import admin_settings
from tests.servers.radicale import CalendarUser, DavProxy, RadicaleServer, ics_event

pytestmark = pytest.mark.server

ME = ";CN=Rep One:mailto:rep1@ours.example"
ANN = ";CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@client.example"
ROOM = ";CN=Board Room;CUTYPE=ROOM:mailto:board@rooms.example"


def stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


# Meetings must lie in the agent's window, which it computes from the real clock.
SOON = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def other_user(server: RadicaleServer) -> CalendarUser:
    user = CalendarUser(server, f"u{uuid.uuid4().hex[:10]}", uuid.uuid4().hex)
    server.add_user(user.name, user.password)
    return user


class DavLogin(Protocol):
    """Where an account signs in: a Radicale user, or a proxy in front of one."""

    @property
    def url(self) -> str: ...

    @property
    def name(self) -> str: ...


def settings_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: dict[str, tuple[DavLogin, str]]
) -> Settings:
    fields = {
        "kind": "caldav",
        "allow_plaintext": "true",  # Radicale on loopback, over http://
        "owner": "rep1@ours.example",
        "backfill": "30d",
        "lookahead": "30d",
        "batch_size": 2,
    }
    return admin_settings(
        tmp_path,
        monkeypatch,
        "ours.example",
        {
            name: {**fields, "url": user.url, "username": user.name, "password": password}
            for name, (user, password) in accounts.items()
        },
    )


def meeting_rows(db: Database) -> dict[str, tuple[str, list[str], list[tuple[str, bool]]]]:
    """identity -> (status, participant emails, [(account, removed)] of its sources)."""
    found = {}
    for view in db.list_interactions(limit=1000):
        assert view.identity not in found, f"{view.identity} stored twice"
        found[view.identity] = (
            view.status,
            sorted(p.email for p in view.participants),
            sorted((s.account, s.removed) for s in view.sources),
        )
    return found


def test_reps_share_one_interaction_rooms_excluded_and_a_401_stays_with_its_account(
    radicale: CalendarUser,
    radicale_server: RadicaleServer,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rep2 = other_user(radicale_server)
    invite = ics_event(
        "review@ours",
        stamp(SOON),
        summary="Review",
        organizer=ME,
        attendees=(ANN, ROOM),
    )
    for user in (radicale, rep2):
        user.make_calendar("work")
        user.put("work", "review.ics", invite)
    radicale.put("work", "solo.ics", ics_event("solo@ours", stamp(SOON + timedelta(days=1))))
    wrong = "wrong-" + uuid.uuid4().hex
    settings = settings_for(
        tmp_path,
        monkeypatch,
        {
            "rep1": (radicale, radicale.password),
            "locked": (rep2, wrong),
            "rep2": (rep2, rep2.password),
        },
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {name: r.outcome for name, r in reports.items()} == {
        "rep1": "ok",
        "locked": "needs_reauth",
        "rep2": "ok",
    }
    assert wrong not in reports["locked"].message
    status = {s.name: s.state for s in db.account_status()}
    assert status == {"rep1": "ok", "locked": "needs_reauth", "rep2": "ok"}
    assert meeting_rows(db) == {
        "ical:review@ours|": (
            "confirmed",
            ["ann@client.example", "rep1@ours.example"],
            [("rep1", False), ("rep2", False)],
        ),
        "ical:solo@ours|": ("confirmed", [], [("rep1", False)]),
    }


def test_an_invalid_sync_token_resyncs_without_duplicates_and_deletions_are_removed(
    radicale: CalendarUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = radicale.make_calendar("work")
    for n in range(3):
        start = stamp(SOON + timedelta(hours=n))
        radicale.put("work", f"{n}.ics", ics_event(f"m{n}@ours", start, attendees=(ANN,)))
    settings = settings_for(tmp_path, monkeypatch, {"rep1": (radicale, radicale.password)})
    (first,) = sync_once(settings, db)
    assert (first.outcome, first.records, first.resynced) == ("ok", 3, False)
    cursor = db.load_cursor("rep1", stream)
    assert cursor is not None
    # The server forgot the token (restored from backup): the stored cursor names it.
    forgotten = {**cursor, "sync_token": "http://radicale.org/ns/sync/" + "a" * 64}
    db.apply(Plan(account="rep1"), stream, forgotten)
    radicale.put("work", "new.ics", ics_event("new@ours", stamp(SOON + timedelta(hours=5))))
    (second,) = sync_once(settings, db)
    assert (second.outcome, second.resynced) == ("ok", True)
    assert sorted(meeting_rows(db)) == [
        "ical:m0@ours|",
        "ical:m1@ours|",
        "ical:m2@ours|",
        "ical:new@ours|",
    ]
    radicale.delete("work", "1.ics")
    (third,) = sync_once(settings, db)
    assert (third.outcome, third.resynced) == ("ok", False)
    rows = meeting_rows(db)
    assert rows["ical:m1@ours|"] == ("removed", ["ann@client.example"], [("rep1", True)])
    assert [rows[i][0] for i in ("ical:m0@ours|", "ical:m2@ours|", "ical:new@ours|")] == [
        "confirmed"
    ] * 3
    start = stamp(SOON)
    radicale.put("work", "0.ics", ics_event("m0@ours", start, summary="Moved", sequence=1))
    (fourth,) = sync_once(settings, db)
    assert (fourth.outcome, fourth.records) == ("ok", 1)
    views = {v.identity: v for v in db.list_interactions(limit=100)}
    assert len(views) == 4
    assert (views["ical:m0@ours|"].subject, views["ical:m0@ours|"].sequence) == ("Moved", 1)


@pytest.fixture
def proxied(
    radicale: CalendarUser, dav_proxy: DavProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Calendars "work" (one meeting) and "home" (empty); the account reaches them through
    the proxy, which records every request the server gets."""
    for calendar in ("work", "home"):
        radicale.make_calendar(calendar)
    radicale.put("work", "a.ics", ics_event("a@ours", stamp(SOON), organizer=ME, attendees=(ANN,)))
    through_proxy = SimpleNamespace(url=dav_proxy.url, name=radicale.name)
    return settings_for(tmp_path, monkeypatch, {"rep1": (through_proxy, radicale.password)})


def test_the_agent_keeps_its_connector_so_an_idle_poll_is_one_report_per_calendar(
    radicale: CalendarUser, dav_proxy: DavProxy, db: Database, proxied: Settings
) -> None:
    settings = proxied
    connections = Connections()
    try:
        [first] = sync_once(settings, db, connections=connections)
        assert (first.outcome, first.new_interactions) == ("ok", 1)
        dav_proxy.requests.clear()
        [idle] = sync_once(settings, db, connections=connections)
        assert (idle.outcome, idle.records) == ("ok", 0)
        assert sorted(dav_proxy.requests) == [
            ("REPORT", radicale.calendar_path("home")),
            ("REPORT", radicale.calendar_path("work")),
        ]
    finally:
        connections.close_all()


def test_syncs_after_the_first_reuse_the_calendar_listing_kept_with_the_cursors(
    radicale: CalendarUser, dav_proxy: DavProxy, db: Database, proxied: Settings
) -> None:
    settings = proxied
    [account] = settings.accounts
    now = datetime.now(UTC)

    def sync_at(when: datetime) -> list[tuple[str, str]]:
        """One `autocapture sync`: a connector of its own; what the server was asked."""
        dav_proxy.requests.clear()
        report = sync_account(settings, account, db, now=when)
        assert report.outcome == "ok"
        return sorted(dav_proxy.requests)

    work, home = radicale.calendar_path("work"), radicale.calendar_path("home")
    first = sync_at(now)
    assert ("PROPFIND", "/") in first  # discovery: server root, principal, calendar home
    assert [m for m, _ in sync_at(now + timedelta(hours=1))] == ["REPORT", "REPORT"]
    assert sync_at(now + timedelta(hours=2)) == [("REPORT", home), ("REPORT", work)]
    # A day on, the calendars are listed again (once) and a new one is found.
    radicale.make_calendar("deals")
    later = sync_at(now + timedelta(days=1, hours=1))
    assert later.count(("PROPFIND", "/")) >= 1
    assert ("REPORT", radicale.calendar_path("deals")) in later
    assert sync_at(now + timedelta(days=1, hours=2)) == [
        ("REPORT", radicale.calendar_path("deals")),
        ("REPORT", home),
        ("REPORT", work),
    ]
    # A calendar deleted on the server: its 404 lists the calendars again (a resync).
    radicale.delete_calendar("home")
    dav_proxy.requests.clear()
    gone = sync_account(settings, account, db, now=now + timedelta(days=1, hours=3))
    assert (gone.outcome, gone.resynced) == ("ok", True)
    assert sorted(set(gone.streams)) == [radicale.calendar_path("deals"), home, work]
    assert sync_at(now + timedelta(days=1, hours=4)) == [
        ("REPORT", radicale.calendar_path("deals")),
        ("REPORT", work),
    ]
    assert sorted(meeting_rows(db)) == ["ical:a@ours|"]
