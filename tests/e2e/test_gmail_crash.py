"""A Gmail backfill killed with SIGKILL mid-way, then restarted, through the CLI against the
loopback Google fake served from this test process: no committed message is fetched again,
and the end state equals an uninterrupted run; then mail and calendar together, killed at 20
random points."""

from __future__ import annotations

import json
import signal
import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.crash_mail import MESSAGES, PEOPLE, crash_mail
from tests.e2e.kills import assert_same, finish, killed_then_finished, seed
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import snapshot
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
MEETINGS = 60
CLIENT_SECRET = "GOCSPX-crash-5be1"


def load_mailbox(fake: GoogleApiFake) -> None:
    box = fake.user(DANA).mailbox
    for raw, inbound in crash_mail(DANA):
        box.add(raw, ("INBOX",) if inbound else ("SENT",))


def load_calendar(fake: GoogleApiFake) -> None:
    """60 meetings of Dana's from 30 days back to 29 ahead, one a weekly series of 4."""
    first = (datetime.now(UTC) - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    for n in range(MEETINGS):
        start = first + timedelta(days=n, hours=n % 8)
        guest = PEOPLE[n % len(PEOPLE)]
        name, address = guest.split(" <")
        fake.user(DANA).calendars.put(
            {
                "summary": f"Account review {n}",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": (start + timedelta(minutes=30)).isoformat()},
                "organizer": {"email": DANA, "self": True},
                "attendees": [
                    {"email": DANA, "self": True, "responseStatus": "accepted"},
                    {"email": address[:-1], "displayName": name, "responseStatus": "accepted"},
                ],
                **({"recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"]} if n == 5 else {}),
            }
        )


def write_config(
    folder: Path,
    name: str,
    fake: GoogleApiFake,
    refresh: str,
    units_per_second: int = 300,
    calendar: bool = False,
) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / (name + '.db')}\n"
        "org_domains: [acme.example]\n"
        "accounts:\n"
        f"  - name: dana\n    kind: gmail\n    owner: {DANA}\n    client_id: {CLIENT_ID}\n"
        "    client_secret: ${CRASH_CLIENT_SECRET}\n    refresh_token: ${CRASH_REFRESH}\n"
        f"    token_uri: {fake.auth.token_uri}\n    api_root: {fake.url}\n"
        f"    calendar_api_root: {fake.url}\n    calendar: {str(calendar).lower()}\n"
        "    backfill: 60d\n    lookahead: 30d\n"
        # Slow enough (about 1,500 units at 300 a second) to be killed half-way.
        f"    batch_size: 20\n    quota_units_per_second: {units_per_second}\n"
    )
    return path


def committed_ids(db: Path) -> set[str]:
    """Gmail ids (hex) of the copies committed in ``db``."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute("SELECT provider_id FROM interaction_sources").fetchall()
    return {f"{int(p.removeprefix('gm:')):016x}" for (p,) in rows}


def reference_capture(
    fake: GoogleApiFake, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], dict[str, Any]]:
    """The mailbox loaded and captured once without a kill: (the sync's environment, its tables)."""
    load_mailbox(fake)
    fake.auth.add_client(CLIENT_ID, CLIENT_SECRET)
    refresh = fake.auth.add_refresh_token(DANA, (GMAIL_SCOPE, CALENDAR_SCOPE))
    env = {"CRASH_CLIENT_SECRET": CLIENT_SECRET, "CRASH_REFRESH": refresh}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = load(write_config(folder, "reference", fake, refresh))
    [report] = sync_once(settings, open_database(settings.database_url))
    assert (report.outcome, report.records) == ("ok", MESSAGES)
    return env, snapshot(open_database(settings.database_url).engine)


def test_sigkill_mid_gmail_backfill_then_restart_fetches_nothing_committed_twice(
    google_api: GoogleApiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, expected = reference_capture(google_api, tmp_path, monkeypatch)
    refresh = env["CRASH_REFRESH"]

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


def test_gmail_mail_and_calendar_killed_at_20_random_points_equals_an_uninterrupted_run(
    google_api: GoogleApiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both streams of one account: Gmail's history ids, Calendar's sync and page tokens."""
    drawn = seed()
    load_calendar(google_api)
    env, mail_only = reference_capture(google_api, tmp_path, monkeypatch)
    reference = write_config(tmp_path, "both", google_api, env["CRASH_REFRESH"], 1500, True)
    finish(reference, env)
    expected = snapshot(open_database(f"sqlite:///{tmp_path / 'both.db'}").engine)
    # The mail, the 59 single meetings and the series' 4 occurrences.
    assert len(expected["sources"]) == len(mail_only["sources"]) + 59 + 4 == MESSAGES + 63
    victim = write_config(tmp_path, "victim", google_api, env["CRASH_REFRESH"], 1500, True)
    victim_db = tmp_path / "victim.db"
    got, note = killed_then_finished(victim, victim_db, len(expected["sources"]), drawn, env)
    assert lasting(got.pop("cursors")) == lasting(expected.pop("cursors")), note
    assert_same(got, expected, note)
    # The token the victim kept is one Calendar still honours: the next run lists
    # changes since it, not the whole calendar again.
    google_api.log.clear()
    finish(victim, env)
    listings = google_api.requests("/calendars/[^/]+/events$")
    assert listings and all("syncToken" in r.query for r in listings), note


def lasting(cursors: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The cursors without what depends on when a run ran (the window end, the time the
    calendars were listed) or on how often it ran: Calendar mints a new sync token
    for every full listing, as Google's are opaque and new each time."""
    kept = set()
    for account, stream, text in cursors:
        cursor = json.loads(text)
        for key in ("until", "listed", "sync_token"):
            cursor.pop(key, None)
        kept.add((account, stream, json.dumps(cursor, sort_keys=True)))
    return kept
