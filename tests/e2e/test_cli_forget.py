"""``autocapture forget``: erase a person from the shell; a resync does not bring them back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.e2e.sample import autocapture, demo_config_text

RENEE = "renee.dubois@globex.example"


def test_forget_then_resync_from_scratch(tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    config = tmp_path / "demo.yaml"
    config.write_text(demo_config_text(f"sqlite:///{db}"))
    assert autocapture("--config", str(config), "sync").returncode == 0
    found = autocapture("--config", str(config), "contacts", "search", "Dubois", "--json")
    [renee] = [json.loads(line) for line in found.stdout.splitlines()]

    result = autocapture("--config", str(config), "forget", RENEE.upper())

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"forgot contact {renee['id']}: ")
    assert "dubois" not in result.stdout.lower()
    for query in ("Dubois", "renee", "globex"):
        listing = autocapture("--config", str(config), "contacts", "search", query, "--json")
        assert RENEE not in listing.stdout
    # Every cursor forgotten: the archive is read again from its start.
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM sync_cursors")
    assert autocapture("--config", str(config), "sync").returncode == 0
    with sqlite3.connect(db) as conn:
        dump = "\n".join(conn.iterdump()).lower()
    assert "renee.dubois" not in dump and "renée dubois" not in dump

    again = autocapture("--config", str(config), "forget", RENEE)
    assert (again.returncode, again.stderr) == (1, f"autocapture: nothing stored for {RENEE}\n")
    assert autocapture("--config", str(config), "forget", "99999").returncode == 1
    bad = autocapture("--config", str(config), "forget", "not an address")
    assert bad.returncode == 2
