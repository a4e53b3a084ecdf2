"""Crash safety at random: SIGKILL ``autocapture sync`` at 20 random points, restart each time.

The three fixed kill points of test_crash_recovery catch a known class of
mistake; random points find the ones nobody thought of (a kill during
migration, between a fetch and its commit, in the read-ahead child's
hand-over). Each harness draws 20 distinct commit counts from a seeded
generator, kills the agent a random few milliseconds after that many source
copies are committed, restarts it, and at the end compares the whole
database, by natural keys, with one uninterrupted capture. The seed is in
the failure message; ``AUTOCAPTURE_KILL_SEED`` replays it.
"""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest

from bench.imap_backfill import CONFIG, PASSWORD_VAR
from bench.mailgen import OWNER, generate_mail
from storage import open_database
from tests.e2e.kills import (
    FINISHED,
    assert_killed,
    assert_same,
    finish,
    killed_then_finished,
    seed,
)
from tests.e2e.processes import kill_once_captured, start_sync
from tests.e2e.sample import demo_config_text, snapshot
from tests.servers.dovecot import MailUser


def archive_config(folder: Path, name: str, db_url: str | None = None) -> Path:
    text = demo_config_text(db_url or f"sqlite:///{folder / (name + '.db')}")
    text = re.sub(r"(?m)^(\s*)kind: archive$", r"\g<0>\n\g<1>batch_size: 3", text)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_archive_capture_killed_at_20_random_points_equals_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    drawn = seed()
    finish(archive_config(tmp_path, "reference"))
    expected = snapshot(open_database(f"sqlite:///{tmp_path / 'reference.db'}").engine)
    victim, victim_db = archive_config(tmp_path, "victim"), tmp_path / "victim.db"
    got, note = killed_then_finished(victim, victim_db, len(expected["sources"]), drawn)
    assert_same(got, expected, note)


@pytest.mark.server
def test_archive_capture_on_postgresql_killed_at_20_random_points_equals_an_uninterrupted_run(
    tmp_path: Path, pg_url: str, another_pg_url: str
) -> None:
    """PostgreSQL rolls back what a killed client left open, where SQLite's journal does."""
    drawn = seed()
    finish(archive_config(tmp_path, "reference", another_pg_url))
    expected = snapshot(open_database(another_pg_url).engine)
    victim = archive_config(tmp_path, "victim", pg_url)
    got, note = killed_then_finished(victim, pg_url, len(expected["sources"]), drawn)
    assert_same(got, expected, note)


@pytest.mark.server
def test_imap_backfill_killed_at_20_random_points_equals_an_uninterrupted_run(
    tmp_path: Path, dovecot: MailUser
) -> None:
    drawn = seed()
    mail = list(generate_mail(300, seed=7))
    for folder in ("INBOX", "Sent"):
        dovecot.append(folder, [m.raw for m in mail if m.folder == folder])
    env = {PASSWORD_VAR: dovecot.password}

    def config(name: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        text = CONFIG.format(
            db=tmp_path / f"{name}.db",
            org="acme-corp.example",
            owner=OWNER,
            port=dovecot.port,
            user=dovecot.name,
            password_var=PASSWORD_VAR,
            batch=7,
        )
        path.write_text(text)
        return path

    finish(config("reference"), env)
    expected = snapshot(open_database(f"sqlite:///{tmp_path / 'reference.db'}").engine)
    invitations = sum(b"text/calendar" in m.raw for m in mail)  # a message and its meeting
    assert len(expected["sources"]) == len(mail) + invitations
    victim, victim_db = config("victim"), tmp_path / "victim.db"
    got, note = killed_then_finished(victim, victim_db, len(expected["sources"]), drawn, env)
    assert_same(got, expected, note)


def test_a_finished_run_is_not_counted_as_a_kill(tmp_path: Path) -> None:
    """The harness can tell a kill from a run that ended first: the count above can fail."""
    config, db = archive_config(tmp_path, "done"), tmp_path / "done.db"
    finish(config)
    proc = start_sync(config)
    kill_once_captured(proc, db, 10**9, deadline=120)
    assert proc.returncode == 0


def test_the_kill_count_fails_on_a_run_that_stopped_by_itself() -> None:
    """Only kills, and one run found finished, pass; an early or failed exit does not."""
    assert_killed([-signal.SIGKILL] * 19 + [FINISHED], "one finished")
    for codes in ([-signal.SIGKILL] * 19 + [0], [-signal.SIGKILL] * 18 + [FINISHED] * 2, [2] * 20):
        with pytest.raises(AssertionError):
            assert_killed(codes, "must fail")
