"""Two ``autocapture sync`` processes on one database: one captures, the other says so.

The first process is frozen (SIGSTOP) in the middle of its capture, so the
two overlap for certain, whatever the machine's speed; then it is killed
(SIGKILL), which must release its hold on the account.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

from tests.e2e.processes import start_sync
from tests.e2e.sample import autocapture, captured_so_far, demo_config
from tests.watchdog import wait_until


def only_alice(config: Path) -> None:
    """Alice's account alone: bob's would be a second, independent claim."""
    text = config.read_text()
    config.write_text(text[: text.index("\n  - name: bob")] + "\n")


def test_a_second_sync_of_a_busy_account_says_so_and_a_killed_holder_releases_it(
    tmp_path: Path,
) -> None:
    config = demo_config(tmp_path, "shared", batch_size=2)
    only_alice(config)
    db = tmp_path / "shared.db"
    first = start_sync(config)
    try:
        wait_until(
            lambda: captured_so_far(db) >= 10 or first.poll() is not None,
            "the first sync to commit 10 copies",
        )
        first.send_signal(signal.SIGSTOP)
        held = captured_so_far(db)
        second = autocapture("--config", str(config), "sync")
        assert second.returncode == 0, second.stderr
        assert second.stdout.splitlines() == [
            f"alice: busy - another autocapture process (pid {first.pid}) is syncing "
            "this account; skipped"
        ]
        assert captured_so_far(db) == held  # the second wrote nothing
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    third = autocapture("--config", str(config), "sync")
    assert third.returncode == 0, third.stderr
    assert third.stdout.startswith("alice: ok - "), third.stdout
    status = autocapture("--config", str(config), "status", "--json")
    (row,) = [json.loads(line) for line in status.stdout.splitlines()]
    assert row["items_captured"] == captured_so_far(db) > held
    idle = autocapture("--config", str(config), "sync")
    assert idle.stdout.startswith("alice: ok - 0 records"), idle.stdout
