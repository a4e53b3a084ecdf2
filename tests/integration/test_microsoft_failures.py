"""Microsoft 365 accounts failing through the whole agent pass: throttling storms inside and
outside $batch, refused credentials, a mailbox outside the app's scope, a service that stays
down, and planted secrets that must show up nowhere."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agent.connections import Connections
from agent.redact import redact
from agent.sync import sync_once
from storage.database import Database
from tests.microsoft_clients import (
    CLIENT_ID,
    CLIENT_SECRET,
    DANA,
    account_yaml,
    certificate,
)
from tests.microsoft_mailbox import (
    CALENDAR_DELTA,
    DELTA,
    LOADED,
    load,
    settings_for,
)
from tests.plans import text_in_every_column
from tests.servers.fake_http import Fault
from tests.servers.microsoft_graph import Graph
from tests.servers.microsoft_graph_wire import throttled, unavailable
from tests.stored import contacts, interactions


def test_a_429_storm_inside_and_outside_batch_and_503s_lose_and_double_nothing(
    graph: Graph, db: Database
) -> None:
    load(graph)
    settings = settings_for(graph)
    server = graph.server
    server.fail(throttled(1), times=3, path=DELTA)
    server.fail(unavailable(), times=2, path=CALENDAR_DELTA)
    server.fail(Fault.drop(), times=1, path=DELTA)
    # A batch item's answer: the same fault, inside the $batch response.
    server.fail(throttled(1), times=2, path="/v1.0/users/{user}/messages/{id}")
    server.fail(throttled(1), times=1, path="/v1.0/$batch")
    [first] = sync_once(settings, db)
    assert first.outcome == "ok"
    assert server.faults_left == 0  # every fault was served
    assert interactions(db) == LOADED
    assert len(contacts(db)) == 2
    items = [r for r in server.log if r.header("graph-batch-id") is not None]
    assert len(items) == 3  # two throttled answers, then the expanded invitation
    [again] = sync_once(settings, db)
    assert (again.outcome, again.records) == ("ok", 0)


def test_a_refused_client_marks_only_that_account_needs_reauth(
    graph: Graph, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(graph)
    graph.add_user("sam@acme.example")
    monkeypatch.setenv("TEST_M365_OLD_SECRET", "Zq8~revoked.secret")
    settings = settings_for(
        graph,
        account_yaml(graph, "dana"),
        account_yaml(graph, "sam", "sam@acme.example", client_secret="${TEST_M365_OLD_SECRET}"),
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "ok", "sam": "needs_reauth"}
    assert reports["sam"].message == (
        "credentials refused: account 'sam': token for Graph: the identity platform refused "
        "(invalid_client, AADSTS7000215); check the app's client secret or certificate in "
        "Entra ID and the admin consent to Mail.Read and Calendars.Read, then run "
        "`autocapture sync --account sam`; sign in again"
    )
    assert {s.name: s.state for s in db.account_status()} == {"dana": "ok", "sam": "needs_reauth"}
    assert interactions(db) == LOADED


def test_no_token_secret_or_certificate_key_reaches_a_log_line_an_error_or_a_column(
    graph: Graph,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    load(graph)
    graph.add_user("sam@acme.example")
    key, cert = certificate()
    _, other_cert = certificate()  # registered for nobody: Sam's app is refused
    graph.identity.register_app("cert-app", certificate_pem=cert.encode())
    graph.identity.register_app("sam-app", certificate_pem=other_cert.encode())
    (tmp_path / "app.crt").write_text(cert)
    monkeypatch.setenv("TEST_M365_KEY", key)
    by_cert = {
        "client_secret": None,
        "certificate": str(tmp_path / "app.crt"),
        "certificate_key": "${TEST_M365_KEY}",
    }
    settings = settings_for(
        graph,
        account_yaml(graph, "dana", client_id="cert-app", **by_cert),
        account_yaml(graph, "sam", "sam@acme.example", client_id="sam-app", **by_cert),
        account_yaml(graph, "dana-secret"),
    )
    connections = Connections()
    try:
        sync_once(settings, db, connections=connections)
        first_tokens = list(graph.identity.access_tokens)
        graph.identity.expire_access_tokens()  # the kept connectors' tokens: 401, then fresh
        reports = {r.account: r for r in sync_once(settings, db, connections=connections)}
        assert {n: r.outcome for n, r in reports.items()} == {
            "dana": "ok",
            "sam": "needs_reauth",
            "dana-secret": "ok",
        }
        graph.server.fail(unavailable(), times=12, path=CALENDAR_DELTA)  # retries run out
        broken = {r.account: r for r in sync_once(settings, db, connections=connections)}
    finally:
        connections.close_all()
    assert broken["dana"].outcome == "error" and "HTTP 503" in broken["dana"].message
    access = first_tokens + list(graph.identity.access_tokens)
    assert len(access) >= 4  # two accounts' tokens before the 401s, and after
    key_body = "".join(key.splitlines()[1:-1])[:64]  # any part of the key would do
    secrets = [CLIENT_SECRET, key, key_body, *access]
    assert all(redact(s) == "***" for s in [CLIENT_SECRET, key, *access])
    stored = text_in_every_column(db)
    shown = caplog.text + "".join(r.message for r in [*reports.values(), *broken.values()])
    assert [s for s in secrets if s in stored or s in shown] == []
    assert "sam" in stored and "invalid_client" in stored  # the columns were read


def test_a_failing_account_is_never_spun_on(graph: Graph, db: Database) -> None:
    load(graph)
    settings = settings_for(graph)
    # Throttled for an hour: not slept through (a worker would block), not retried.
    graph.server.fail(throttled(3600), times=1, path=DELTA)
    [throttled_pass] = sync_once(settings, db)
    assert throttled_pass.outcome == "error"
    assert "HTTP 429" in throttled_pass.message
    asked = [r for r in graph.server.log if r.path.startswith("/v1.0/")]
    assert len(asked) == 1  # the first delta; the pass stops at the account's first failure
    graph.server.log.clear()
    # Down for good: a bounded number of tries, then the account waits for its next poll.
    graph.server.fail(unavailable(), times=100, path=DELTA)
    [down] = sync_once(settings, db)
    assert down.outcome == "error" and "HTTP 503" in down.message
    assert len([r for r in graph.server.log if r.path.startswith("/v1.0/")]) == 8
    assert interactions(db) == {}


def test_a_mailbox_outside_the_apps_scope_is_an_error_not_a_sign_in(
    graph: Graph, db: Database
) -> None:
    load(graph)
    graph.add_user("ceo@acme.example")
    graph.app_scopes[CLIENT_ID] = {DANA}  # an admin scoped the app to the sales mailboxes
    settings = settings_for(
        graph, account_yaml(graph, "dana"), account_yaml(graph, "ceo", "ceo@acme.example")
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {n: r.outcome for n, r in reports.items()} == {"dana": "ok", "ceo": "error"}
    assert reports["ceo"].message.endswith(
        "mail:inbox delta: access forbidden (HTTP 403); the account lacks permission for it"
    )
    assert {s.name: s.state for s in db.account_status()} == {"dana": "ok", "ceo": "error"}
