"""Reading ahead an IMAP account (agent.readahead): sessions and children, counted on the wire."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import sync_once
from storage.database import open_database
from tests.admin_config import admin_settings
from tests.imap_client import note
from tests.servers.dovecot import MailUser
from tests.servers.imap_proxy import ImapProxy

pytestmark = pytest.mark.server

REP = "dana@acme.example"


def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, port: int, user: MailUser) -> Any:
    fields = {
        "kind": "imap",
        "owner": REP,
        "host": "127.0.0.1",
        "port": port,
        "tls": "none",
        "allow_plaintext": "true",
        "username": user.name,
        "password": user.password,
        "batch_size": 4,
    }
    return admin_settings(tmp_path, monkeypatch, "acme.example", {"rep": fields})


def test_a_first_sync_reads_the_account_ahead_in_one_child_on_one_session(
    dovecot: MailUser, imap_proxy: ImapProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = datetime.now(UTC) - timedelta(days=3)
    for folder, first in (("INBOX", 0), ("Sent", 100)):
        dovecot.append(folder, [note(first + n, when + timedelta(minutes=n)) for n in range(10)])
    settings = settings_for(tmp_path, monkeypatch, imap_proxy.port, dovecot)
    children: set[int | None] = set()

    def seen(*_: object) -> None:
        children.update(p.pid for p in multiprocessing.active_children())

    db = open_database(f"sqlite:///{tmp_path / 'ahead.db'}")
    (report,) = sync_once(settings, db, listener=seen)
    assert (report.outcome, report.records, report.streams) == ("ok", 20, ["INBOX", "Sent"])
    # The child listed the folders and read both; the agent's connector never logged in.
    assert imap_proxy.command_names().count("LOGIN") == 1
    assert imap_proxy.command_names().count("LIST") == 1
    assert len(children) == 1
    assert db.counts()["sources"] == 20

    # A later pass finds a backlog in both folders: the agent's connector
    # lists and checks them, one child reads both backlogs.
    for folder, first in (("INBOX", 50), ("Sent", 150)):
        dovecot.append(folder, [note(first + n, when + timedelta(hours=n)) for n in range(9)])
    imap_proxy.reset_counts()
    children.clear()
    (again,) = sync_once(settings, db, listener=seen)
    assert (again.outcome, again.records) == ("ok", 18)
    assert imap_proxy.command_names().count("LOGIN") == 2
    assert len(children) == 1
    assert db.counts()["sources"] == 38


def test_a_resumed_backlog_fetches_each_message_once(
    dovecot: MailUser, imap_proxy: ImapProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = datetime.now(UTC) - timedelta(days=3)
    dovecot.append("INBOX", [note(n, when + timedelta(minutes=n)) for n in range(4)])
    settings = settings_for(tmp_path, monkeypatch, imap_proxy.port, dovecot)
    db = open_database(f"sqlite:///{tmp_path / 'resumed.db'}")
    (first,) = sync_once(settings, db)
    assert (first.outcome, first.records) == ("ok", 4)

    # Twelve new messages are three batches: the agent fetches the first
    # itself (one might be all there is), and the read-ahead process the
    # other two. Nobody fetches a batch the other one has.
    dovecot.append("INBOX", [note(n, when + timedelta(hours=n)) for n in range(10, 22)])
    imap_proxy.reset_counts()
    (again,) = sync_once(settings, db)
    assert (again.outcome, again.records) == ("ok", 12)
    assert imap_proxy.header_fetches() == [[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]
    assert db.counts()["sources"] == 16
