"""An admin captures several Workspace users through one service account with domain-wide
delegation: google-auth signs a JWT per user (RS256, ``sub`` = the user, read-only scopes)
for the fake's token endpoint, which verifies it against the account's public key."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.sync import sync_once
from config.loader import load_text
from config.settings import Settings
from storage import Database, open_database
from tests.gmail_sample import CONTACTS, DANA, LOADED, load, mail
from tests.google_clients import (
    CALENDAR_SCOPE,
    GMAIL_SCOPE,
    SERVICE_ACCOUNT,
    service_account_key,
)
from tests.plans import text_in_every_column
from tests.servers.google_api import GoogleApiFake
from tests.servers.google_oauth import GOOGLE_TOKEN_AUDIENCE, JWT_BEARER
from tests.stored import contacts, interactions

ERIN = "erin@acme.example"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.close()


def admin_config(
    fake: GoogleApiFake, key: Path, users: dict[str, str], extra: str = ""
) -> Settings:
    """One gmail account per (name -> user), all through the same service-account key."""
    lines = ["org_domains: [acme.example]", "accounts:"]
    for name, user in users.items():
        lines += [
            f"  - name: {name}\n    kind: gmail\n    owner: {user}",
            f"    service_account_key: file:{key}",
            f"    token_uri: {fake.auth.token_uri}",
            f"    api_root: {fake.url}\n    calendar_api_root: {fake.url}",
            "    backfill: 60d\n    lookahead: 30d\n    quota_units_per_second: 5000",
        ]
    return load_text("\n".join(lines) + "\n" + extra)


def key_file(folder: Path, info: dict[str, str]) -> Path:
    path = folder / "capture-sa.json"
    path.write_text(json.dumps(info, indent=2))
    path.chmod(0o600)
    return path


def load_erin(fake: GoogleApiFake) -> None:
    box = fake.user(ERIN).mailbox
    box.add(mail(11, "Fay Lin <fay@vendor.example>", f"Erin <{ERIN}>", "Quote", ("INBOX",))[0])
    box.add(mail(12, f"Erin <{ERIN}>", "Fay Lin <fay@vendor.example>", "Re: Quote", ("SENT",))[0])


def test_one_service_account_key_captures_two_users_with_their_own_assertions(
    google_api: GoogleApiFake, db: Database, tmp_path: Path
) -> None:
    load(google_api)
    load_erin(google_api)
    key = key_file(tmp_path, service_account_key(google_api, {DANA, ERIN}))
    settings = admin_config(google_api, key, {"dana": DANA, "erin": ERIN})
    reports = sync_once(settings, db)
    assert [(r.account, r.outcome) for r in reports] == [("dana", "ok"), ("erin", "ok")]
    erin_mail = {
        "msgid:g11@mail.example": ("received", [ERIN, "fay@vendor.example"], [("erin", False)]),
        "msgid:g12@mail.example": ("sent", [ERIN, "fay@vendor.example"], [("erin", False)]),
    }
    assert interactions(db) == {**LOADED, **erin_mail}
    assert contacts(db) == sorted([*CONTACTS, (("fay@vendor.example",), "Fay Lin")])
    assert google_api.auth.issued == [JWT_BEARER, JWT_BEARER]
    claims = [(c["iss"], c["sub"], c["scope"], c["aud"]) for c in google_api.auth.assertions]
    scope = f"{GMAIL_SCOPE} {CALENDAR_SCOPE}"
    assert claims == [
        (SERVICE_ACCOUNT, DANA, scope, GOOGLE_TOKEN_AUDIENCE),
        (SERVICE_ACCOUNT, ERIN, scope, GOOGLE_TOKEN_AUDIENCE),
    ]


def test_impersonate_names_the_user_and_calendar_false_asks_for_mail_only(
    google_api: GoogleApiFake, db: Database, tmp_path: Path
) -> None:
    load_erin(google_api)
    key = key_file(tmp_path, service_account_key(google_api, {ERIN}, scopes=(GMAIL_SCOPE,)))
    settings = load_text(
        "accounts:\n  - name: erin-mail\n    kind: gmail\n    owner: erin.w@acme.example\n"
        f"    service_account_key: file:{key}\n    impersonate: {ERIN}\n    calendar: false\n"
        f"    token_uri: {google_api.auth.token_uri}\n    api_root: {google_api.url}\n"
        "    backfill: 60d\n"
    )
    [report] = sync_once(settings, db)
    assert (report.outcome, report.streams) == ("ok", ["mail"])
    assert [(c["sub"], c["scope"]) for c in google_api.auth.assertions] == [(ERIN, GMAIL_SCOPE)]
    assert sorted(interactions(db)) == ["msgid:g11@mail.example", "msgid:g12@mail.example"]


def test_a_user_outside_the_delegation_needs_the_admin_and_no_key_is_ever_shown(
    google_api: GoogleApiFake,
    db: Database,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    load(google_api)
    load_erin(google_api)
    info = service_account_key(google_api, {DANA})  # Erin was not added in the Admin console
    key = key_file(tmp_path, info)
    broken = tmp_path / "broken.json"
    broken.write_text(info["private_key"])  # the PEM alone, not the JSON key file
    extra = (
        f"  - name: broken\n    kind: gmail\n    owner: {DANA}\n"
        f"    service_account_key: file:{broken}\n    token_uri: {google_api.auth.token_uri}\n"
        f"    api_root: {google_api.url}\n    calendar_api_root: {google_api.url}\n"
    )
    settings = admin_config(google_api, key, {"dana": DANA, "erin": ERIN}, extra)
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {
        "dana": "ok",
        "erin": "needs_reauth",
        "broken": "error",
    }
    assert reports["erin"].message == (
        "credentials refused: Google refused the credentials (unauthorized_client); the "
        "Google Workspace admin must check that the service account's client ID is allowed "
        "gmail.readonly, calendar.readonly under domain-wide delegation (Admin console: "
        "Security > Access and data control > API controls) and that erin@acme.example is "
        "an active user"
    )
    assert reports["broken"].message == (
        f"account 'broken': file:{broken} (key service_account_key) is not a service "
        "account's JSON key file (type, client_email and private_key are needed)"
    )
    assert interactions(db) == LOADED
    pem_body = "".join(info["private_key"].splitlines()[1:-1])
    planted = [info["private_key"], pem_body[100:160], key.read_text()]
    planted += list(google_api.auth.access_tokens)
    shown = caplog.text + "".join(r.message for r in reports.values())
    stored = text_in_every_column(db)
    assert [s for s in planted if s in shown or s in stored] == []
    assert "unauthorized_client" in stored  # the columns were read
