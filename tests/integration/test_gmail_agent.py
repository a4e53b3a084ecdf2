"""Gmail accounts through the whole agent pass, against the loopback Google fake driven by
the real google-api-python-client: config -> connector -> matcher -> storage."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from agent.connections import Connections
from agent.redact import redact
from agent.sync import sync_account, sync_once
from config.loader import load_text
from config.settings import Settings
from storage.database import Database, open_database
from tests.gmail_sample import (
    CONTACTS,
    DANA,
    LOADED,
    MAILBOX,
    NOW,
    SOON,
    event,
    load,
    mail,
)
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.plans import text_in_every_column
from tests.servers.google_api import GoogleApiFake
from tests.servers.radicale import CalendarUser, ics_event
from tests.stored import contacts, interactions

CLIENT_SECRET = "GOCSPX-agent-0f3c9a7d21"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def grant(fake: GoogleApiFake, user: str = DANA) -> str:
    fake.auth.add_client(CLIENT_ID, CLIENT_SECRET)
    return fake.auth.add_refresh_token(user, (GMAIL_SCOPE, CALENDAR_SCOPE))


def settings_for(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake: GoogleApiFake,
    accounts: dict[str, str],
    extra: str = "",
) -> Settings:
    """One gmail account per (name -> refresh token); secrets by ${ENV}, as an admin writes them."""
    monkeypatch.setenv("TEST_GOOGLE_CLIENT_SECRET", CLIENT_SECRET)
    lines = ["org_domains: [acme.example]", "accounts:"]
    for name, token in accounts.items():
        var = f"TEST_GOOGLE_REFRESH_{name.upper().replace('-', '_')}"
        monkeypatch.setenv(var, token)
        lines += [
            f"  - name: {name}",
            "    kind: gmail",
            f"    owner: {DANA}",
            f"    client_id: {CLIENT_ID}",
            "    client_secret: ${TEST_GOOGLE_CLIENT_SECRET}",
            f"    refresh_token: ${{{var}}}",
            f"    token_uri: {fake.auth.token_uri}",
            f"    api_root: {fake.url}",
            f"    calendar_api_root: {fake.url}",
            "    backfill: 60d",
            "    lookahead: 30d",
            "    batch_size: 2",
            "    quota_units_per_second: 5000",
        ]
    return load_text("\n".join(lines) + "\n" + extra, base_dir=tmp_path)


def test_a_loaded_account_gives_exact_contacts_and_interactions_and_an_idle_poll_is_cheap(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)})
    connections = Connections()
    try:
        [first] = sync_once(settings, db, connections=connections)
        assert (first.outcome, first.streams) == ("ok", ["mail", f"calendar:{DANA}"])
        assert interactions(db) == LOADED
        assert contacts(db) == CONTACTS
        gets = Counter(
            r.path.rsplit("/", 1)[1] for r in google_api.requests("/messages/[0-9a-f]+$")
        )
        assert sorted(gets.values()) == [1] * 5  # each captured message fetched once
        google_api.log.clear()
        [idle] = sync_once(settings, db, connections=connections)
        assert (idle.outcome, idle.records) == ("ok", 0)
        assert sorted(r.path for r in google_api.log) == [
            "/calendar/v3/calendars/dana%40acme.example/events",
            "/gmail/v1/users/me/history",
        ]
    finally:
        connections.close_all()


def test_new_deleted_trashed_and_modified_items_are_reflected_once(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = load(google_api)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)})
    sync_once(settings, db)
    box = google_api.user(DANA).mailbox
    calendars = google_api.user(DANA).calendars
    box.add(mail(8, "Ann Lee <ann@customer.example>", DANA, "Contract", ("INBOX",))[0])
    box.delete(ids["g1@mail.example"])
    box.relabel(ids["g3@mail.example"], add=("TRASH",), remove=("INBOX",))
    box.relabel(ids["g7@mail.example"], remove=("UNREAD",))  # read: no change to capture
    [review] = [s.event for s in calendars.calendars[DANA].events.values()]
    calendars.put({**review, "summary": "Review, moved", "sequence": 1})
    later = calendars.put(
        event("later@acme", SOON + timedelta(days=1), "Later", "dan@customer.example")
    )
    google_api.log.clear()
    [second] = sync_once(settings, db)
    assert (second.outcome, second.records) == ("ok", 3)
    gets = sorted(r.path.rsplit("/", 1)[1] for r in google_api.requests("/messages/[0-9a-f]+$"))
    assert gets == sorted(
        [box.messages[i].id for i in box.messages if box.messages[i].raw.find(b"g8@") > 0]
    )
    rows = interactions(db)
    assert rows["msgid:g1@mail.example"] == (
        "removed",
        ["ann@customer.example", DANA],
        [("dana", True)],
    )
    assert rows["msgid:g3@mail.example"][0] == "removed"
    assert rows["msgid:g8@mail.example"] == (
        "received",
        ["ann@customer.example", DANA],
        [("dana", False)],
    )
    assert rows["ical:later@acme|"][0] == "confirmed"
    views = {v.identity: v for v in db.list_interactions(limit=100)}
    assert (views["ical:review@acme|"].subject, views["ical:review@acme|"].sequence) == (
        "Review, moved",
        1,
    )
    calendars.cancel(later["id"])
    [third] = sync_once(settings, db)
    assert (third.outcome, third.records) == ("ok", 0)
    assert interactions(db)["ical:later@acme|"] == (
        "removed",
        ["dan@customer.example", DANA],
        [("dana", True)],
    )
    assert len(interactions(db)) == len(LOADED) + 2


def test_an_expired_history_id_and_sync_token_resync_without_duplicates(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)})
    sync_once(settings, db)
    before = contacts(db)
    google_api.user(DANA).mailbox.add(
        mail(9, "Bob Stone <bob@partner.example>", DANA, "Again", ("INBOX",))[0]
    )
    google_api.user(DANA).mailbox.expire_history()
    google_api.user(DANA).calendars.expire_sync_tokens()
    [second] = sync_once(settings, db)
    assert (second.outcome, second.resynced) == ("ok", True)
    expected = dict(LOADED)
    expected["msgid:g9@mail.example"] = (
        "received",
        ["bob@partner.example", DANA],
        [("dana", False)],
    )
    assert interactions(db) == expected
    assert contacts(db) == before
    [third] = sync_once(settings, db)
    assert (third.outcome, third.resynced, third.records) == ("ok", False, 0)


def test_a_429_storm_and_a_500_storm_lose_and_double_nothing(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)})
    google_api.faults.add("429", count=3, path="/messages/", in_batch=True, retry_after=1)
    google_api.faults.add("500", count=2, path="/messages$", in_batch=False)
    google_api.faults.add("403", count=2, path="/events$")
    google_api.faults.add("500", count=2, path="^/batch")
    [first] = sync_once(settings, db)
    assert first.outcome == "ok"
    assert google_api.faults.pending == []
    assert interactions(db) == LOADED
    # Parts that drew a 429 were asked again alone; no message beyond the five captured.
    asked = Counter(r.path.rsplit("/", 1)[1] for r in google_api.requests("/messages/[0-9a-f]+$"))
    assert len(asked) == 5 and sum(asked.values()) > 5
    assert len(contacts(db)) == 3


def test_invalid_grant_marks_only_that_account_needs_reauth(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    revoked = grant(google_api)
    google_api.auth.revoke(revoked)
    archive = tmp_path / "takeout.mbox"
    archive.write_bytes(
        b"From MAILER-DAEMON Mon Nov  2 09:00:00 2026\n"
        + MAILBOX[0][0].replace(b"\r\n", b"\n")
        + b"\n"
    )
    extra = (
        "  - name: takeout\n    kind: archive\n    owner: dana@acme.example\n"
        f"    paths: [{archive}]\n"
    )
    settings = settings_for(
        tmp_path, monkeypatch, google_api, {"dana": grant(google_api), "dana-old": revoked}, extra
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {
        "dana": "ok",
        "dana-old": "needs_reauth",
        "takeout": "ok",
    }
    assert reports["dana-old"].message == (
        "credentials refused: Google refused the credentials (invalid_grant); run "
        "`autocapture auth google dana-old` to grant access again"
    )
    assert {s.name: s.state for s in db.account_status()} == {
        "dana": "ok",
        "dana-old": "needs_reauth",
        "takeout": "ok",
    }
    assert interactions(db)["msgid:g1@mail.example"][2] == [("dana", False), ("takeout", False)]


def test_a_401_after_the_refresh_marks_only_that_account_needs_reauth_with_the_command(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    load(google_api, "erin@acme.example")
    google_api.auth.refused_users.add("erin@acme.example")
    erin = google_api.auth.add_refresh_token("erin@acme.example", (GMAIL_SCOPE, CALENDAR_SCOPE))
    settings = settings_for(
        tmp_path, monkeypatch, google_api, {"dana": grant(google_api), "erin": erin}
    )
    [dana, refused] = sync_once(settings, db)
    assert (dana.outcome, refused.outcome) == ("ok", "needs_reauth")
    assert refused.message == (
        "credentials refused: Google refused the request (401); run "
        "`autocapture auth google erin` to grant access again"
    )
    # Dana's one grant, then Erin's first token and the client's refreshes after each 401.
    assert google_api.auth.issued == ["refresh_token"] * 4
    assert interactions(db) == LOADED
    assert {s.name: s.state for s in db.account_status()} == {"dana": "ok", "erin": "needs_reauth"}


def test_no_token_or_secret_reaches_a_log_line_an_error_or_a_column(
    google_api: GoogleApiFake,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    load(google_api)
    good, revoked = grant(google_api), grant(google_api)
    google_api.auth.revoke(revoked)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": good, "dana-old": revoked})
    connections = Connections()
    try:
        sync_once(settings, db, connections=connections)
        first_tokens = list(google_api.auth.access_tokens)
        google_api.auth.revoke_access_tokens()  # the kept connector's token: refreshed on a 401
        [ok, failed] = sync_once(settings, db, connections=connections)
        assert (ok.outcome, failed.outcome) == ("ok", "needs_reauth")
        google_api.faults.add("500", count=8, path="/history$")  # retries run out: an error
        [broken, failed] = sync_once(settings, db, connections=connections)
    finally:
        connections.close_all()
    assert (broken.outcome, failed.outcome) == ("error", "needs_reauth")
    assert "Google answered 500" in broken.message
    access = first_tokens + list(google_api.auth.access_tokens)
    assert len(access) >= 2  # one before the 401, one refreshed after it
    secrets = [CLIENT_SECRET, good, revoked, *access]
    assert all(redact(s) == "***" for s in [CLIENT_SECRET, good, *access])
    stored = text_in_every_column(db)
    shown = caplog.text + broken.message + failed.message
    assert [s for s in secrets if s in stored or s in shown] == []
    assert "dana-old" in stored and "invalid_grant" in stored  # the columns were read


@pytest.mark.server
def test_a_meeting_in_google_calendar_and_as_a_caldav_copy_is_one_interaction_two_sources(
    google_api: GoogleApiFake,
    radicale: CalendarUser,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(google_api)
    radicale.make_calendar("work")
    radicale.put(
        "work",
        "review.ics",
        ics_event(
            "review@acme",
            SOON.strftime("%Y%m%dT%H%M%SZ"),
            end=(SOON + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ"),
            summary="Review",
            organizer=f";CN=Dana:mailto:{DANA}",
            attendees=(
                f";PARTSTAT=ACCEPTED:mailto:{DANA}",
                ";PARTSTAT=ACCEPTED:mailto:ann@customer.example",
                ";PARTSTAT=ACCEPTED:mailto:cleo@customer.example",
            ),
        ),
    )
    monkeypatch.setenv("TEST_DAV_PASSWORD", radicale.password)
    extra = (
        "  - name: dana-dav\n    kind: caldav\n    allow_plaintext: true\n"
        f"    url: {radicale.url}\n    username: {radicale.name}\n"
        "    password: ${TEST_DAV_PASSWORD}\n    backfill: 60d\n    lookahead: 30d\n"
    )
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)}, extra)
    reports = sync_once(settings, db)
    assert [(r.account, r.outcome) for r in reports] == [("dana", "ok"), ("dana-dav", "ok")]
    assert interactions(db)["ical:review@acme|"] == (
        "confirmed",
        ["ann@customer.example", "cleo@customer.example", DANA],
        [("dana", False), ("dana-dav", False)],
    )
    assert len(interactions(db)) == len(LOADED)


def test_a_later_run_reuses_the_calendar_listing_kept_with_the_cursors(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(google_api)
    settings = settings_for(tmp_path, monkeypatch, google_api, {"dana": grant(google_api)})
    [account] = settings.accounts

    def run_at(when: datetime) -> list[str]:
        """One `autocapture sync` (a connector of its own): what the fake was asked."""
        google_api.log.clear()
        assert sync_account(settings, account, db, now=when).outcome == "ok"
        return sorted(r.path for r in google_api.log)

    run_at(NOW)
    events = "/calendar/v3/calendars/dana%40acme.example/events"
    assert run_at(NOW + timedelta(hours=1)) == [events, "/gmail/v1/users/me/history", "/token"]
    google_api.user(DANA).calendars.add_calendar("team@acme.example", "Team")
    later = run_at(NOW + timedelta(days=1, hours=2))
    assert "/calendar/v3/users/me/calendarList" in later
    assert "/calendar/v3/calendars/team%40acme.example/events" in later
    assert interactions(db) == LOADED
