"""A Microsoft 365 backfill killed with SIGKILL mid-way, then restarted, through the CLI against
the loopback identity and Graph fakes served from this test process: the end state equals an
uninterrupted run, and the restart resumes from the last committed delta page; then mail and
calendar together, killed at 20 random points."""

from __future__ import annotations

import signal
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.crash_mail import MESSAGES, PEOPLE, crash_mail
from tests.e2e.kills import finish, killed_then_finished, seed
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import snapshot
from tests.microsoft_clients import (
    CLIENT_SECRET,
    DANA,
    account_yaml,
    graph_event,
    register,
    settings_text,
)
from tests.servers.microsoft_graph import Graph

MEETINGS = 60


def load_mailbox(graph: Graph) -> None:
    box = graph.mailboxes[DANA]
    for raw, inbound in crash_mail(DANA):
        box.add(raw, "inbox" if inbound else "sentitems")


def load_calendar(graph: Graph) -> None:
    """60 meetings of Dana's, one a day from 30 days back, each with one of the people."""
    first = (datetime.now(UTC) - timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    for n in range(MEETINGS):
        address = PEOPLE[n % len(PEOPLE)].split(" <")[1][:-1]
        graph.calendars[DANA].put(
            graph_event(
                f"AAMkAGkill{n:04d}AAA=",
                f"kill{n}@acme.example",
                first + timedelta(days=n, hours=n % 8),
                f"Account review {n}",
                DANA,
                [(address, "required", "accepted")],
            )
        )


def write_config(folder: Path, name: str, graph: Graph, calendar: bool = False) -> Path:
    path = folder / f"{name}.yaml"
    account = account_yaml(graph, "dana", calendar=str(calendar).lower(), batch_size="10")
    path.write_text(
        f"database_url: sqlite:///{folder / (name + '.db')}\n" + settings_text([account])
    )
    return path


def committed(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM interaction_sources").fetchone()[0])


def reference_capture(
    graph: Graph, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[dict[str, str], dict[str, Any]]:
    """The mailbox loaded and captured once without a kill: (the sync's environment, its tables)."""
    register(graph)
    load_mailbox(graph)
    env = {"TEST_M365_CLIENT_SECRET": CLIENT_SECRET}
    monkeypatch.setenv("TEST_M365_CLIENT_SECRET", CLIENT_SECRET)
    settings = load(write_config(folder, "reference", graph))
    [report] = sync_once(settings, open_database(settings.database_url))
    assert (report.outcome, report.records) == ("ok", MESSAGES)
    return env, snapshot(open_database(settings.database_url).engine)


def assert_same_but_tokens(got: dict[str, Any], expected: dict[str, Any], note: str) -> None:
    """Equal tables; the cursors only by stream, as delta tokens are new on every round."""
    for table in expected:
        if table == "cursors":
            assert {row[:2] for row in got[table]} == {row[:2] for row in expected[table]}, note
            continue
        assert got[table] == expected[table], f"{table} differs ({note})"


def test_sigkill_mid_graph_backfill_then_restart_equals_an_uninterrupted_run(
    microsoft_graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = microsoft_graph
    env, expected = reference_capture(graph, tmp_path, monkeypatch)

    graph.server.latency = 0.05  # a backfill of 30-odd pages takes seconds: time to kill it
    victim = write_config(tmp_path, "victim", graph)
    victim_db = tmp_path / "victim.db"
    proc = start_sync(victim, env)
    orphans = kill_once_captured(proc, victim_db, 100)
    assert proc.returncode == -signal.SIGKILL
    assert not wait_gone(orphans), "a read-ahead child outlived its agent"
    done = committed(victim_db)
    assert 100 <= done < MESSAGES

    graph.server.log.clear()
    final = start_sync(victim, env)
    _, stderr = final.communicate(timeout=300)
    assert final.returncode == 0, stderr.decode(errors="replace")[-2000:]
    # Resumed from the committed cursors: no first round (no $filter) was asked again.
    firsts = [r for r in graph.server.log if r.arg("$filter") is not None]
    assert len(firsts) <= 1  # at most a folder whose first page was not yet committed
    got = snapshot(open_database(f"sqlite:///{victim_db}").engine)
    assert_same_but_tokens(got, expected, "one kill after 100 messages")


def test_graph_mail_and_calendar_killed_at_20_random_points_equals_an_uninterrupted_run(
    microsoft_graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both kinds of stream of one account, each paged by its own delta links."""
    drawn = seed()
    env, mail_only = reference_capture(microsoft_graph, tmp_path, monkeypatch)
    load_calendar(microsoft_graph)  # Dana's calendar exists once she is registered
    finish(write_config(tmp_path, "both", microsoft_graph, calendar=True), env)
    expected = snapshot(open_database(f"sqlite:///{tmp_path / 'both.db'}").engine)
    assert len(expected["sources"]) == len(mail_only["sources"]) + MEETINGS == MESSAGES + MEETINGS
    microsoft_graph.server.latency = 0.01  # some time between pages for a kill to land in
    victim = write_config(tmp_path, "victim", microsoft_graph, calendar=True)
    victim_db = tmp_path / "victim.db"
    got, note = killed_then_finished(victim, victim_db, len(expected["sources"]), drawn, env)
    assert_same_but_tokens(got, expected, note)
    # The delta links the victim kept are live: a further run follows them, no new round.
    microsoft_graph.server.log.clear()
    finish(victim, env)
    rounds = [r for r in microsoft_graph.server.log if r.path.endswith("/delta")]
    assert rounds and all(r.arg("$deltatoken") or r.arg("$skiptoken") for r in rounds), note
