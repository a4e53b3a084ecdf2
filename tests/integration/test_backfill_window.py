"""Widening an account's backfill window captures what the old window left out.

A cursor only moves forward, so without knowing the window it was built
with, a wider ``backfill`` would never reach back: the agent stores the
window start beside each cursor and reads a stream again when the
configured window starts earlier. Upserts keep every item single.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import sync_once
from storage.database import Database, open_database
from tests.admin_config import admin_settings
from tests.servers.dovecot import MailUser
from tests.servers.radicale import CalendarUser, ics_event

pytestmark = pytest.mark.server

NOW = datetime.now(UTC).replace(microsecond=0)
OLD, RECENT = NOW - timedelta(days=395), NOW - timedelta(days=3)
REP = "dana@acme.example"
ANN = ";CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@client.example"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def copies(db: Database) -> list[tuple[str, int]]:
    """(identity, number of stored copies) of every interaction."""
    return sorted((v.identity, len(v.sources)) for v in db.list_interactions(limit=1000))


def mail(n: int, when: datetime) -> bytes:
    return (
        f"From: Ann Lee <ann@client.example>\r\nTo: {REP}\r\nSubject: Note {n}\r\n"
        f"Date: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <w{n}@client.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nA note.\r\n"
    ).encode()


def imap_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: MailUser, backfill: str
) -> Any:
    fields = {
        "kind": "imap",
        "owner": REP,
        "host": "127.0.0.1",
        "port": user.port,
        "tls": "none",
        "allow_plaintext": "true",
        "username": user.name,
        "password": user.password,
        "folders": "[INBOX]",
        "backfill": backfill,
    }
    return admin_settings(tmp_path, monkeypatch, "acme.example", {"rep": fields})


def test_imap_a_wider_backfill_captures_older_mail_once(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with dovecot.client() as client:
        # IMAP SEARCH SINCE reads the internal date: give each the date it was received.
        for n, when in ((1, OLD), (2, RECENT)):
            client.append("INBOX", mail(n, when), msg_time=when)
    (first,) = sync_once(imap_settings(tmp_path, monkeypatch, dovecot, "365d"), db)
    assert (first.outcome, first.records) == ("ok", 1)
    assert copies(db) == [("msgid:w2@client.example", 1)]
    wider = imap_settings(tmp_path, monkeypatch, dovecot, "730d")
    (second,) = sync_once(wider, db)
    assert (second.outcome, second.records, second.new_interactions) == ("ok", 2, 1)
    assert copies(db) == [("msgid:w1@client.example", 1), ("msgid:w2@client.example", 1)]
    (idle,) = sync_once(wider, db)
    assert (idle.outcome, idle.records) == ("ok", 0)


def test_caldav_a_wider_backfill_captures_older_meetings_once(
    radicale: CalendarUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    radicale.make_calendar("work")
    for name, when in (("old", OLD), ("recent", RECENT)):
        start = when.strftime("%Y%m%dT%H%M%SZ")
        radicale.put("work", f"{name}.ics", ics_event(f"{name}@ours", start, attendees=(ANN,)))

    def settings(backfill: str) -> Any:
        fields = {
            "kind": "caldav",
            "owner": "rep1@ours.example",
            "url": radicale.url,
            "username": radicale.name,
            "password": radicale.password,
            "allow_plaintext": "true",  # Radicale on loopback speaks plain HTTP
            "backfill": backfill,
        }
        return admin_settings(tmp_path, monkeypatch, "ours.example", {"rep1": fields})

    (first,) = sync_once(settings("365d"), db)
    assert (first.outcome, first.records) == ("ok", 1)
    assert copies(db) == [("ical:recent@ours|", 1)]
    (second,) = sync_once(settings("730d"), db)
    assert (second.outcome, second.records, second.new_interactions) == ("ok", 2, 1)
    assert copies(db) == [("ical:old@ours|", 1), ("ical:recent@ours|", 1)]
    (idle,) = sync_once(settings("730d"), db)
    assert (idle.outcome, idle.records) == ("ok", 0)
