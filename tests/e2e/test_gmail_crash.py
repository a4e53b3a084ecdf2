"""A Gmail backfill killed with SIGKILL mid-way, then restarted, through the CLI against the
loopback Google fake served from this test process: no committed message is fetched again,
and the end state equals an uninterrupted run."""

from __future__ import annotations

import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.crash_mail import MESSAGES, crash_mail
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import snapshot
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
CLIENT_SECRET = "GOCSPX-crash-5be1"


def load_mailbox(fake: GoogleApiFake) -> None:
    box = fake.user(DANA).mailbox
    for raw, inbound in crash_mail(DANA):
        box.add(raw, ("INBOX",) if inbound else ("SENT",))


def write_config(folder: Path, name: str, fake: GoogleApiFake, refresh: str) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / (name + '.db')}\n"
        "org_domains: [acme.example]\n"
        "accounts:\n"
        f"  - name: dana\n    kind: gmail\n    owner: {DANA}\n    client_id: {CLIENT_ID}\n"
        "    client_secret: ${CRASH_CLIENT_SECRET}\n    refresh_token: ${CRASH_REFRESH}\n"
        f"    token_uri: {fake.auth.token_uri}\n    api_root: {fake.url}\n"
        f"    calendar_api_root: {fake.url}\n    calendar: false\n    backfill: 60d\n"
        # Slow enough (about 1,500 units at 300 a second) to be killed half-way.
        "    batch_size: 20\n    quota_units_per_second: 300\n"
    )
    return path


def committed_ids(db: Path) -> set[str]:
    """Gmail ids (hex) of the copies committed in ``db``."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT provider_id FROM interaction_sources").fetchall()
    return {f"{int(p.removeprefix('gm:')):016x}" for (p,) in rows}


def test_sigkill_mid_gmail_backfill_then_restart_fetches_nothing_committed_twice(
    google_api: GoogleApiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_mailbox(google_api)
    google_api.auth.add_client(CLIENT_ID, CLIENT_SECRET)
    refresh = google_api.auth.add_refresh_token(DANA, (GMAIL_SCOPE, CALENDAR_SCOPE))
    env = {"CRASH_CLIENT_SECRET": CLIENT_SECRET, "CRASH_REFRESH": refresh}

    reference = write_config(tmp_path, "reference", google_api, refresh)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load(reference)
    [report] = sync_once(settings, open_database(settings.database_url))
    assert (report.outcome, report.records) == ("ok", MESSAGES)
    expected = snapshot(open_database(settings.database_url).engine)

    google_api.log.clear()
    victim = write_config(tmp_path, "victim", google_api, refresh)
    victim_db = tmp_path / "victim.db"
    proc = start_sync(victim, env)
    orphans = kill_once_captured(proc, victim_db, 100)
    assert proc.returncode == -signal.SIGKILL
    assert not wait_gone(orphans), "a read-ahead child outlived its agent"
    done = committed_ids(victim_db)
    assert 100 <= len(done) < MESSAGES

    final = start_sync(victim, env)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode(errors="replace")[-2000:]
    asked = Counter(r.path.rsplit("/", 1)[1] for r in google_api.requests("/messages/[0-9a-f]+$"))
    assert {i: asked[i] for i in done if asked[i] != 1} == {}
    assert len(asked) == MESSAGES
    got = snapshot(open_database(f"sqlite:///{victim_db}").engine)
    for table in expected:
        assert got[table] == expected[table], table
