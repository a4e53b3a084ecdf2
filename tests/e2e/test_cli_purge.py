"""``autocapture purge``: a blocklist added later, applied to what was captured before it.

The demo's blocklist names competitor.example. Captured first without it,
then purged with it, the database must hold what a capture with the
blocklist from the start holds.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from tests.e2e.sample import autocapture, demo_config_text, snapshot

BLOCKED_LINE = "    - competitor.example\n"
# Victor Crane's thread: his messages and Alice's answer to him alone.
VICTOR_THREAD = "202608111330.A39B8D49E998618E@mail.competitor.example"


def configs(tmp_path: Path) -> tuple[Path, Path]:
    purged, fresh = tmp_path / "purged.yaml", tmp_path / "fresh.yaml"
    text = demo_config_text(f"sqlite:///{tmp_path / 'purged.db'}")
    assert BLOCKED_LINE in text
    purged.write_text(text.replace(BLOCKED_LINE, ""))
    fresh.write_text(demo_config_text(f"sqlite:///{tmp_path / 'fresh.db'}"))
    return purged, fresh


def contents(path: Path) -> dict[str, set[tuple[object, ...]]]:
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        return snapshot(engine)
    finally:
        engine.dispose()


def test_purge_leaves_what_a_capture_with_the_blocklist_keeps(tmp_path: Path) -> None:
    before_blocklist, with_blocklist = configs(tmp_path)
    assert autocapture("--config", str(before_blocklist), "sync").returncode == 0
    assert autocapture("--config", str(with_blocklist), "sync").returncode == 0
    purged_db = tmp_path / "purged.db"
    with sqlite3.connect(purged_db) as conn:
        before = "\n".join(conn.iterdump())
    # The blocklist now added to the first database's config.
    blocked = with_blocklist.read_text().replace("fresh.db", "purged.db")
    with_blocklist.write_text(blocked)

    dry = autocapture("--config", str(with_blocklist), "purge", "--dry-run")

    assert dry.returncode == 0, dry.stderr
    expected = "1 contacts, 1 contact addresses, 0 participants and 3 interactions\n"
    assert dry.stdout == "would remove " + expected
    with sqlite3.connect(purged_db) as conn:
        assert "\n".join(conn.iterdump()) == before
    applied = autocapture("--config", str(with_blocklist), "purge", "--apply")
    assert applied.stdout == "removed " + expected

    purged, fresh = contents(purged_db), contents(tmp_path / "fresh.db")
    # Capture stores the owners' side of a thread whose only outsider is
    # blocked where the matcher does not yet drop such items; purge drops it.
    # Nothing else may differ.
    extra = {r[0] for r in fresh["interactions"] - purged["interactions"]}
    assert extra <= {r[0] for r in fresh["interactions"] if r[7] == VICTOR_THREAD}
    for name, rows in fresh.items():
        assert purged[name] == {r for r in rows if r[0] not in extra}, name
    again = autocapture("--config", str(with_blocklist), "purge", "--apply")
    assert (
        again.stdout
        == "removed 0 contacts, 0 contact addresses, 0 participants and 0 interactions\n"
    )
    assert (
        autocapture("--config", str(with_blocklist), "purge").returncode == 2
    )  # a mode is required
