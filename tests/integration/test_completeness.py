"""The completeness ledger against real servers: ``verify`` finds what incremental sync
could not see, the next poll captures it, and a complete account costs no FETCH.

The silent-loss shapes are real ones. IMAP: some servers (Exchange, Gmail)
report a UIDNEXT past messages that are not yet searchable, and a backfill
ends its cursor at UIDNEXT - 1, so mail that becomes visible later with a
UID under the cursor is never fetched; the test appends mail and moves the
stored cursor past it, the state such a server leaves. CalDAV: a sync-token
that skipped a change (servers have lost changes across restarts and
migrations); the test changes and adds objects, then stores the server's
newer token as if a poll had been told "nothing changed".
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.completeness import verify_account
from agent.health_view import completeness_lines
from agent.sync import sync_once
from config.settings import Settings
from connectors.caldav.webdav import read_multistatus, sync_report
from storage.database import Database
from tests.caldav_client import connect
from tests.health_accounts import caldav_settings, store_cursor
from tests.imap_mailbox import REP, load, mail, settings_for
from tests.servers.dovecot import MailUser
from tests.servers.imap_proxy import ImapProxy
from tests.servers.radicale import CalendarUser, ics_event

pytestmark = pytest.mark.server

ANN = "Ann Lee <ann@northwind.example>"


def identities(db: Database) -> list[str]:
    return sorted(v.identity for v in db.list_interactions(limit=1000) if v.status != "removed")


def imap_settings(
    user: MailUser, port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    via = SimpleNamespace(port=port, name=user.name)
    return settings_for(tmp_path, monkeypatch, {"rep": (via, user.password)})


def test_verify_of_a_complete_mailbox_reports_nothing_missing_and_sends_no_fetch(
    dovecot: MailUser,
    imap_proxy: ImapProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(dovecot)
    settings = imap_settings(dovecot, imap_proxy.port, tmp_path, monkeypatch)
    (synced,) = sync_once(settings, db)
    assert (synced.outcome, synced.records) == ("ok", 5)
    imap_proxy.reset_counts()
    report = verify_account(settings, settings.account("rep"), db)
    assert report.outcome == "ok"
    assert [(c.stream, c.listed, c.missing, c.removed) for c in report.streams] == [
        ("INBOX", 4, 0, 0),
        ("Sent", 1, 0, 0),
    ]
    sent = imap_proxy.command_names()
    assert not [c for c in sent if "FETCH" in c], sent
    assert sent.count("UID SEARCH") == 4  # SINCE and ALL per folder: the whole cost


def test_mail_under_the_cursor_is_reported_missing_captured_next_poll_and_deletions_removed(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)
    settings = imap_settings(dovecot, dovecot.port, tmp_path, monkeypatch)
    sync_once(settings, db)
    late = [mail(n, ANN, REP, f"Late {n}", "Restored.\r\n") for n in (6, 7, 8)]
    dovecot.append("INBOX", late)
    cursor = dict(db.load_cursor("rep", "INBOX") or {})
    assert cursor["last_uid"] == 4
    store_cursor(db, "rep", "INBOX", {**cursor, "last_uid": 7})  # UIDs 5-7 under the cursor

    (blind,) = sync_once(settings, db)
    assert (blind.outcome, blind.records) == ("ok", 0)  # incremental sync cannot see them

    report = verify_account(settings, settings.account("rep"), db)
    assert [(c.stream, c.listed, c.missing, c.removed) for c in report.streams] == [
        ("INBOX", 7, 3, 0),
        ("Sent", 1, 0, 0),
    ]
    since = (datetime.now(UTC) - timedelta(days=30)).date()
    assert completeness_lines(db.completeness("rep"))[0].startswith(
        f"rep: 3 missing in INBOX since {since} (queued for the next poll) (checked "
    )

    (repaired,) = sync_once(settings, db)
    assert (repaired.outcome, repaired.records) == ("ok", 3)
    assert identities(db) == [f"msgid:m{n}@test.example" for n in range(1, 9)]
    assert [(c.stream, c.missing, c.outstanding) for c in db.completeness("rep")] == [
        ("INBOX", 3, 0),
        ("Sent", 0, 0),
    ]
    again = verify_account(settings, settings.account("rep"), db)
    assert [(c.stream, c.missing, c.removed) for c in again.streams] == [
        ("INBOX", 0, 0),
        ("Sent", 0, 0),
    ]

    with dovecot.client() as client:  # m2 is deleted at the provider
        client.select_folder("INBOX")
        client.delete_messages([2])
        client.expunge()
    gone = verify_account(settings, settings.account("rep"), db)
    assert [(c.stream, c.listed, c.missing, c.removed) for c in gone.streams] == [
        ("INBOX", 6, 0, 1),
        ("Sent", 1, 0, 0),
    ]
    assert "msgid:m2@test.example" not in identities(db)
    assert len(identities(db)) == 7


def test_a_calendar_change_the_sync_token_missed_is_found_and_captured(
    radicale: CalendarUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = (datetime.now(UTC) + timedelta(days=3)).replace(hour=10, minute=0, second=0)
    at = soon.strftime("%Y%m%dT%H%M%SZ")
    later = (soon + timedelta(days=1)).strftime("%Y%m%dT%H%M%SZ")
    radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@ours", at, summary="Kickoff"))
    radicale.put("work", "b.ics", ics_event("b@ours", later, summary="Review"))
    settings = caldav_settings(tmp_path, monkeypatch, radicale)
    (first,) = sync_once(settings, db)
    assert (first.outcome, first.records) == ("ok", 2)
    clean = verify_account(settings, settings.account("rep1"), db)
    assert [(c.listed, c.missing, c.removed) for c in clean.streams] == [(2, 0, 0)]

    ann = ";CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@client.example"
    radicale.put("work", "a.ics", ics_event("a@ours", at, summary="Kickoff", attendees=(ann,)))
    radicale.put("work", "c.ics", ics_event("c@ours", later, summary="Retro"))
    radicale.delete("work", "b.ics")
    (stream,) = clean.streams
    conn = connect(radicale)
    conn.streams()
    url = conn.calendar_url(stream.stream)
    listing = read_multistatus(sync_report(conn.client, url, None).body, "work")
    conn.close()
    cursor = dict(db.load_cursor("rep1", stream.stream) or {})
    store_cursor(db, "rep1", stream.stream, {**cursor, "sync_token": listing.sync_token})
    (blind,) = sync_once(settings, db)
    assert (blind.outcome, blind.records) == ("ok", 0)  # the token says nothing changed

    report = verify_account(settings, settings.account("rep1"), db)
    assert [(c.listed, c.missing, c.removed) for c in report.streams] == [(2, 2, 1)]
    assert identities(db) == ["ical:a@ours|"]  # b is removed at once
    (repaired,) = sync_once(settings, db)
    assert (repaired.outcome, repaired.records) == ("ok", 2)
    assert identities(db) == ["ical:a@ours|", "ical:c@ours|"]
    kickoff = next(v for v in db.list_interactions(limit=10) if v.identity == "ical:a@ours|")
    assert sorted(p.email for p in kickoff.participants) == ["ann@client.example"]
    after = verify_account(settings, settings.account("rep1"), db)
    assert [(c.listed, c.missing, c.removed) for c in after.streams] == [(2, 0, 0)]
