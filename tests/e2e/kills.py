"""Crash safety at random: SIGKILL ``autocapture sync`` at 20 random points, restart
each time, and compare the end state with one uninterrupted capture.

Each harness draws 20 distinct commit counts from a seeded generator, kills
the agent a random few milliseconds after that many source copies are
committed, and restarts it. The seed is in the failure message;
``AUTOCAPTURE_KILL_SEED`` replays it.
"""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storage import open_database
from tests.e2e.processes import kill_once_captured, start_sync, wait_gone
from tests.e2e.sample import captured_so_far, snapshot

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
    config: Path, db: Path | str, total: int, rng: random.Random, env: dict[str, str] | None = None
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


def killed_then_finished(
    config: Path, db: Path | str, total: int, drawn: int, env: dict[str, str] | None = None
) -> tuple[dict[str, Any], str]:
    """``config``'s sync killed at 20 random points drawn from seed ``drawn``, then run to
    its end: (its tables, by ``snapshot``; the note a failure shows, with the seed).

    ``db`` is the SQLite file ``config`` names, or its database's URL.
    """
    codes = kill_at_random_points(config, db, total, random.Random(drawn), env)
    note = f"AUTOCAPTURE_KILL_SEED={drawn}, exit codes {codes}"
    assert_killed(codes, note)
    finish(config, env)
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    return snapshot(open_database(url).engine), note


def assert_killed(codes: Sequence[int | None], note: str) -> None:
    """Every draw killed a run, but at most one that had already finished (see above)."""
    assert set(codes) <= {-signal.SIGKILL, FINISHED}, note
    assert codes.count(FINISHED) <= 1, note


def assert_same(got: dict[str, Any], expected: dict[str, Any], note: str) -> None:
    for table in expected:
        assert got[table] == expected[table], f"{table} differs ({note})"
