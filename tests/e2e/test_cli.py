"""The ``autocapture`` command as people and scripts run it: a real process, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import sample_expected as want
from tests.e2e.sample import EXAMPLES, ROOT, autocapture, captured_so_far, demo_config_text


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(demo_config_text(f"sqlite:///{tmp_path / 'demo.db'}"))
    return path


THREE_MISTAKES = """\
database_url: sqlite:///{db}
org_domains: [northwind-labs.example]
accounts:
  - name: alice
    kind: archive
    owner: [alice@northwind-labs.example]
    paths: [{archive}]
    poll_interval: often
  - name: bob
    kind: archive
    owner: [bob@northwind-labs.example]
    paths: [{archive}]
    privacy: everything
    colour: blue
"""


def test_config_with_three_mistakes_reports_all_and_touches_nothing(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    config = tmp_path / "autocapture.yaml"
    config.write_text(THREE_MISTAKES.format(db=db, archive=EXAMPLES / "sample-archive/alice"))
    for command in (["sync"], ["status"], ["contacts", "list"]):
        result = autocapture("--config", str(config), *command)
        assert result.returncode == 2, command
        lines = result.stderr.strip().splitlines()
        assert [line.split(" ", 2)[:2] for line in lines] == [
            [f"{config}:8", "accounts[0].poll_interval:"],
            [f"{config}:13", "accounts[1].privacy:"],
            [f"{config}:14", "accounts[1].colour:"],
        ], result.stderr
        assert 'got "often"' in lines[0]
        assert not db.exists()
    check = autocapture("config", "check", str(config))
    assert check.returncode == 2
    assert check.stderr.count(f"{config}:") == 3


def test_sync_twice_then_listings_as_json(demo_config: Path) -> None:
    first = autocapture("--config", str(demo_config), "sync")
    assert first.returncode == 0, first.stderr
    second = autocapture("--config", str(demo_config), "sync")
    assert second.stdout.splitlines() == [
        "alice: ok - 0 records, 0 new interactions, 0 new contacts, 0 errors",
        "bob: ok - 0 records, 0 new interactions, 0 new contacts, 0 errors",
    ]
    contacts = autocapture("--config", str(demo_config), "contacts", "list", "--json")
    rows = [json.loads(line) for line in contacts.stdout.splitlines()]
    assert {e for r in rows for e in r["emails"]} == set(want.EXPECTED_CONTACTS)
    errors = autocapture("--config", str(demo_config), "errors", "--json")
    assert len(errors.stdout.splitlines()) == len(want.EXPECTED_ERRORS)
    found = autocapture("--config", str(demo_config), "contacts", "search", "Dubois", "--json")
    [renee] = [json.loads(line) for line in found.stdout.splitlines()]
    assert renee["emails"] == ["renee.dubois@globex.example"]
    shown = autocapture("--config", str(demo_config), "contacts", "show", str(renee["id"]))
    assert "name           Renée Dubois" in shown.stdout
    assert autocapture("--config", str(demo_config), "contacts", "show", "99999").returncode == 1
    # A rep names a contact by an address as readily as by its id.
    by_address = ("contacts", "show", "Renee.Dubois@Globex.example")
    assert autocapture("--config", str(demo_config), *by_address).stdout == shown.stdout
    unknown = autocapture("--config", str(demo_config), "contacts", "show", "nobody@globex.example")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "autocapture: no contact with address nobody@globex.example\n",
    )
    assert autocapture("--config", str(demo_config), "contacts", "show", "Renee").returncode == 2
    met = ("interactions", "--json", "--contact")
    by_id = autocapture("--config", str(demo_config), *met, str(renee["id"]))
    assert by_id.stdout.count("\n") > 0
    assert autocapture(
        "--config", str(demo_config), *met, "renee.dubois@globex.example"
    ).stdout == (by_id.stdout)


INVITE = EXAMPLES / "sample-archive/bob/invites"


def test_inspect_shows_participants_and_decisions_without_a_database(tmp_path: Path) -> None:
    invite = sorted(INVITE.glob("*updated-invitation*.eml"))[0]
    result = autocapture("inspect", str(invite), "--owner", "bob@northwind-labs.example", "--json")
    assert result.returncode == 0, result.stderr
    [report] = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = sorted(i["kind"] for i in report["plan"]["interactions"])
    assert kinds == ["email", "meeting"]
    meeting = next(i for i in report["plan"]["interactions"] if i["kind"] == "meeting")
    assert meeting["sequence"] == want.UPDATED_MEETING.sequence
    by_email = {p["email"]: p for p in meeting["participants"]}
    assert by_email["bob@northwind-labs.example"]["klass"] == "internal"
    assert by_email["bob@northwind-labs.example"]["decision"] == "skip"
    assert {p["decision"] for e, p in by_email.items() if e.endswith("@initech.example")} == {
        "create"
    }  # a meeting with the owner is an exchange


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\xff" * 5000, b"From: \r\n" * 40000, b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n"],
    ids=["empty", "binary", "huge-header", "truncated-ics"],
)
def test_inspect_survives_hostile_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hostile.eml"
    path.write_bytes(content)
    result = autocapture("inspect", str(path))
    assert "Traceback" not in result.stderr
    if result.returncode != 0:
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith("autocapture: ") or result.stdout


def test_inspect_unreadable_paths_give_one_line(tmp_path: Path) -> None:
    for target in (tmp_path / "missing.eml", tmp_path):
        result = autocapture("inspect", str(target))
        assert result.returncode == 1
        assert result.stderr.startswith(f"autocapture: cannot inspect {target}: ")
        assert len(result.stderr.strip().splitlines()) == 1


def test_run_stops_cleanly_on_sigterm_and_loses_nothing(demo_config: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(demo_config), "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Stop it once it has committed something, so the stop meets a running pass.
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if captured_so_far(tmp_path / "demo.db"):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    # Whatever the stop left undone, the next pass completes without duplicates.
    autocapture("--config", str(demo_config), "sync")
    listing = autocapture("--config", str(demo_config), "interactions", "--limit", "1000", "--json")
    identities = [json.loads(line)["identity"] for line in listing.stdout.splitlines()]
    expected = want.EXPECTED_INTERACTIONS
    assert len(identities) == len(set(identities)) == expected.emails + expected.meeting_occurrences
