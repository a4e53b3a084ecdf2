"""Desktop-client folder exports through the CLI, and paths that give no mail."""

from __future__ import annotations

from pathlib import Path

from tests.archives import apple_mail_export, apple_mail_library, enron_maildir, thunderbird_profile
from tests.e2e.configs import ARCHIVE, write_config
from tests.e2e.sample import autocapture


def test_folder_exports_are_captured_and_empty_paths_are_warned_about(tmp_path: Path) -> None:
    apple = apple_mail_export(tmp_path)
    thunderbird = thunderbird_profile(tmp_path)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("call Renee\n")
    accounts = "".join(
        ARCHIVE.format(name=name, path=f'"{path}"')
        for name, path in (("apple", apple), ("thunderbird", thunderbird), ("notes", notes))
    )
    config = write_config(tmp_path, accounts)

    check = autocapture("config", "check", str(config))
    assert check.returncode == 0, check.stderr
    warnings = [line for line in check.stderr.splitlines() if "no mail will be read" in line]
    assert warnings == [
        f"{config}:21 accounts[2].paths[0]: warning: {notes} holds no .eml, .ics or mbox file,"
        " Maildir, MH folder, Apple Mail or Thunderbird export: no mail will be read from it"
    ]

    sync = autocapture("--config", str(config), "sync")
    assert sync.returncode == 0, sync.stderr
    assert [line.split(" new interactions")[0] for line in sync.stdout.splitlines()] == [
        "apple: ok - 3 records, 3",
        "thunderbird: ok - 4 records, 4",
        "notes: ok - 0 records, 0",
    ]

    status = autocapture("--config", str(config), "status")
    assert status.returncode == 0
    assert status.stderr.splitlines() == [
        f"warning: notes: {notes} holds no .eml, .ics or mbox file, Maildir, MH folder, Apple"
        " Mail or Thunderbird export: no mail will be read from it"
    ]


def test_an_old_archive_is_read_whole_without_a_backfill_setting(tmp_path: Path) -> None:
    """Mail of 2001 in the Enron corpus's layout, and no ``backfill`` in the config."""
    top = enron_maildir(tmp_path)
    config = tmp_path / "old.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path}/old.db\n"
        f"accounts:\n  - {{name: enron, kind: archive, owner: ann@example.com, paths: '{top}'}}\n"
    )
    sync = autocapture("--config", str(config), "sync")
    assert sync.returncode == 0, sync.stderr
    assert sync.stdout.splitlines() == [
        "enron: ok - 3 records, 3 new interactions, 0 new contacts, 0 errors"
    ]


def test_inspect_reads_an_emlx_as_the_archive_does(tmp_path: Path) -> None:
    library = apple_mail_library(tmp_path)
    [good] = library.glob("INBOX.mbox/**/101.emlx")
    [bad] = library.glob("INBOX.mbox/**/105.emlx")
    shown = autocapture("inspect", str(good), "--owner", "ann@example.com")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[0] == "email msgid:m101@example.org"
    broken = autocapture("inspect", str(bad))
    assert (broken.returncode, broken.stderr) == (
        1,
        f"autocapture: cannot inspect {bad}: bad-emlx: the first line is no byte count\n",
    )
