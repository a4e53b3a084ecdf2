"""A rep's own Microsoft 365 mailbox: `autocapture auth microsoft ACCOUNT` by device code
through the real msal against the identity fake (as a child process, as a rep runs it), then
syncs from the encrypted msal cache; a revoked sign-in marks only that account needs_reauth."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cli import main
from agent.sync import sync_once
from config.loader import load
from storage import open_database
from tests.e2e.sample import ROOT
from tests.microsoft_clients import CLIENT_SECRET, DANA, account_yaml, register, settings_text
from tests.plans import text_in_every_column
from tests.servers.microsoft_graph import Graph
from tests.stored import interactions
from tests.watchdog import wait_until

PUBLIC_CLIENT = "0e6f5a4b-3c2d-4e1f-8a9b-7c6d5e4f3a2b"  # "allow public client flows": no secret
SAM = "sam@acme.example"
KEY = base64.b64encode(os.urandom(32)).decode()


def mail(n: int, sender: str, to: str, subject: str) -> bytes:
    when = (datetime.now(UTC) - timedelta(days=n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {when}\r\n"
        f"Message-ID: <d{n}@mail.example>\r\n\r\nHello {n}.\r\n"
    ).encode()


def write_config(folder: Path, graph: Graph) -> Path:
    delegated = account_yaml(
        graph, "dana", client_id=PUBLIC_CLIENT, client_secret=None, auth="delegated"
    )
    by_app = account_yaml(graph, "sam", SAM, calendar="false")
    path = folder / "autocapture.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / 'autocapture.db'}\n"
        "token_key: ${TEST_TOKEN_KEY}\n" + settings_text([delegated, by_app])
    )
    return path


def run_auth(config: Path, graph: Graph, signs_in_as: str) -> subprocess.CompletedProcess[str]:
    """`autocapture auth microsoft dana`; the rep approves the code it prints as ``signs_in_as``."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), "auth", "microsoft", "dana"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    shown = proc.stdout.readline()
    code = re.search(r"enter the code (\w+) to authenticate", shown)
    assert code, shown
    wait_until(
        lambda: any(s.user_code == code[1] for s in graph.identity.device_codes.values()),
        "the device code the command printed",
    )
    graph.identity.approve(code[1], signs_in_as, after_polls=1)
    out, err = proc.communicate(timeout=120)
    return subprocess.CompletedProcess(proc.args, proc.returncode, shown + out, err)


@pytest.fixture
def graph(microsoft_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> Graph:
    for name, value in {"TEST_TOKEN_KEY": KEY, "TEST_M365_CLIENT_SECRET": CLIENT_SECRET}.items():
        monkeypatch.setenv(name, value)
    register(microsoft_graph)
    register(microsoft_graph, SAM)
    microsoft_graph.identity.register_app(PUBLIC_CLIENT)
    box = microsoft_graph.mailboxes[DANA]
    box.add(mail(1, "Ann Lee <ann@customer.example>", f"Dana <{DANA}>", "Pilot"))
    box.add(mail(2, f"Dana <{DANA}>", "Ann Lee <ann@customer.example>", "Re: Pilot"), "sentitems")
    microsoft_graph.mailboxes[SAM].add(mail(3, "Bo <bo@customer.example>", SAM, "Hi"))
    return microsoft_graph


def test_device_code_sign_in_then_sync_from_the_encrypted_cache_then_revoked(
    graph: Graph, tmp_path: Path
) -> None:
    config = write_config(tmp_path, graph)
    done = run_auth(config, graph, DANA)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        done.stdout.splitlines()[0],  # Entra's instruction: the URL and the code
        "dana: signed in as dana@acme.example: read-only access to mail and calendars, kept "
        "encrypted in the database. `autocapture sync --account dana` captures now.",
    ]
    assert "https://microsoft.com/devicelogin" in done.stdout.splitlines()[0]
    [device] = [r for r in graph.server.log if r.path.endswith("/devicecode")]
    scopes = device.body.decode()
    assert "Mail.Read" in scopes and "Calendars.Read" in scopes and "offline_access" in scopes
    assert "Mail.ReadWrite" not in scopes and ".default" not in scopes  # read-only, delegated

    settings = load(config)
    db = open_database(settings.database_url)
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "ok", "sam": "ok"}
    rows = interactions(db)
    assert {k: v for k, v in rows.items() if ("dana", False) in v[2]} == {
        "msgid:d1@mail.example": ("received", ["ann@customer.example", DANA], [("dana", False)]),
        "msgid:d2@mail.example": ("sent", ["ann@customer.example", DANA], [("dana", False)]),
    }
    # Tokens in no column in the clear, no output: the cache is ciphertext.
    secrets = [*graph.identity.refresh_tokens, *graph.identity.access_tokens]
    assert len(secrets) >= 3
    stored = text_in_every_column(db)
    shown = done.stdout + done.stderr
    assert [s for s in secrets if s in stored or s in shown] == []
    assert "refresh_token" not in stored and "RefreshToken" not in stored

    # An expired access token: msal redeems the (rotated) refresh token, saved at once.
    graph.identity.expire_access_tokens()
    assert [r.outcome for r in sync_once(settings, db)] == ["ok", "ok"]
    # An admin revokes Dana's sessions: only her account needs her again.
    graph.identity.revoke_sessions(DANA)
    graph.identity.expire_access_tokens()
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "needs_reauth", "sam": "ok"}
    assert reports["dana"].message == (
        "credentials refused: account 'dana': token for Graph: the identity platform refused "
        "(invalid_grant, AADSTS50173); run `autocapture auth microsoft dana` to sign in "
        "again; sign in again"
    )
    db.close()
    again = run_auth(config, graph, DANA)
    assert again.returncode == 0, again.stderr
    db = open_database(settings.database_url)
    assert [r.outcome for r in sync_once(settings, db)] == ["ok", "ok"]
    # Dana's user is disabled: the same, with Entra's reason.
    graph.identity.disable_user(DANA)
    graph.identity.expire_access_tokens()
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "needs_reauth", "sam": "ok"}
    assert "(invalid_grant, AADSTS50057)" in reports["dana"].message
    db.close()


def test_signing_in_as_someone_else_stores_nothing(
    graph: Graph, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, graph)
    wrong = run_auth(config, graph, SAM)
    assert wrong.returncode == 1
    assert wrong.stderr.strip() == (
        "autocapture: sign-in of dana@acme.example: signed in as sam@acme.example, but the "
        "account reads dana@acme.example's mailbox; sign in as dana@acme.example "
        "(nothing was stored)"
    )
    settings = load(config)
    db = open_database(settings.database_url)
    reports = {r.account: r for r in sync_once(settings, db)}
    db.close()
    assert reports["dana"].outcome == "needs_reauth"
    assert "no sign-in of dana@acme.example is stored" in reports["dana"].message
    # An app-only account has nobody to sign in.
    assert main(["--config", str(config), "auth", "microsoft", "sam"]) == 2
    assert "(auth: app), so nobody signs in" in capsys.readouterr().err
