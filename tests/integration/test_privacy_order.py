"""What two reps' copies of one message or meeting store does not depend on whose
mailbox was read first: a copy from an account that may store more fills what
another account's privacy setting withheld."""

from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa

from agent.sync import sync_once
from config.loader import load_text
from storage import open_database
from storage import schema as t
from tests.e2e.sample import EXAMPLES

CONFIG = """\
database_url: sqlite:///{db}
org_domains: [northwind-labs.example]
accounts:
  - name: {first}
    kind: archive
    owner: [alice@northwind-labs.example]
    paths: [{archive}]
    backfill: 3650d
    lookahead: 365d
    privacy: {first_privacy}
  - name: {second}
    kind: archive
    owner: [alice@northwind-labs.example]
    paths: [{archive}]
    backfill: 3650d
    lookahead: 365d
    privacy: {second_privacy}
"""
PRIVACY = {"full-rep": "full", "subject-rep": "subject", "metadata-rep": "metadata"}


def capture(tmp_path: Path, order: tuple[str, str], archive: Path) -> set[tuple[object, ...]]:
    db = tmp_path / f"{'-'.join(order)}.db"
    text = CONFIG.format(
        db=db,
        archive=archive,
        first=order[0],
        second=order[1],
        first_privacy=PRIVACY[order[0]],
        second_privacy=PRIVACY[order[1]],
    )
    settings = load_text(text, base_dir=tmp_path)
    database = open_database(settings.database_url)
    for name in order:  # one account after the other, in this order
        sync_once(settings, database, name)
    i = t.interactions
    with database.engine.connect() as conn:
        rows = conn.execute(sa.select(i.c.identity, i.c.subject, i.c.snippet, i.c.status))
        return {tuple(r) for r in rows}


def test_a_full_copy_fills_what_a_subject_copy_withheld_in_either_order(tmp_path: Path) -> None:
    archive = tmp_path / "mail.mbox"
    shutil.copy(EXAMPLES / "sample-archive/alice/mail.mbox", archive)
    first = capture(tmp_path, ("subject-rep", "full-rep"), archive)
    second = capture(tmp_path, ("full-rep", "subject-rep"), archive)
    assert first == second
    assert sum(1 for _, _, snippet, _ in first if snippet) > 100


def test_a_meeting_keeps_its_subject_when_a_metadata_copy_comes_later(tmp_path: Path) -> None:
    archive = EXAMPLES / "sample-archive/alice/calendar"
    first = capture(tmp_path, ("metadata-rep", "full-rep"), archive)
    second = capture(tmp_path, ("full-rep", "metadata-rep"), archive)
    assert first == second
    subjects = {identity: subject for identity, subject, _, _ in first}
    assert subjects["ical:acme-contract-review@northwind-labs.example|"] == "Acme contract review"
