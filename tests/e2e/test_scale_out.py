"""Four ``autocapture run`` workers share 1,000 accounts on one PostgreSQL database.

Every account is a ``plugin`` account served by ``tests.recording_connector``:
one message or three, one per fetch, each fetch written down with the pid
that made it and when it started and ended. Half-way through, one worker is killed
with SIGKILL; its leases expire and the other three take its accounts over.
Then every account must be captured once, and no account may ever have been
fetched by two processes at overlapping times.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from storage import Database, open_database
from storage.schema import changes, interaction_sources, interactions
from storage.schema_accounts import account_leases, accounts
from tests.e2e.sample import autocapture
from tests.recording_connector import Fetch, read_fetches
from tests.watchdog import HANG, wait_until

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = 1000


def items(n: int) -> int:
    """Messages in account n, one per fetch: every tenth account takes three
    batches, so a kill can leave it half-way and another worker resume it
    from the committed cursor."""
    return 3 if n % 10 == 0 else 1


TOTAL = sum(items(n) for n in range(ACCOUNTS))
WORKERS = 4


def shared_config(folder: Path, database_url: str, log_dir: Path, count: int = ACCOUNTS) -> Path:
    lines = [
        f"database_url: {database_url}",
        "org_domains: [acme.example]",
        "read_ahead: false",  # a child process per first sync would only cost here
        "workers: 4",
        "lease_ttl: 6s",
        "accounts:",
    ]
    for n in range(count):
        lines += [
            f"  - name: rep{n:04d}",
            "    kind: plugin",
            "    factory: tests.recording_connector:connector",
            "    owner: rep@acme.example",
            "    batch_size: 1",
            "    poll_interval: 1h",
            f"    options: {{items: {items(n)}, log_dir: '{log_dir}', pause: 0.002}}",
        ]
    path = folder / "shared.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start_run(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "agent.cli", "--config", str(config), "run"],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def unfinished(db: Database, pid: int) -> set[str]:
    """Accounts whose lease names the worker of ``pid`` and that are not fully captured."""
    held = sa.select(account_leases.c.account).where(account_leases.c.worker.like(f"%:{pid}:%"))
    with db.engine.connect() as conn:
        names = set(conn.execute(held).scalars())
        done: dict[str, int] = dict(
            conn.execute(
                sa.select(accounts.c.name, sa.func.count(interaction_sources.c.id))
                .join(interaction_sources, interaction_sources.c.account_id == accounts.c.id)
                .group_by(accounts.c.name)
            ).all()
        )
    return {name for name in names if done.get(name, 0) < items(int(name[3:]))}


def overlaps(fetches: list[Fetch], killed: int, killed_at: float) -> list[tuple[Fetch, Fetch]]:
    """Pairs of one account's fetches that ran at the same time; a fetch the
    kill cut short lasted until the kill."""
    by_account: dict[str, list[Fetch]] = defaultdict(list)
    for f in fetches:
        by_account[f.account].append(f)
    found = []
    for done in by_account.values():
        done.sort(key=lambda f: f.start)
        for first, then in itertools.pairwise(done):
            end = first.end if first.end is not None else killed_at
            assert first.end is not None or first.pid == killed, first
            if end > then.start:
                found.append((first, then))
    return found


def test_four_workers_share_1000_accounts_and_survive_a_killed_one(
    pg_url: str, tmp_path: Path
) -> None:
    log_dir = tmp_path / "fetches"
    log_dir.mkdir()
    config = shared_config(tmp_path, pg_url, log_dir)
    db = open_database(pg_url)  # migrated once, before the workers race to it

    def stored() -> int:
        time.sleep(0.2)  # a count is no free query: ask five times a second, not a hundred
        with db.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(interaction_sources)
                ).scalar_one()
            )

    workers = [start_run(config, tmp_path / f"worker{n}.log") for n in range(WORKERS)]
    try:
        wait_until(lambda: stored() >= TOTAL // 2, "half of the items", seconds=HANG * 5)
        victim = workers[0]
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=HANG)
        killed_at = time.time()
        orphans = unfinished(db, victim.pid)
        wait_until(lambda: stored() == TOTAL, "every item", seconds=HANG * 5)
        for worker in workers[1:]:
            worker.send_signal(signal.SIGTERM)
        codes = [worker.wait(timeout=HANG) for worker in workers[1:]]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    logs = [(tmp_path / f"worker{n}.log").read_text() for n in range(WORKERS)]
    assert codes == [0, 0, 0], logs[1:]

    with db.engine.connect() as conn:
        per_account: dict[str, int] = dict(
            conn.execute(
                sa.select(accounts.c.name, sa.func.count(interaction_sources.c.id))
                .join(interaction_sources, interaction_sources.c.account_id == accounts.c.id)
                .group_by(accounts.c.name)
            ).all()
        )
        identities = conn.execute(sa.select(interactions.c.identity)).scalars().all()
        inserted = conn.execute(
            sa.select(changes.c.entity, sa.func.count())
            .where(changes.c.operation == "insert")
            .group_by(changes.c.entity)
        ).all()
    assert per_account == {f"rep{n:04d}": items(n) for n in range(ACCOUNTS)}
    assert sorted(identities) == sorted(
        f"msgid:{n}.rep{a:04d}@acme.example" for a in range(ACCOUNTS) for n in range(items(a))
    )
    assert inserted == [("interaction", TOTAL)]  # each written once, never again

    fetches = read_fetches(log_dir)
    assert overlaps(fetches, victim.pid, killed_at) == []
    pids = {f.pid for f in fetches}
    assert pids == {w.pid for w in workers}
    worked = {pid: {f.account for f in fetches if f.pid == pid} for pid in pids}
    # Every worker had its share; the killed one's unfinished accounts went on elsewhere.
    assert all(len(names) >= ACCOUNTS // (WORKERS * 4) for names in worked.values()), {
        pid: len(names) for pid, names in worked.items()
    }
    assert orphans  # the kill left accounts half-way: leased to the dead worker, not captured
    survivors = set().union(*(worked[w.pid] for w in workers[1:]))
    assert orphans <= survivors
    holders = db.leases().holdings()
    assert [h.account for h in holders] == [f"rep{n:04d}" for n in range(ACCOUNTS)]
    assert {h.worker for h in holders} == {None}  # a clean exit releases at once
    db.close()


def test_status_shows_which_worker_holds_which_account_until_when(
    pg_url: str, tmp_path: Path
) -> None:
    log_dir = tmp_path / "fetches"
    log_dir.mkdir()
    config = shared_config(tmp_path, pg_url, log_dir, count=3)
    db = open_database(pg_url)
    worker = start_run(config, tmp_path / "worker.log")
    try:
        # A lease is claimed before the account's first write: wait for both.
        wait_until(
            lambda: held_by(db, worker.pid) == 3 and len(db.account_status()) == 3,
            "the worker to hold and to have written every account",
        )
        before = {h.account: h.expires_at for h in db.leases().holdings()}
        shown = autocapture("--config", str(config), "status", "--json")
        read = {h.account: h.expires_at for h in db.leases().holdings()}
        table = autocapture("--config", str(config), "status")
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=HANG) == 0
    assert shown.returncode == 0, shown.stderr
    rows = [json.loads(line) for line in shown.stdout.splitlines()]
    assert [r["name"] for r in rows] == ["rep0000", "rep0001", "rep0002"]
    (holder,) = {r["worker"] for r in rows}
    host, pid, tag = holder.split(":")
    assert (host, int(pid), len(tag)) == (socket.gethostname(), worker.pid, 6)
    for r in rows:  # the live expiry as stored; renewals only move it forward
        earliest, latest = before[r["name"]], read[r["name"]]
        assert earliest is not None and latest is not None, r
        assert earliest <= datetime.fromisoformat(r["lease_until"]) <= latest, r
    header, *lines = table.stdout.splitlines()
    assert header.split()[:5] == ["NAME", "KIND", "HEALTH", "WORKER", "LEASE"]
    for line in lines[:3]:  # the health may be several words ("backfilling 1/3")
        words = line.split()
        assert words[words.index(holder) + 1] == "for", line
    after = autocapture("--config", str(config), "status", "--json")
    released = [json.loads(line) for line in after.stdout.splitlines()]
    assert [(r["worker"], r["lease_until"]) for r in released] == [(None, None)] * 3
    assert "WORKER" not in autocapture("--config", str(config), "status").stdout
    db.close()


def held_by(db: Database, pid: int) -> int:
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count()).where(account_leases.c.worker.like(f"%:{pid}:%"))
            ).scalar_one()
        )


def test_a_worker_that_starts_later_gets_its_fair_share_from_the_first(
    pg_url: str, tmp_path: Path
) -> None:
    log_dir = tmp_path / "fetches"
    log_dir.mkdir()
    config = shared_config(tmp_path, pg_url, log_dir, count=20)
    db = open_database(pg_url)
    first = start_run(config, tmp_path / "first.log")
    second = None
    try:
        wait_until(lambda: held_by(db, first.pid) == 20, "the first worker to hold all 20")
        second = start_run(config, tmp_path / "second.log")
        wait_until(
            lambda: (held_by(db, first.pid), held_by(db, second.pid)) == (10, 10),
            "the two workers to hold 10 accounts each",
        )
    finally:
        for worker in (first, second):
            if worker is not None:
                worker.send_signal(signal.SIGTERM)
                assert worker.wait(timeout=HANG) == 0
    fetched = {f.account for f in read_fetches(log_dir)}
    assert fetched == {f"rep{n:04d}" for n in range(20)}
    db.close()
