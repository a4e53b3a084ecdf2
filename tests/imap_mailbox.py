"""A small IMAP mailbox of real shapes, and the agent settings that capture it.

An exchange with Ann (both ways), a newsletter, a notification and a
colleague, shared by the IMAP agent tests and the tests that add mail to it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest

from config.settings import Settings
from storage.database import Database
from tests.admin_config import admin_settings
from tests.servers.dovecot import MailUser

REP = "dana@acme.example"
WHEN = datetime.now(UTC) - timedelta(days=2)


def mail(n: int, sender: str, to: str, subject: str, body: str, extra: str = "") -> bytes:
    date = (WHEN + timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {date}\r\n"
        f"Message-ID: <m{n}@test.example>\r\n{extra}"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


ANN_SIGNATURE = "Thanks,\r\nAnn\r\n\r\n--\r\nAnn Lee\r\nCTO, Northwind Traders\r\n"
# An exchange with Ann (both ways), a newsletter, a notification, a colleague.
MAILBOX = {
    "INBOX": [
        mail(
            1,
            "Ann Lee <ann@northwind.example>",
            REP,
            "Pilot",
            "Can we start?\r\n\r\n" + ANN_SIGNATURE,
        ),
        mail(
            2,
            "SaaS Weekly <news@saasweekly.example>",
            REP,
            "Issue 12",
            "Stories.\r\n",
            "List-Id: <list.saasweekly.example>\r\nPrecedence: bulk\r\n",
        ),
        mail(3, "GitHub <noreply@github.example>", REP, "New comment", "A comment.\r\n"),
        mail(4, "Bob Kim <bob@acme.example>", REP, "Lunch?", "Noon?\r\n"),
    ],
    "Sent": [
        mail(
            5, f"Dana <{REP}>", "Ann Lee <ann@northwind.example>", "Re: Pilot", "Yes, Monday.\r\n"
        ),
    ],
}


class ImapLogin(Protocol):
    """Where an account signs in: a Dovecot user, or a proxy in front of one."""

    @property
    def port(self) -> int: ...

    @property
    def name(self) -> str: ...


def settings_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, accounts: dict[str, tuple[ImapLogin, str]]
) -> Settings:
    fields = {
        "kind": "imap",
        "owner": REP,
        "host": "127.0.0.1",
        "tls": "none",
        "allow_plaintext": "true",
        "backfill": "30d",
        "batch_size": 2,
    }
    return admin_settings(
        tmp_path,
        monkeypatch,
        "acme.example",
        {
            name: {**fields, "port": user.port, "username": user.name, "password": password}
            for name, (user, password) in accounts.items()
        },
    )


def contacts(db: Database) -> list[tuple[tuple[str, ...], str | None]]:
    return sorted((c.emails, c.name) for c in db.list_contacts(limit=1000))


def load(user: MailUser) -> None:
    for folder, messages in MAILBOX.items():
        user.append(folder, messages)
