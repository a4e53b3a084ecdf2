"""A bounce read over IMAP: only the first text part is fetched, and it is enough."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agent.sync import sync_once
from storage.database import Database
from tests.imap_mailbox import MAILBOX, REP, WHEN, contacts, load, settings_for
from tests.servers.dovecot import MailUser

pytestmark = pytest.mark.server

ANN = "ann@northwind.example"
POSTFIX = Path(__file__).resolve().parents[1] / "data" / "bounces" / "postfix-dsn.eml"


def report() -> bytes:
    """Postfix's report on mail to Ann, an hour after her last message."""
    date = (WHEN + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    raw = POSTFIX.read_bytes().replace(b"bob.smith@acme.com", ANN.encode())
    raw = raw.replace(b"Bob.Smith@acme.com", ANN.encode())
    raw = raw.replace(b"Date: Mon,  2 Mar 2026 09:31:02 +0000 (UTC)", f"Date: {date}".encode())
    return raw.replace(b"To: me@ourco.com", f"To: {REP}".encode()).replace(b"\n", b"\r\n")


def test_a_hard_bounce_in_the_inbox_marks_the_contact_address(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)
    dovecot.append("INBOX", [report()])
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    (result,) = sync_once(settings, db)
    assert (result.outcome, result.records) == ("ok", sum(len(m) for m in MAILBOX.values()) + 1)
    assert contacts(db) == [((ANN,), "Ann Lee")]  # the report made nobody
    (ann,) = db.list_contacts()
    detail = db.get_contact(ann.id)
    assert detail is not None
    assert [(a.email, a.status, a.status_reason) for a in detail.addresses] == [
        (ANN, "bouncing", "bounce:5.1.1:text:postfix")
    ]
