"""A merge committed while ``autocapture sync`` runs in another process loses nothing.

The sync process is frozen (SIGSTOP) part-way, possibly inside a write
transaction; the merge is started, the sync resumed, and both finish. The
result must equal a database that captured everything first and merged the
same two people afterwards: every interaction, participant, observation
and address, with the merged-away person's later mail on the survivor and
no second contact made for them.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from tests.e2e.processes import start_sync
from tests.e2e.sample import ROOT, autocapture, captured_so_far, demo_config, snapshot
from tests.watchdog import wait_until

SURVIVOR = "priya.shah@acme-robotics.example"
MERGED = "tom.becker@acme-robotics.example"


def owners(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute(
                "SELECT email, contact_id FROM contact_emails WHERE email IN (?, ?)",
                (SURVIVOR, MERGED),
            ).fetchall()
    except sqlite3.OperationalError:  # not migrated yet
        return {}
    return dict(rows)


def seats_of(db: Path, email: str) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        query = "SELECT count(*) FROM interaction_participants WHERE email = ?"
        return int(conn.execute(query, (email,)).fetchone()[0])


def merge(config: Path, db: Path) -> subprocess.Popen[str]:
    ids = owners(db)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "agent.cli",
            "--config",
            str(config),
            "contacts",
            "merge",
            str(ids[SURVIVOR]),
            str(ids[MERGED]),
            "--reason",
            "same account team",
            "--by",
            "test",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_merge_while_a_sync_runs_loses_nothing(tmp_path: Path) -> None:
    reference = demo_config(tmp_path, "reference", batch_size=1)
    assert autocapture("--config", str(reference), "sync").returncode == 0
    settled = merge(reference, tmp_path / "reference.db")
    assert settled.wait(timeout=120) == 0, settled.stderr.read() if settled.stderr else ""
    total = captured_so_far(tmp_path / "reference.db")

    live = demo_config(tmp_path, "live", batch_size=1)
    db = tmp_path / "live.db"
    sync = start_sync(live)
    try:
        wait_until(lambda: len(owners(db)) == 2 or sync.poll() is not None, "both contacts")
        sync.send_signal(signal.SIGSTOP)
        assert captured_so_far(db) < total  # the sync is part-way through
        before = seats_of(db, MERGED)
        merging = merge(live, db)
    finally:
        sync.send_signal(signal.SIGCONT)
    out, err = merging.communicate(timeout=120)
    assert merging.returncode == 0, err
    assert out.startswith("m1: contact "), out
    assert sync.wait(timeout=300) == 0
    assert captured_so_far(db) == total
    assert seats_of(db, MERGED) > before  # the merged-away person's later mail came after

    engines = [sa.create_engine(f"sqlite:///{tmp_path / n}.db") for n in ("reference", "live")]
    expected, got = (snapshot(e) for e in engines)
    assert got == expected
    assert len(owners(db)) == 2 and len(set(owners(db).values())) == 1
