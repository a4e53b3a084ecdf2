"""Accounts for the health and completeness tests: settings, and a stored cursor rewritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from config.settings import Settings
from storage.database import Database
from storage.schema_accounts import accounts, sync_cursors
from tests.admin_config import admin_settings
from tests.imap_mailbox import REP
from tests.servers.radicale import CalendarUser


def caldav_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    user: CalendarUser,
    url: str | None = None,
    name: str = "rep1",
) -> Settings:
    """One CalDAV account of ``user``, at ``url`` (a proxy) or the server itself."""
    fields = {
        "kind": "caldav",
        "allow_plaintext": "true",  # Radicale on loopback, over http://
        "owner": "rep1@ours.example",
        "backfill": "30d",
        "lookahead": "30d",
        "batch_size": 2,
        "url": url or user.url,
        "username": user.name,
        "password": user.password,
    }
    return admin_settings(tmp_path, monkeypatch, "ours.example", {name: fields})


def store_cursor(db: Database, account: str, stream: str, cursor: dict[str, Any]) -> None:
    """Overwrite a stream's stored cursor: the state a server's lost change leaves."""
    ids = sa.select(accounts.c.id).where(accounts.c.name == account).scalar_subquery()
    c = sync_cursors.c
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(sync_cursors)
            .where(c.account_id == ids, c.stream == stream)
            .values(cursor=cursor)
        )


def imap_config(tmp_path: Path, port: int, user: str, extra: str = "") -> Path:
    """A configuration file with one IMAP account ``rep`` (password from $REP_PASSWORD),
    in one process (``read_ahead: false``: retries in a read-ahead child are that
    process's own), polled hourly; ``extra`` adds top-level settings."""
    path = tmp_path / "autocapture.yaml"
    path.write_text(
        f"database_url: sqlite:///{tmp_path / 'capture.db'}\n"
        "org_domains: [acme.example]\n"
        "read_ahead: false\n"
        f"{extra}"
        "accounts:\n"
        "  - name: rep\n"
        "    kind: imap\n"
        f"    owner: [{REP}]\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        "    tls: none\n"
        "    allow_plaintext: true\n"
        f"    username: {user}\n"
        "    password: ${REP_PASSWORD}\n"
        "    backfill: 30d\n"
        "    batch_size: 2\n"
        "    poll_interval: 1h\n"
    )
    return path
