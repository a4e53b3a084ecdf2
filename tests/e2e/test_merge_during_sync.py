"""A merge committed while ``autocapture sync`` runs in another process loses nothing.

The sync process is frozen (SIGSTOP) part-way, possibly inside a write
transaction; the merge is started, the sync resumed, and both finish. The
result must equal a database that captured everything first and merged the
same two people afterwards: every interaction, participant, observation
and address, with the merged-away person's later mail on the survivor and
no second contact made for them. On SQLite and on PostgreSQL (where the
merge and the capture's transactions overlap, serialised by the identity
lock).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.e2e.processes import start_sync
from tests.e2e.sample import ROOT, autocapture, demo_config, snapshot
from tests.watchdog import wait_until

SURVIVOR = "priya.shah@acme-robotics.example"
MERGED = "tom.becker@acme-robotics.example"


def read(engine: sa.Engine, query: str, **values: str) -> list[sa.Row[*tuple[Any, ...]]]:
    """Rows of ``query``, none while the schema is not migrated yet."""
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(query), values))
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return []


def owners(engine: sa.Engine) -> dict[str, int]:
    query = "SELECT email, contact_id FROM contact_emails WHERE email IN (:a, :b)"
    return {r[0]: r[1] for r in read(engine, query, a=SURVIVOR, b=MERGED)}


def copies(engine: sa.Engine) -> int:
    rows = read(engine, "SELECT count(*) FROM interaction_sources")
    return int(rows[0][0]) if rows else 0


def seats_of(engine: sa.Engine, email: str) -> int:
    query = "SELECT count(*) FROM interaction_participants WHERE email = :e"
    return int(read(engine, query, e=email)[0][0])


def merge(config: Path, engine: sa.Engine) -> subprocess.Popen[str]:
    ids = owners(engine)
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


@pytest.fixture(params=["sqlite", "postgresql"])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'reference.db'}", f"sqlite:///{tmp_path / 'live.db'}"
    return request.getfixturevalue("pg_url"), request.getfixturevalue("another_pg_url")


def test_merge_while_a_sync_runs_loses_nothing(tmp_path: Path, two_urls: tuple[str, str]) -> None:
    reference = demo_config(tmp_path, "reference", batch_size=1, db_url=two_urls[0])
    settled_engine, engine = (sa.create_engine(u) for u in two_urls)
    assert autocapture("--config", str(reference), "sync").returncode == 0
    settled = merge(reference, settled_engine)
    assert settled.wait(timeout=120) == 0, settled.stderr.read() if settled.stderr else ""
    total = copies(settled_engine)

    live = demo_config(tmp_path, "live", batch_size=1, db_url=two_urls[1])
    sync = start_sync(live)
    try:
        wait_until(lambda: len(owners(engine)) == 2 or sync.poll() is not None, "both contacts")
        sync.send_signal(signal.SIGSTOP)
        assert copies(engine) < total  # the sync is part-way through
        before = seats_of(engine, MERGED)
        merging = merge(live, engine)
    finally:
        sync.send_signal(signal.SIGCONT)
    out, err = merging.communicate(timeout=120)
    assert merging.returncode == 0, err
    assert out.startswith("m1: contact "), out
    assert sync.wait(timeout=300) == 0
    assert copies(engine) == total
    assert seats_of(engine, MERGED) > before  # the merged-away person's later mail came after

    got, expected = snapshot(engine), snapshot(settled_engine)
    for table, rows in expected.items():
        assert got[table] == rows, (table, sorted(got[table] ^ rows, key=str))
    assert len(owners(engine)) == 2 and len(set(owners(engine).values())) == 1
    for e in (settled_engine, engine):
        e.dispose()
