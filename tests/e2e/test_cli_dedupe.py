"""``autocapture dedupe --scan [--json] [--apply-above SCORE]`` from the shell."""

from __future__ import annotations

import json
from pathlib import Path

from matcher.plan import Observation, Plan
from storage import open_database
from tests.e2e.configs import ARCHIVE, write_config
from tests.e2e.sample import autocapture
from tests.identity import me, namesakes_plan
from tests.plans import mail, person

ROB = Observation("name", "Rob Smith", 0.9), Observation("phone:mobile", "+447700900123", 0.9)


def test_scan_then_apply_merges_only_strong_pairs(tmp_path: Path) -> None:
    archive = tmp_path / "none.mbox"
    archive.write_bytes(b"")
    config = write_config(tmp_path, ARCHIVE.format(name="alice", path=archive))
    db = open_database(f"sqlite:///{tmp_path / 'capture.db'}")
    db.apply(namesakes_plan(), "INBOX", None)
    rob = mail("r1@acme", person("rob.smith@acme.com", "from", observations=ROB), me())
    db.apply(Plan(account="alice", interactions=(rob,)), "INBOX", None)
    ids = {c.emails[0]: c.id for c in db.list_contacts(limit=100)}
    db.close()

    scanned = autocapture("--config", str(config), "dedupe", "--scan", "--json")
    assert scanned.returncode == 0, scanned.stderr
    pairs = [json.loads(line) for line in scanned.stdout.splitlines()]
    assert [(p["first"], p["second"], p["outcome"], p["score"]) for p in pairs] == [
        (ids["bob.smith@acme.com"], ids["robert.smith@acme.co.uk"], "review", 0.83),
        (ids["bob.smith@acme.com"], ids["rob.smith@acme.com"], "link", 0.98),
        (ids["robert.smith@acme.co.uk"], ids["rob.smith@acme.com"], "review", 0.83),
        (ids["john.smith@initech.com"], ids["j.smith@initech.com"], "review", 0.75),
    ]
    assert scanned.stderr == (
        "8 contacts, 30 blocks compared: 4 duplicate pairs (1 link, 3 review); "
        "0 keys too common to compare\n"
    )

    applied = autocapture(
        "--config", str(config), "dedupe", "--scan", "--apply-above", "0.9", "--by", "ann"
    )
    assert applied.returncode == 0, applied.stderr
    _, merged, total = applied.stderr.splitlines()
    assert merged.startswith(
        f"m1: contact {ids['rob.smith@acme.com']} merged into {ids['bob.smith@acme.com']} on "
    )
    assert merged.endswith(" by ann: dedupe 0.98: name 0.97 + same company domain + same mobile")
    assert total == "merged 1 pairs"
    after = autocapture("--config", str(config), "dedupe", "--scan", "--json")
    assert len(after.stdout.splitlines()) == 2  # Bob at acme.co.uk (review), the John Smiths


def test_scan_scores_with_the_configured_identity_thresholds(tmp_path: Path) -> None:
    archive = tmp_path / "none.mbox"
    archive.write_bytes(b"")
    config = write_config(tmp_path, ARCHIVE.format(name="alice", path=archive))
    config.write_text(config.read_text() + "identity:\n  link_at: 0.85\n  review_at: 0.8\n")
    db = open_database(f"sqlite:///{tmp_path / 'capture.db'}")
    db.apply(namesakes_plan(), "INBOX", None)
    ids = {c.emails[0]: c.id for c in db.list_contacts(limit=100)}
    db.close()

    scanned = autocapture("--config", str(config), "dedupe", "--scan", "--json")
    assert scanned.returncode == 0, scanned.stderr
    pairs = [json.loads(line) for line in scanned.stdout.splitlines()]
    # The John Smiths (0.75) are below review_at 0.8 now: not a pair.
    assert [(p["first"], p["second"], p["outcome"], p["score"]) for p in pairs] == [
        (ids["bob.smith@acme.com"], ids["robert.smith@acme.co.uk"], "review", 0.83),
    ]
