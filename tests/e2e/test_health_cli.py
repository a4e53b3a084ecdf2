"""What a person sees: ``autocapture verify``, ``status`` and ``status --json`` after
a sync of a real Dovecot mailbox, before and after a lost batch is found and repaired."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.database import open_database
from tests.e2e.sample import ROOT
from tests.health_accounts import imap_config, store_cursor
from tests.imap_mailbox import REP, load, mail
from tests.servers.dovecot import MailUser

pytestmark = pytest.mark.server


def cli(config: Path, password: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", "--config", str(config), *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "REP_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_and_status_show_health_missing_items_and_their_repair(
    dovecot: MailUser, tmp_path: Path
) -> None:
    load(dovecot)
    config = imap_config(tmp_path, dovecot.port, dovecot.name)
    since = (datetime.now(UTC) - timedelta(days=30)).date()
    assert cli(config, dovecot.password, "sync").returncode == 0
    clean = cli(config, dovecot.password, "verify")
    assert (clean.returncode, clean.stdout) == (
        0,
        f"rep: 0 missing in INBOX since {since}\n"
        f"rep: 0 missing in Sent since {since}\n"
        "rep: 2 streams checked, 0 missing, 0 removed\n",
    )

    dovecot.append(
        "INBOX", [mail(n, "Ann <ann@northwind.example>", REP, "Late", "x\r\n") for n in (6, 7)]
    )
    db = open_database(f"sqlite:///{tmp_path / 'capture.db'}")
    cursor = dict(db.load_cursor("rep", "INBOX") or {})
    store_cursor(db, "rep", "INBOX", {**cursor, "last_uid": cursor["last_uid"] + 2})
    db.close()
    found = cli(config, dovecot.password, "verify", "--account", "rep")
    assert found.stdout.splitlines() == [
        f"rep: 2 missing in INBOX since {since} (queued for the next poll)",
        f"rep: 0 missing in Sent since {since}",
        "rep: 2 streams checked, 2 missing, 0 removed",
    ]
    status = cli(config, dovecot.password, "status")
    assert status.returncode == 0
    assert " live " in status.stdout
    assert f"rep: 2 missing in INBOX since {since} (queued for the next poll) (checked " in (
        status.stdout
    )

    assert cli(config, dovecot.password, "sync").stdout.startswith("rep: ok - 2 records")
    (row,) = [
        json.loads(line)
        for line in cli(config, dovecot.password, "status", "--json").stdout.splitlines()
    ]
    assert row["health"]["state"] == "live"
    # The repair is a short catch-up: the queued UIDs come in a batch that says more follows.
    assert [(t["from_state"], t["to_state"]) for t in row["transitions"]] == [
        (None, "backfilling"),
        ("backfilling", "live"),
        ("live", "backfilling"),
        ("backfilling", "live"),
    ]
    assert [
        (c["stream"], c["listed"], c["missing"], c["outstanding"]) for c in row["completeness"]
    ] == [
        ("INBOX", 6, 2, 0),
        ("Sent", 1, 0, 0),
    ]
    after = cli(config, dovecot.password, "status").stdout
    assert f"rep: 2 missing in INBOX since {since} (2 captured since) (checked " in after
