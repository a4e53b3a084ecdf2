"""The completeness ledger on Gmail, against the loopback Google fake and the real client.

The loss shape: Gmail's history skipped a message (the peer CRM's "41% never
ingested" was history that silently dropped records); the test delivers a
message and stores a history id past it, as a poll that was told "nothing
changed" would. ``verify`` lists the window's ids (``messages.list``, no
body), finds it, and the next poll fetches it. The calendar streams are not
listed yet and are passed over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.completeness import verify_account
from agent.sync import sync_once
from config.loader import load_text
from config.settings import Settings
from storage.database import Database
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.health_accounts import store_cursor
from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
SECRET = "GOCSPX-ledger-5e1d0c"
NOW = datetime.now(UTC)


def mail(n: int, sender: str, to: str) -> bytes:
    when = (NOW - timedelta(days=10 - n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: Pilot {n}\r\nDate: {when}\r\n"
        f"Message-ID: <l{n}@mail.example>\r\n\r\nHello {n}.\r\n"
    ).encode()


def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: GoogleApiFake) -> Settings:
    fake.auth.add_client(CLIENT_ID, SECRET)
    monkeypatch.setenv("LEDGER_GOOGLE_SECRET", SECRET)
    monkeypatch.setenv(
        "LEDGER_GOOGLE_REFRESH", fake.auth.add_refresh_token(DANA, (GMAIL_SCOPE, CALENDAR_SCOPE))
    )
    text = (
        "org_domains: [acme.example]\naccounts:\n  - name: dana\n    kind: gmail\n"
        f"    owner: {DANA}\n    client_id: {CLIENT_ID}\n"
        "    client_secret: ${LEDGER_GOOGLE_SECRET}\n    refresh_token: ${LEDGER_GOOGLE_REFRESH}\n"
        f"    token_uri: {fake.auth.token_uri}\n    api_root: {fake.url}\n"
        f"    calendar_api_root: {fake.url}\n    backfill: 60d\n    batch_size: 2\n"
        "    quota_units_per_second: 5000\n"
    )
    return load_text(text, base_dir=tmp_path)


def test_a_message_gmail_history_skipped_is_found_by_verify_and_captured_next_poll(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    box = google_api.user(DANA).mailbox
    for n in (1, 2, 3):
        box.add(mail(n, "Ann Lee <ann@customer.example>", DANA), ("INBOX",))
    box.add(mail(4, f"Dana <{DANA}>", "Ann Lee <ann@customer.example>"), ("SENT",))
    box.add(mail(5, "Prize <win@lottery.example>", DANA), ("SPAM",))
    settings = settings_for(tmp_path, monkeypatch, google_api)
    (first,) = sync_once(settings, db)
    assert (first.outcome, first.records) == ("ok", 4)

    google_api.log.clear()
    clean = verify_account(settings, settings.account("dana"), db)
    assert [(c.stream, c.listed, c.missing, c.removed) for c in clean.streams] == [
        ("mail", 4, 0, 0)
    ]
    paths = {r.path for r in google_api.log}
    assert [p for p in paths if "/messages/" in p or "batch" in p] == []  # no body, no get
    assert len(google_api.requests(r"/gmail/v1/users/me/messages$")) == 1  # one page of ids

    box.add(mail(6, "Ann Lee <ann@customer.example>", DANA), ("INBOX",))
    store_cursor(db, "dana", "mail", {"history_id": str(box.history_id)})
    (blind,) = sync_once(settings, db)
    assert (blind.outcome, blind.records) == ("ok", 0)  # history says nothing happened
    found = verify_account(settings, settings.account("dana"), db)
    assert [(c.stream, c.listed, c.missing) for c in found.streams] == [("mail", 5, 1)]
    (repaired,) = sync_once(settings, db)
    assert (repaired.outcome, repaired.records) == ("ok", 1)
    identities = sorted(v.identity for v in db.list_interactions(limit=100))
    assert identities == [f"msgid:l{n}@mail.example" for n in (1, 2, 3, 4, 6)]
    after = verify_account(settings, settings.account("dana"), db)
    assert [(c.stream, c.listed, c.missing) for c in after.streams] == [("mail", 5, 0)]


def test_a_revoked_grant_is_needs_reauth_with_the_connectors_command(
    google_api: GoogleApiFake, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    google_api.user(DANA).mailbox.add(mail(1, "Ann Lee <ann@customer.example>", DANA))
    settings = settings_for(tmp_path, monkeypatch, google_api)
    google_api.auth.revoke(settings.account("dana").secrets()["refresh_token"].resolve())
    (report,) = sync_once(settings, db)
    assert report.outcome == "needs_reauth"
    (row,) = db.account_status()
    assert (row.health, row.health_detail) == (
        "needs_reauth",
        {
            "command": "autocapture auth google dana",
            "fix": "run `autocapture auth google dana` to grant access again",
        },
    )
