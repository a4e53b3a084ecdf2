"""The CLI on archive paths holding what is not mail, and stopping whatever it waits on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.configs import ARCHIVE, write_config
from tests.e2e.sample import ROOT, autocapture
from tests.watchdog import HANG

IMAP = """\
  - name: stalled
    kind: imap
    owner: alice@northwind-labs.example
    host: 127.0.0.1
    port: {port}
    tls: none
    allow_plaintext: true
    password: ${{STALLED_IMAP_PASSWORD}}
    timeout: 600s
"""


def mail(n: int) -> bytes:
    return (
        f"From: Renee Dubois <renee{n}@globex.example>\r\n"
        "To: Alice <alice@northwind-labs.example>\r\n"
        f"Subject: Quote {n}\r\nDate: Tue, 03 Mar 2026 10:15:00 +0100\r\n"
        f"Message-ID: <quote-{n}@globex.example>\r\n\r\nHello Alice,\r\n"
    ).encode()


def test_fifo_and_escaping_link_beside_mail_are_one_error_each(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    for n in (1, 2):
        (export / f"quote-{n}.eml").write_bytes(mail(n))
    os.mkfifo(export / "stuck.eml")
    secret = tmp_path / "passwords.txt"
    secret.write_text("From: x@y.example\n\nhunter2\n")
    (export / "leak.eml").symlink_to(secret)
    config = write_config(tmp_path, ARCHIVE.format(name="export", path=export))
    sync = autocapture("--config", str(config), "sync", timeout=HANG)
    assert sync.returncode == 0, sync.stderr
    assert sync.stdout.splitlines() == [
        "export: ok - 2 records, 2 new interactions, 0 new contacts, 2 errors"
    ]
    errors = autocapture("--config", str(config), "errors", "--json")
    rows = sorted((r["provider_id"].rsplit(":", 1)[1], r["reason"]) for r in _json(errors.stdout))
    assert rows == [("leak.eml", "symlink-outside-archive"), ("stuck.eml", "not-a-regular-file")]
    listed = autocapture("--config", str(config), "interactions", "--json")
    found = _json(listed.stdout)
    assert sorted(r["identity"] for r in found) == [
        "msgid:quote-1@globex.example",
        "msgid:quote-2@globex.example",
    ]
    assert "hunter2" not in listed.stdout


def test_inspect_on_a_fifo_ends_with_an_error(tmp_path: Path) -> None:
    fifo = tmp_path / "mail.eml"
    os.mkfifo(fifo)
    result = autocapture("inspect", str(fifo), timeout=HANG)
    assert result.returncode == 1
    assert result.stderr == (
        f"autocapture: cannot inspect {fifo}: "
        "not-a-regular-file: a FIFO; only regular files are read\n"
    )


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A loopback listener that accepts connections and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def test_sigterm_ends_a_sync_blocked_on_a_server_that_never_answers(
    tmp_path: Path, silent_server: socket.socket
) -> None:
    config = write_config(tmp_path, IMAP.format(port=silent_server.getsockname()[1]))
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), "sync"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "STALLED_IMAP_PASSWORD": "unused"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # Stopped once it waits on the server's greeting: a fixed pause
        # before the signal lost the race on a loaded machine.
        silent_server.settimeout(HANG)
        connection, _ = silent_server.accept()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=HANG)
        connection.close()
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    assert code == 128 + signal.SIGTERM
    assert stderr.decode().splitlines()[-1] == (
        "autocapture: still busy after a stop request; exiting"
    )


def _json(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_notes_on_captured_mail_are_listed_as_errors_beside_their_interactions(
    tmp_path: Path,
) -> None:
    export = tmp_path / "export"
    export.mkdir()
    members = ",\r\n ".join(f"<member{n}@lists.globex.example>" for n in range(10_000))
    (export / "all-hands.eml").write_bytes(
        (
            "From: Globex All Hands <allhands@globex.example>\r\n"
            f"To: {members}\r\nSubject: Q4 all hands\r\n"
            "Date: Tue, 03 Nov 2026 09:00:00 +0100\r\n"
            "Message-ID: <allhands-q4@globex.example>\r\n\r\nSee you there.\r\n"
        ).encode()
    )
    undated = mail(3).replace(b"Date: Tue, 03 Mar 2026 10:15:00 +0100\r\n", b"")
    (export / "undated.eml").write_bytes(undated)
    os.utime(export / "undated.eml", (1_772_000_000, 1_772_000_000))  # 2026-02-25 06:13:20 UTC
    config = write_config(tmp_path, ARCHIVE.format(name="export", path=export))
    sync = autocapture("--config", str(config), "sync")
    assert sync.returncode == 0, sync.stderr
    errors = _json(autocapture("--config", str(config), "errors", "--json").stdout)
    assert sorted((str(r["provider_id"]).rsplit(":", 1)[1], r["reason"]) for r in errors) == [
        ("all-hands.eml", "header-truncated"),
        ("undated.eml", "date-from-file"),
    ]
    listed = _json(autocapture("--config", str(config), "interactions", "--json").stdout)
    assert sorted((r["identity"], r["occurred_at"]) for r in listed) == [
        ("msgid:allhands-q4@globex.example", "2026-11-03T08:00:00+00:00"),
        ("msgid:quote-3@globex.example", "2026-02-25T06:13:20+00:00"),
    ]
