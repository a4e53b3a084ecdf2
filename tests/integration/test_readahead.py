"""Reading ahead in a child process (agent.readahead) stores exactly what one process stores.

The sample archive's mbox (118 items) is captured with tiny batches. A
first sync is read ahead from its start; a pass that resumes from a cursor
fetches one batch itself and reads ahead only when that batch says more
follows. Failures are made to happen in the child, deterministically, from
the batch listener (which runs in the agent after each commit, before the
child of a resumed pass starts): the archive vanishing, the archive replaced
(its cursor expires), and the child killed. Each ends like the same failure
in the plain loop, and the next pass completes to exactly the content of an
uninterrupted capture, compared table by table by natural keys.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agent.poller import Poller
from agent.sync import AccountReport, sync_account, sync_once
from config.loader import load_text
from storage import open_database
from tests.e2e.sample import EXAMPLES, demo_settings, snapshot

MBOX = EXAMPLES / "sample-archive" / "alice" / "mail.mbox"
CONFIG = """\
database_url: sqlite:///{db}
org_domains: [northwind-labs.example]
phone_region: US
read_ahead: {ahead}
accounts:
  - name: alice
    kind: archive
    owner: [alice@northwind-labs.example]
    paths: [{mbox}]
    backfill: 3650d
    privacy: full
    batch_size: 7
"""
Listener = Callable[[str, str, int], None]


def settings(tmp: Path, name: str, mbox: Path, ahead: bool = True) -> Any:
    text = CONFIG.format(db=tmp / f"{name}.db", ahead=str(ahead).lower(), mbox=mbox)
    return load_text(text, str(tmp / f"{name}.yaml"), base_dir=tmp)


def capture(config: Any, listener: Listener | None = None) -> tuple[AccountReport, Any]:
    db = open_database(config.database_url)
    (report,) = sync_once(config, db, listener=listener)
    return report, db


def first_batch_only(config: Any) -> None:
    """A pass stopped after its first commit: later passes resume from a cursor."""
    stop = threading.Event()
    (report,) = sync_once(
        config, open_database(config.database_url), stop=stop, listener=lambda *_: stop.set()
    )
    assert (report.outcome, report.records + report.errors) == ("stopped", 7)


def readers() -> list[multiprocessing.process.BaseProcess]:
    return [p for p in multiprocessing.active_children() if p.name == "autocapture-readahead"]


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    copy = tmp_path / "archive" / "mail.mbox"
    copy.parent.mkdir()
    shutil.copy(MBOX, copy)
    return copy


@pytest.fixture
def reference(tmp_path: Path, mbox: Path) -> dict[str, Any]:
    """One uninterrupted capture in one process."""
    report, db = capture(settings(tmp_path, "reference", mbox, ahead=False))
    assert (report.outcome, report.records, report.errors) == ("ok", 117, 1)
    return snapshot(db.engine)


def test_a_first_sync_is_read_ahead_and_stores_exactly_what_one_process_stores(
    tmp_path: Path, mbox: Path, reference: dict[str, Any]
) -> None:
    seen: list[tuple[int | None, ...]] = []
    report, db = capture(
        settings(tmp_path, "ahead", mbox), lambda *_: seen.append(tuple(p.pid for p in readers()))
    )
    assert (report.outcome, report.records, report.errors) == ("ok", 117, 1)
    assert len(seen) == 17  # ceil(118 / 7) batches (117 messages, 1 error), each committed
    # One child read every batch; it was there from the first commit.
    assert len(seen[0]) == 1
    assert {pid for pids in seen for pid in pids} == set(seen[0])
    assert not readers()
    got = snapshot(db.engine)
    assert got == reference
    assert (len(got["interactions"]), len(got["contacts"])) == (117, 8)


def test_a_resumed_pass_reads_ahead_after_its_first_batch(
    tmp_path: Path, mbox: Path, reference: dict[str, Any]
) -> None:
    config = settings(tmp_path, "resumed", mbox)
    first_batch_only(config)
    seen: list[tuple[int | None, ...]] = []
    report, db = capture(config, lambda *_: seen.append(tuple(p.pid for p in readers())))
    assert (report.outcome, report.records + report.errors) == ("ok", 118 - 7)
    assert len(seen) == 16
    # The second batch fetched on the kept connection; one child for the rest.
    assert seen[0] == () and len(seen[1]) == 1
    assert {pid for pids in seen for pid in pids} == set(seen[1])
    assert snapshot(db.engine) == reference


def test_a_failure_in_the_child_fails_the_account_and_the_next_pass_completes(
    tmp_path: Path, mbox: Path, reference: dict[str, Any]
) -> None:
    hidden = mbox.with_suffix(".away")

    def hide(*_: object) -> None:
        if not hidden.exists() and mbox.exists():
            mbox.rename(hidden)  # before the child builds its connector

    config = settings(tmp_path, "vanished", mbox)
    first_batch_only(config)
    report, db = capture(config, hide)
    assert report.outcome == "error"
    assert report.message == f"archive path {str(mbox)!r} does not exist"
    assert report.records + report.errors == 7  # the second batch, stored by this process
    stored = db.counts()["sources"] + db.counts()["errors"]
    assert stored == 14
    hidden.rename(mbox)
    again, db = capture(config)
    assert (again.outcome, again.records + again.errors) == ("ok", 118 - 14)
    assert snapshot(db.engine) == reference


def replacing(mbox: Path) -> Listener:
    """A listener that, after the first commit, replaces the archive by the same
    messages with the first moved to the end: the head the cursor remembers no
    longer matches, so the next fetch finds the cursor expired."""
    replaced: list[bool] = []

    def replace_file(*_: object) -> None:
        if not replaced:
            data = mbox.read_bytes()
            second = data.index(b"\n\nFrom ") + 2
            rest = data[second:] if data.endswith(b"\n\n") else data[second:] + b"\n"
            copy = mbox.with_suffix(".new")
            copy.write_bytes(rest + data[:second])
            os.replace(copy, mbox)
            replaced.append(True)

    return replace_file


def test_a_cursor_that_expires_in_the_child_resyncs_as_the_plain_loop_does(
    tmp_path: Path, mbox: Path
) -> None:
    plain_config = settings(tmp_path, "plain", mbox, False)
    first_batch_only(plain_config)
    plain, plain_db = capture(plain_config, replacing(mbox))
    shutil.copy(MBOX, mbox)  # the same path again: streams are named by it
    config = settings(tmp_path, "replaced", mbox)
    first_batch_only(config)
    report, db = capture(config, replacing(mbox))
    assert (report.outcome, report.resynced) == (plain.outcome, plain.resynced) == ("ok", True)
    # The second batch, then the whole file again from its start.
    assert report.records + report.errors == plain.records + plain.errors == 7 + 118
    assert db.counts() == plain_db.counts()
    assert db.counts()["sources"] == 117  # the replay stored no second copy
    assert snapshot(db.engine) == snapshot(plain_db.engine)


def test_a_killed_child_is_a_transient_failure_and_nothing_is_lost_or_doubled(
    tmp_path: Path, mbox: Path, reference: dict[str, Any]
) -> None:
    killed: list[int] = []

    def kill_reader(*_: object) -> None:
        for child in readers():
            if not killed and child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)
                killed.append(child.pid)

    config = settings(tmp_path, "killed", mbox)
    report, db = capture(config, kill_reader)
    assert killed
    assert report.outcome == "error"
    assert report.message.startswith("the read-ahead process ended unexpectedly (exit code -9)")
    assert 7 < report.records < 117
    stored = db.counts()["sources"]
    assert stored == report.records
    again, db = capture(config)
    assert (again.outcome, again.records) == ("ok", 117 - stored)
    assert snapshot(db.engine) == reference


def test_accounts_synced_side_by_side_each_read_ahead(tmp_path: Path) -> None:
    """The poller's worker threads fork their read-ahead children concurrently.

    Alice and Bob share people and meetings, so which account stores a shared
    interaction first (and so some decisions) depends on timing; what must
    not is which copies, errors and cursors end up stored, and what
    evidence was gathered: nothing lost, nothing doubled.
    """
    reference_db = open_database(f"sqlite:///{tmp_path / 'one.db'}")
    one_by_one = demo_settings(f"sqlite:///{tmp_path / 'one.db'}")
    sync_once(one_by_one.model_copy(update={"read_ahead": False}), reference_db)
    config = demo_settings(f"sqlite:///{tmp_path / 'side.db'}")
    config = config.model_copy(
        update={
            "workers": 2,
            "accounts": tuple(a.model_copy(update={"batch_size": 5}) for a in config.accounts),
        }
    )
    db = open_database(config.database_url)
    stop = threading.Event()
    reports: list[AccountReport] = []
    children: set[int | None] = set()
    lock = threading.Lock()

    def seen(*_: object) -> None:
        with lock:
            children.update(p.pid for p in readers())

    def sync(settings: Any, account: Any, db: Any, stop_: threading.Event) -> AccountReport:
        report = sync_account(settings, account, db, stop=stop_, listener=seen)
        with lock:
            reports.append(report)
            if len(reports) == len(settings.accounts):
                stop.set()
        return report

    runner = threading.Thread(target=Poller(config, db, stop, sync=sync).run)
    runner.start()
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert sorted((r.account, r.outcome) for r in reports) == [("alice", "ok"), ("bob", "ok")]
    assert len(children) >= 2  # each account's streams had children of their own
    got, expected = snapshot(db.engine), snapshot(reference_db.engine)
    for table in ("sources", "errors", "cursors", "evidence"):
        assert got[table] == expected[table], table
    identities = {row[0] for row in expected["interactions"]}
    assert {row[0] for row in got["interactions"]} == identities
    assert len(identities) > 100
