"""A database its user may read but not write: read commands work, writers say why not.

Tests run as root, and root ignores file modes, so the commands run as
``nobody`` (``setpriv``) against a database that ``nobody`` owns with its
write bits off, in a folder likewise: the kernel, not a flag of ours,
refuses the writes. Run by a normal user, the same modes apply to them.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from storage import open_database
from storage.engine import MIGRATIONS, WRITE, create_engine
from tests.e2e.configs import archive_config, email
from tests.e2e.sample import ROOT, autocapture

NOBODY = pwd.getpwnam("nobody")


def as_reader(*args: str) -> subprocess.CompletedProcess[str]:
    """``autocapture ARGS`` as an unprivileged user (nobody when we are root)."""
    drop = ["setpriv", f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}", "--clear-groups"]
    return subprocess.run(
        [*(drop if os.geteuid() == 0 else []), sys.executable, "-m", "agent.cli", *args],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def home() -> Iterator[Path]:
    """A folder the unprivileged user can reach (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="autocapture-ro-"))
    os.chmod(folder, 0o755)
    try:
        yield folder
    finally:
        for path in (folder / "data", *(folder / "data").glob("*")):
            if path.exists():
                os.chmod(path, 0o700)
        shutil.rmtree(folder)


def hand_over(data: Path, file_mode: int, folder_mode: int) -> None:
    """Give the data folder to the reader with these modes (ownership only as root)."""
    for path in (*data.iterdir(), data):
        if os.geteuid() == 0:
            os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
        os.chmod(path, (folder_mode if path.is_dir() else file_mode))


def captured_config(home: Path) -> Path:
    archive = home / "archive"
    archive.mkdir()
    (archive / "pilot.eml").write_bytes(email(datetime.now(UTC) - timedelta(days=3), 1))
    config = archive_config(home, archive)
    text = config.read_text().replace(str(home / "status.db"), str(home / "data" / "status.db"))
    config.write_text(text)
    (home / "data").mkdir()
    first = autocapture("--config", str(config), "sync")
    assert first.returncode == 0, first.stderr
    return config


@pytest.mark.parametrize("closed", [False, True], ids=["wal-left", "closed-cleanly"])
def test_read_commands_work_on_a_read_only_database_and_sync_says_what_is_not_writable(
    home: Path, closed: bool
) -> None:
    config = captured_config(home)
    data, db = home / "data", home / "data" / "status.db"
    # The sync process left its WAL beside the database, committed rows in it;
    # a clean close folds it in and removes it, and then a reader in a
    # read-only folder cannot create the WAL index it would need.
    if closed:
        open_database(f"sqlite:///{db}").close()
    assert Path(f"{db}-wal").exists() != closed
    hand_over(data, file_mode=0o400, folder_mode=0o500)

    status = as_reader("--config", str(config), "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [
        (r["name"], r["items_captured"]) for r in map(json.loads, status.stdout.splitlines())
    ] == [("alice", 1)]
    listing = as_reader("--config", str(config), "contacts", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout == ""  # one message, no exchange: nobody became a contact
    shown = as_reader("--config", str(config), "interactions", "--json")
    assert [json.loads(line)["identity"] for line in shown.stdout.splitlines()] == [
        "msgid:status-1@initech.example"
    ]

    refused = as_reader("--config", str(config), "sync")
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr == (
        f"autocapture: the database file {db} is not writable (Permission denied)\n"
    )

    hand_over(data, file_mode=0o600, folder_mode=0o500)
    refused = as_reader("--config", str(config), "sync")
    assert refused.returncode == 1
    assert refused.stderr == (
        f"autocapture: the database's folder {data} is not writable (Permission denied); "
        "SQLite keeps its journal there\n"
    )


def test_a_read_only_database_of_an_older_schema_is_named_not_migrated(home: Path) -> None:
    config = captured_config(home)
    db = home / "data" / "status.db"
    alembic = Config()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        alembic.attributes["connection"] = conn
        command.downgrade(alembic, "0003")
    engine.dispose()
    hand_over(home / "data", file_mode=0o400, folder_mode=0o500)
    status = as_reader("--config", str(config), "status")
    head = ScriptDirectory.from_config(alembic).get_current_head()
    assert (status.returncode, status.stdout) == (1, "")
    assert status.stderr == (
        f"autocapture: the database {db} has schema 0003 and this autocapture needs {head}: "
        "run `autocapture sync` once with write access to upgrade it\n"
    )


def test_a_lock_folder_left_by_another_user_is_named_in_one_line(home: Path) -> None:
    """The database was handed over, but not the lock folder an earlier sync
    (run by root, say) made beside it."""
    config = captured_config(home)
    data = home / "data"
    locks = data / "status.db.locks"
    assert locks.is_dir()
    for path in (data, *data.glob("status.db*")):
        if path != locks:
            if os.geteuid() == 0:
                os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
            os.chmod(path, 0o700 if path.is_dir() else 0o600)
    os.chmod(locks, 0o500)  # root's; for a normal user, merely not writable
    for lock in locks.iterdir():
        os.chmod(lock, 0o400)
    refused = as_reader("--config", str(config), "sync")
    assert refused.returncode == 1, refused.stderr
    assert refused.stdout == (
        f"alice: error - 0 records, 0 new interactions, 0 new contacts, 0 errors "
        f"(cannot open the lock file {locks / 'alice.lock'} (Permission denied))\n"
    )
    assert "Traceback" not in refused.stderr
