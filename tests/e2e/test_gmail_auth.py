"""`autocapture auth google ACCOUNT` end to end: the CLI as a child process runs the real
google-auth-oauthlib installed-app flow; a test client plays the browser (follows the
printed URL to the fake's consent page, which redirects it to the CLI's loopback server);
the refresh token lands encrypted in the database, and a sync then captures with it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from agent.cli import main
from agent.sync import sync_once
from config.loader import load
from storage import Database, open_database
from tests.e2e.sample import ROOT
from tests.gmail_sample import CONTACTS, DANA, LOADED
from tests.gmail_sample import load as load_mailbox
from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.plans import text_in_every_column
from tests.servers.google_api import GoogleApiFake
from tests.stored import contacts, interactions
from tests.watchdog import terminates

CLIENT_SECRET = "GOCSPX-auth-8d1f04c2e7"
SUCCESS = "autocapture may now read this account. You can close this tab."


def write_config(folder: Path, fake: GoogleApiFake) -> Path:
    path = folder / "auth.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / 'auth.db'}\n"
        "org_domains: [acme.example]\n"
        "accounts:\n"
        f"  - name: dana\n    kind: gmail\n    owner: {DANA}\n    client_id: {CLIENT_ID}\n"
        "    client_secret: ${AUTH_CLIENT_SECRET}\n"
        f"    auth_uri: {fake.auth_uri}\n    token_uri: {fake.auth.token_uri}\n"
        f"    api_root: {fake.url}\n    calendar_api_root: {fake.url}\n"
        "    backfill: 60d\n    lookahead: 30d\n    quota_units_per_second: 5000\n"
        f"  - name: takeout\n    kind: archive\n    owner: {DANA}\n    paths: [{folder}]\n"
        f"  - name: delegated\n    kind: gmail\n    owner: {DANA}\n    enabled: false\n"
        f"    service_account_key: file:{folder / 'sa.json'}\n"
    )
    return path


@pytest.fixture
def setup(
    google_api: GoogleApiFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, str]]:
    """Dana's account on the fake, its config, and the environment both processes share
    (the default token key lives under XDG_DATA_HOME)."""
    load_mailbox(google_api)
    google_api.auth.add_client(CLIENT_ID, CLIENT_SECRET)
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "AUTH_CLIENT_SECRET": CLIENT_SECRET}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return write_config(tmp_path, google_api), env


def start_auth(config: Path, env: dict[str, str], *flags: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "agent.cli", *flags, "--config", str(config)]
    return subprocess.Popen(
        [*command, "auth", "google", "dana", "--no-browser", "--timeout", "60"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def printed_url(proc: subprocess.Popen[str]) -> str:
    """The consent URL the command prints (on a line of its own, indented)."""
    assert proc.stdout is not None
    with terminates():
        for line in proc.stdout:
            if line.strip().startswith("http"):
                return line.strip()
    raise AssertionError(f"no URL printed; stderr: {proc.communicate()[1]}")


def browser() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # loopback only, whatever proxies the machine sets
    return session


def test_a_rep_grants_access_in_the_browser_and_a_sync_captures_with_the_stored_token(
    google_api: GoogleApiFake, setup: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    config, env = setup
    google_api.auth.consent.sign_in(DANA)
    proc = start_auth(config, env, "-vv")  # DEBUG: the libraries' chatter must not leak
    url = printed_url(proc)
    asked = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert url.startswith(google_api.auth_uri + "?")
    assert asked["scope"].split() == [GMAIL_SCOPE, CALENDAR_SCOPE]  # read-only, nothing else
    assert (asked["access_type"], asked["prompt"], asked["login_hint"]) == (
        "offline",
        "consent",
        DANA,
    )
    assert asked["code_challenge_method"] == "S256"
    assert re.fullmatch(r"http://127\.0\.0\.1:[0-9]+/", asked["redirect_uri"])
    page = browser().get(url, timeout=30)  # consent, then the redirect to the CLI's loopback
    assert [r.status_code for r in page.history] == [302]
    code = parse_qs(urlsplit(page.history[0].headers["Location"]).query)["code"][0]
    assert (page.status_code, page.text) == (200, SUCCESS)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    key = tmp_path / "data" / "autocapture" / "token.key"
    assert out.splitlines()[-1] == (
        f"dana: access granted ({GMAIL_SCOPE}, {CALENDAR_SCOPE}); the refresh token is "
        f"stored encrypted in the database under the token key file:{key}"
    )
    assert google_api.auth.issued == ["authorization_code"]
    [refresh] = google_api.auth.refresh_tokens
    assert google_api.auth.refresh_tokens[refresh].user == DANA

    settings = load(config)
    db = open_database(settings.database_url)
    try:
        [report, _] = sync_once(settings, db)  # dana, takeout (delegated is disabled)
        assert (report.account, report.outcome) == ("dana", "ok")
        assert interactions(db) == LOADED
        assert contacts(db) == CONTACTS
        assert google_api.auth.issued == ["authorization_code", "refresh_token"]
        planted = [refresh, code, CLIENT_SECRET, key.read_text().strip()]
        assert [s for s in planted if s in out + err or s in text_in_every_column(db)] == []
    finally:
        db.close()


def test_a_refused_consent_stores_nothing_and_the_account_asks_for_the_command(
    google_api: GoogleApiFake, setup: tuple[Path, dict[str, str]]
) -> None:
    config, env = setup
    google_api.auth.consent.sign_in(DANA)
    google_api.auth.consent.refuse()
    proc = start_auth(config, env)
    page = browser().get(printed_url(proc), timeout=30)
    assert (page.status_code, page.text) == (200, SUCCESS)  # the loopback server answers any
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err == "autocapture: account 'dana': Google refused the grant (access_denied)\n"
    settings = load(config)
    db: Database = open_database(settings.database_url)
    try:
        [report] = sync_once(settings, db, "dana")
        assert report.outcome == "needs_reauth"
        assert report.message == (
            "credentials refused: no refresh token is stored for this account; run "
            "`autocapture auth google dana` to grant access again"
        )
        assert google_api.auth.issued == []
    finally:
        db.close()


def test_auth_google_refuses_an_account_that_is_not_gmail(
    setup: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, _ = setup
    assert main(["--config", str(config), "auth", "google", "takeout"]) == 2
    assert main(["--config", str(config), "auth", "google", "nobody"]) == 2
    assert main(["--config", str(config), "auth", "google", "delegated"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "autocapture: account 'takeout' is of kind 'archive'; `auth google` signs in gmail "
        "accounts",
        "autocapture: no account named 'nobody' in the configuration",
        f"autocapture: account 'delegated' acts for {DANA} through a service account "
        "(service_account_key): nobody signs in; the Google Workspace admin grants its "
        "client ID domain-wide delegation in the Admin console",
    ]
