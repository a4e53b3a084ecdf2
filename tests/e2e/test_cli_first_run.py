"""What a new user sees on a first run: logging, the run banner, one-line errors."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.sample import EXAMPLES, ROOT, autocapture, demo_config_text


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    return tmp_path / "demo.db"


def demo_config(tmp_path: Path, db: Path, extra: str = "") -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(demo_config_text(f"sqlite:///{db}") + extra)
    return path


def run_agent(args: list[str], done: Callable[[list[str]], bool]) -> list[str]:
    """Start `autocapture run`, read its log lines until ``done``, then stop it with SIGTERM."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", *args, "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    stderr = proc.stderr

    def read_lines() -> None:
        for line in stderr:
            lines.put(line)

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()
    seen: list[str] = []
    deadline = time.monotonic() + 60  # a hang guard, not a timing assertion
    try:
        while not done(seen) and time.monotonic() < deadline:
            try:
                seen.append(lines.get(timeout=1).rstrip("\n"))
            except queue.Empty:
                continue
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        reader.join(timeout=60)
    while not lines.empty():
        seen.append(lines.get().rstrip("\n"))
    return seen


def _passes(lines: list[str]) -> list[str]:
    return [line for line in lines if " INFO autocapture.run: " in line and " records, " in line]


def test_run_says_what_it_polls_then_logs_each_pass(tmp_path: Path, demo_db: Path) -> None:
    config = demo_config(tmp_path, demo_db)
    lines = run_agent(["--config", str(config)], lambda seen: len(_passes(seen)) >= 2)
    banners = [line for line in lines if "polling 2 accounts" in line]
    assert len(banners) == 1, lines
    assert banners[0].split(" INFO autocapture.run: ", 1)[1] == (
        f"polling 2 accounts, database sqlite:///{demo_db}: "
        "alice (archive, every 5m), bob (archive, every 5m)"
    )
    assert sorted(line.split(": ", 1)[1].split(",", 1)[0] for line in _passes(lines)) == [
        "alice: ok",
        "bob: ok",
    ]


def test_log_level_from_the_config_and_the_flag_wins(tmp_path: Path, demo_db: Path) -> None:
    debug = demo_config(tmp_path, demo_db, "log_level: DEBUG\n")
    result = autocapture("--config", str(debug), "sync")
    assert result.returncode == 0, result.stderr
    described = f"configuration {debug}: 2 accounts, database sqlite:///{demo_db}"
    assert f" DEBUG autocapture.cli: {described}" in result.stderr

    quiet = demo_config(tmp_path, demo_db, "log_level: error\n")
    result = autocapture("--config", str(quiet), "sync")
    assert result.returncode == 0, result.stderr
    assert " DEBUG " not in result.stderr
    assert " INFO " not in result.stderr
    # -vv asks for DEBUG whatever the file says.
    result = autocapture("-vv", "--config", str(quiet), "sync")
    assert f" DEBUG autocapture.cli: {described}" in result.stderr


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("a" * 100_000, "the search text is longer than 256 characters"),
        (os.fsdecode(b"acme\xff\xfe"), "the search text is not valid UTF-8"),
    ],
    ids=["huge", "undecodable"],
)
def test_contacts_search_refuses_unusable_text_in_one_line(
    tmp_path: Path, demo_db: Path, text: str, complaint: str
) -> None:
    config = demo_config(tmp_path, demo_db)
    result = autocapture("--config", str(config), "contacts", "search", text)
    assert result.returncode == 2
    assert result.stderr == f"autocapture: contacts search: {complaint}\n"
    assert result.stdout == ""
    assert not demo_db.exists()  # a usage error touches nothing


def test_contacts_search_finds_by_the_longest_allowed_text(tmp_path: Path, demo_db: Path) -> None:
    config = demo_config(tmp_path, demo_db)
    assert autocapture("--config", str(config), "sync").returncode == 0
    found = autocapture("--config", str(config), "contacts", "search", "x" * 256, "--json")
    assert (found.returncode, found.stdout, found.stderr) == (0, "", "")
    found = autocapture("--config", str(config), "contacts", "search", "Renée", "--json")
    assert [json.loads(line)["emails"] for line in found.stdout.splitlines()] == [
        ["renee.dubois@globex.example"]
    ]


def test_sync_with_no_enabled_account_warns_and_creates_no_database(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    config = tmp_path / "autocapture.yaml"
    config.write_text(f"database_url: sqlite:///{db}\n")
    result = autocapture("--config", str(config), "sync")
    assert (result.returncode, result.stdout) == (0, "")
    assert (
        result.stderr == f"autocapture: warning: no enabled accounts in {config}; nothing to sync\n"
    )
    assert not db.exists()
    result = autocapture("--config", str(config), "sync", "--account", "alice")
    assert (result.returncode, result.stderr) == (
        2,
        "autocapture: no enabled account named 'alice'\n",
    )
    assert not db.exists()


def test_config_check_without_a_file_checks_the_config_every_command_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = tmp_path / "from-env.yaml"
    from_env.write_text("workers: many\n")
    from_flag = tmp_path / "from-flag.yaml"
    from_flag.write_text("workers: 0\n")
    monkeypatch.setenv("AUTOCAPTURE_CONFIG", str(from_env))
    result = autocapture("config", "check")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f'{from_env}:1 workers: expected a valid integer, got "many"',
        f"1 problem in {from_env}",
    ]
    result = autocapture("--config", str(from_flag), "config", "check")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == f"1 problem in {from_flag}"
    monkeypatch.setenv("AUTOCAPTURE_CONFIG", str(tmp_path / "absent.yaml"))
    result = autocapture("config", "check")
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        f"{tmp_path / 'absent.yaml'}: cannot read the file: No such file or directory"
    )


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound but not listening: any connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


UNREADABLE = ["unset-variable", "missing-file", "directory", "mode-000", "empty-file"]


def unreadable_secret(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str]:
    """(the reference as written in YAML, why the agent cannot read it)."""
    if kind == "unset-variable":
        monkeypatch.delenv("AC_TEST_UNSET_PASSWORD", raising=False)
        return "${AC_TEST_UNSET_PASSWORD}", "the environment variable is not set"
    path = tmp_path / "imap-password"
    if kind == "directory":
        path.mkdir()
        return f"file:{path}", "it is a directory, not a file"
    if kind == "mode-000":
        if os.geteuid() == 0:
            pytest.skip("root reads a file whatever its mode")
        path.write_text("s3cr3t\n")
        path.chmod(0)
        return f"file:{path}", "Permission denied"
    if kind == "empty-file":
        path.write_text("\n")
        path.chmod(0o600)
        return f"file:{path}", "the file is empty"
    return f"file:{path}", "No such file or directory"


@pytest.mark.parametrize("kind", UNREADABLE)
def test_an_unreadable_secret_is_one_line_and_never_retried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, closed_port: int, kind: str
) -> None:
    reference, reason = unreadable_secret(kind, tmp_path, monkeypatch)
    db = tmp_path / "agent.db"
    config = tmp_path / "autocapture.yaml"
    config.write_text(
        f"""\
database_url: sqlite:///{db}
accounts:
  - name: ann-imap
    kind: imap
    owner: ann@northwind-labs.example
    host: 127.0.0.1
    port: {closed_port}
    password: {reference}
"""
    )
    message = f"password {reference} is unavailable: {reason}"

    result = autocapture("--config", str(config), "sync")

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"ann-imap: error - 0 records, 0 new interactions, 0 new contacts, 0 errors ({message})"
    ]
    [logged] = result.stderr.splitlines()
    assert logged.endswith(f" ERROR autocapture.sync: ann-imap: {message}")
    status = autocapture("--config", str(config), "status", "--json")
    [row] = [json.loads(line) for line in status.stdout.splitlines()]
    assert (row["name"], row["state"], row["message"]) == ("ann-imap", "error", message)

    check = autocapture("config", "check", str(config))
    assert check.returncode == 2
    assert check.stderr.splitlines() == [
        f"{config}:8 accounts[0].password: {reference} is unavailable: {reason}",
        f"1 problem in {config}",
    ]


def test_errors_say_where_in_the_mbox_each_item_is(tmp_path: Path, demo_db: Path) -> None:
    config = demo_config(tmp_path, demo_db)
    assert autocapture("--config", str(config), "sync").returncode == 0
    mbox = EXAMPLES / "sample-archive/alice/mail.mbox"
    data = mbox.read_bytes()
    gzip_at = data.index(b"\nFrom 1784412000000000000@xxx ") + 1

    listing = autocapture("--config", str(config), "errors", "--account", "alice", "--json")
    rows = [json.loads(line) for line in listing.stdout.splitlines()]
    in_mbox = {r["reason"]: (r["stream"], r["locator"]) for r in rows if r["stream"] == str(mbox)}
    # The mail loop's 345 KiB of Received fields is captured now (read up to
    # the limit), so the gzip blob is the one mbox item left over.
    assert in_mbox == {"not-a-message": (str(mbox), f"byte {gzip_at}")}

    table = autocapture("--config", str(config), "errors", "--account", "alice")
    header, *lines = table.stdout.splitlines()
    assert header.split() == ["ACCOUNT", "STREAM", "WHERE", "REASON", "DETAIL", "COUNT"]
    [blob] = [line for line in lines if str(mbox) in line]
    assert blob.split()[:2] == ["alice", str(mbox)]  # the stream is never cut short
    assert f"  byte {gzip_at}  " in blob
