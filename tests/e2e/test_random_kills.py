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

import os
import random
import re
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.imap_backfill import CONFIG, PASSWORD_VAR
from bench.mailgen import OWNER, generate_mail
from storage import open_database
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import captured_so_far, demo_config_text, snapshot
from tests.servers.dovecot import MailUser

KILLS = 20
FINISHED = 1000  # not an exit code: a run that committed its last source before the kill


def seed() -> int:
    drawn = int(os.environ.get("AUTOCAPTURE_KILL_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"AUTOCAPTURE_KILL_SEED={drawn}")  # shown with a failure, to replay it
    return drawn


def finish(config: Path, env: dict[str, str] | None = None) -> None:
    proc = start_sync(config, env)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]


def kill_at_random_points(
    config: Path, db: Path, total: int, rng: random.Random, env: dict[str, str] | None = None
) -> list[int | None]:
    """Exit codes of the 20 killed runs (-9 when the kill landed mid-run).

    A target in the final batch is reached by the final commit; the kill
    then races the run's exit, and a CI run on a loaded machine lost that
    race once. Such a run must have exited 0 with everything committed: its
    code is recorded as ``FINISHED``, anything else as it came.
    """
    codes: list[int | None] = []
    for target in sorted(rng.sample(range(1, total), KILLS)):
        proc = start_sync(config, env)
        orphans = kill_once_captured(proc, db, target, delay=rng.uniform(0, 0.05), last=total)
        assert not wait_gone(orphans), "a read-ahead child outlived its agent"
        finished = proc.returncode == 0 and captured_so_far(db) == total
        codes.append(FINISHED if finished else proc.returncode)
    return codes


def assert_killed(codes: Sequence[int | None], note: str) -> None:
    """Every draw killed a run, but at most one that had already finished (see above)."""
    assert set(codes) <= {-signal.SIGKILL, FINISHED}, note
    assert codes.count(FINISHED) <= 1, note


def assert_same(got: dict[str, Any], expected: dict[str, Any], note: str) -> None:
    for table in expected:
        assert got[table] == expected[table], f"{table} differs ({note})"


def archive_config(folder: Path, name: str) -> Path:
    text = demo_config_text(f"sqlite:///{folder / (name + '.db')}")
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
    codes = kill_at_random_points(victim, victim_db, len(expected["sources"]), random.Random(drawn))
    note = f"AUTOCAPTURE_KILL_SEED={drawn}, exit codes {codes}"
    assert_killed(codes, note)
    finish(victim)
    assert_same(snapshot(open_database(f"sqlite:///{victim_db}").engine), expected, note)


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
    rng = random.Random(drawn)
    codes = kill_at_random_points(victim, victim_db, len(expected["sources"]), rng, env)
    note = f"AUTOCAPTURE_KILL_SEED={drawn}, exit codes {codes}"
    assert_killed(codes, note)
    finish(victim, env)
    assert_same(snapshot(open_database(f"sqlite:///{victim_db}").engine), expected, note)


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
