"""A Microsoft 365 backfill killed with SIGKILL mid-way, then restarted, through the CLI against
the loopback identity and Graph fakes served from this test process: the end state equals an
uninterrupted run, and the restart resumes from the last committed delta page."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

import pytest

from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.crash_mail import MESSAGES, crash_mail
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import snapshot
from tests.microsoft_clients import CLIENT_SECRET, DANA, account_yaml, register, settings_text
from tests.servers.microsoft_graph import Graph


def load_mailbox(graph: Graph) -> None:
    box = graph.mailboxes[DANA]
    for raw, inbound in crash_mail(DANA):
        box.add(raw, "inbox" if inbound else "sentitems")


def write_config(folder: Path, name: str, graph: Graph) -> Path:
    path = folder / f"{name}.yaml"
    account = account_yaml(graph, "dana", calendar="false", batch_size="10")
    path.write_text(
        f"database_url: sqlite:///{folder / (name + '.db')}\n" + settings_text([account])
    )
    return path


def committed(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM interaction_sources").fetchone()[0])


def test_sigkill_mid_graph_backfill_then_restart_equals_an_uninterrupted_run(
    microsoft_graph: Graph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = microsoft_graph
    register(graph)
    load_mailbox(graph)
    env = {"TEST_M365_CLIENT_SECRET": CLIENT_SECRET}
    monkeypatch.setenv("TEST_M365_CLIENT_SECRET", CLIENT_SECRET)
    settings = load(write_config(tmp_path, "reference", graph))
    [report] = sync_once(settings, open_database(settings.database_url))
    assert (report.outcome, report.records) == ("ok", MESSAGES)
    expected = snapshot(open_database(settings.database_url).engine)

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
    for table in expected:
        if table == "cursors":  # delta tokens are new on every round; the streams are the same
            assert {row[:2] for row in got[table]} == {row[:2] for row in expected[table]}
            continue
        assert got[table] == expected[table], table
