"""``autocapture status`` as an admin reads it: real processes, real files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.configs import OWNER, archive_config, email
from tests.e2e.sample import autocapture


def meeting(start: datetime) -> bytes:
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    end = (start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ")
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        "UID:kickoff@initech.example\r\nDTSTAMP:20261201T000000Z\r\n"
        f"DTSTART:{stamp}\r\nDTEND:{end}\r\nSUMMARY:Kick-off\r\n"
        f"ORGANIZER:mailto:{OWNER}\r\n"
        "ATTENDEE;PARTSTAT=ACCEPTED:mailto:ann@initech.example\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def status(config: Path) -> dict[str, object]:
    result = autocapture("--config", str(config), "status", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = [json.loads(line) for line in result.stdout.splitlines()]
    return dict(row)


def test_status_counts_stored_items_once_and_dates_the_newest_past_one(tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    archive = tmp_path / "archive"
    archive.mkdir()
    past = now - timedelta(days=3)
    (archive / "pilot.eml").write_bytes(email(past, 1))
    (archive / "kickoff.ics").write_bytes(meeting(now + timedelta(days=7)))
    config = archive_config(tmp_path, archive)
    first = autocapture("--config", str(config), "sync")
    assert first.stdout.startswith("alice: ok - 2 records, 2 new interactions"), first.stdout
    # A chmod changes the files' ctime: the archive reads them again, and
    # upserts store nothing new. Two stored items, however often fetched.
    for item in archive.iterdir():
        os.chmod(item, 0o640)
    again = autocapture("--config", str(config), "sync")
    assert again.stdout.startswith("alice: ok - 2 records, 0 new interactions"), again.stdout
    row = status(config)
    assert row["items_captured"] == 2
    assert row["newest_interaction_at"] == past.isoformat()  # not next week's meeting
    table = autocapture("--config", str(config), "status")
    assert " 3d ago " in table.stdout, table.stdout


def test_a_wider_backfill_captures_the_older_mail_once_and_status_says_where_it_starts(
    tmp_path: Path,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    archive = tmp_path / "archive"
    archive.mkdir()
    old, recent = now - timedelta(days=395), now - timedelta(days=3)
    (archive / "old.eml").write_bytes(email(old, 1))
    (archive / "recent.eml").write_bytes(email(recent, 2))
    config = archive_config(tmp_path, archive, backfill="365d")
    first = autocapture("--config", str(config), "sync")
    assert first.stdout.startswith("alice: ok - 1 records, 1 new interactions"), first.stdout
    start = (now - timedelta(days=365)).date().isoformat()
    shown = autocapture("--config", str(config), "status")
    assert (
        f"alice: backfill window starts {start}; older mail and meetings are not captured"
        in shown.stdout
    )

    config = archive_config(tmp_path, archive, backfill="730d")
    shown = autocapture("--config", str(config), "status")
    wider = (now - timedelta(days=730)).date().isoformat()
    assert (
        f"alice: backfill window starts {wider}; the next sync captures what lies "
        f"before {start}" in shown.stdout
    ), shown.stdout
    second = autocapture("--config", str(config), "sync")
    # The stream is read again over the wider window; upserts keep one copy.
    assert second.stdout.startswith("alice: ok - 2 records, 1 new interactions"), second.stdout
    listing = autocapture("--config", str(config), "interactions", "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    assert sorted((r["identity"], len(r["sources"])) for r in rows) == [
        ("msgid:status-1@initech.example", 1),
        ("msgid:status-2@initech.example", 1),
    ]
    assert status(config)["items_captured"] == 2
    shown = autocapture("--config", str(config), "status")
    assert (
        f"alice: backfill window starts {wider}; older mail and meetings are not captured"
        in shown.stdout
    )
    third = autocapture("--config", str(config), "sync")  # covered now: nothing read again
    assert third.stdout.startswith("alice: ok - 0 records"), third.stdout
