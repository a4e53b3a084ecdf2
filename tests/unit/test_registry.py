"""The typed connector registry: which kinds this version can sync, what `config check`
says of the others, and secret keys known from the settings models."""

from __future__ import annotations

import sys
import textwrap
import typing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.cli import main
from agent.redact import redact
from agent.registry import CONNECTORS, BuildContext, ConnectorRegistry, imap_connector
from config.accounts import ACCOUNT_MODELS, AccountBase, CaldavAccount, GmailAccount, ImapAccount
from config.check import run_check
from config.loader import load_text
from config.values import Secret
from connectors.base import ConfigurationError, Limits, Window
from connectors.caldav.connector import CaldavConnector
from connectors.google.gmail import GmailConnector
from connectors.imap.connector import ImapConnector
from connectors.records import Message

NOW = datetime(2026, 12, 1, tzinfo=UTC)
WINDOW = Window(NOW - timedelta(days=30), NOW + timedelta(days=30))

MICROSOFT = """\
    accounts:
      - name: ann-imap
        kind: imap
        owner: ann@acme.example
        host: imap.acme.example
        password: ${ANN_IMAP_PASSWORD}
      - name: bob-m365
        kind: microsoft
        owner: bob@acme.example
        tenant: acme.example
        client_id: 00000000-1111-2222-3333-444444444444
        client_secret: ${BOB_M365_CLIENT_SECRET}
"""
GMAIL = """\
    accounts:
      - name: bob-gmail
        kind: gmail
        owner: bob@acme.example
        client_id: 1234.apps.googleusercontent.com
        client_secret: ${BOB_GOOGLE_CLIENT_SECRET}
        refresh_token: ${BOB_GOOGLE_REFRESH_TOKEN}
"""


def config_check(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], kinds: set[str] | None = None
) -> tuple[int, str]:
    """`config check` as this version runs it, or as one that syncs only ``kinds``."""
    path = tmp_path / "autocapture.yaml"
    path.write_text(textwrap.dedent(text))
    if kinds is None:
        status = main(["config", "check", str(path)])
    else:
        status = run_check(path, sys.stderr, kinds)
    return status, capsys.readouterr().err.replace(str(path), "FILE")


# A version without the Microsoft connector: what it says of an account it cannot sync.
WITHOUT_MICROSOFT = {"archive", "caldav", "gmail", "imap", "plugin"}


def test_the_kinds_with_a_connector() -> None:
    assert CONNECTORS.kinds() == {"archive", "imap", "caldav", "gmail", "microsoft", "plugin"}
    assert CONNECTORS.kinds() == set(ACCOUNT_MODELS)


def test_config_check_accepts_a_microsoft_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANN_IMAP_PASSWORD", "BOB_M365_CLIENT_SECRET"):
        monkeypatch.setenv(name, "x")
    status, err = config_check(tmp_path, MICROSOFT, capsys)
    assert (status, err.splitlines()) == (0, ["FILE: OK, 2 accounts"])


def test_config_check_refuses_an_enabled_account_of_a_kind_without_a_connector(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("ANN_IMAP_PASSWORD", "BOB_M365_CLIENT_SECRET"):
        monkeypatch.setenv(name, "x")
    status, err = config_check(tmp_path, MICROSOFT, capsys, WITHOUT_MICROSOFT)
    assert status == 2
    assert err.splitlines() == [
        'FILE:8 accounts[1].kind: account kind "microsoft" has no connector in this version '
        "(available: archive, caldav, gmail, imap, plugin); set enabled: false until it has",
        "1 problem in FILE",
    ]


def test_a_disabled_account_of_such_a_kind_is_only_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANN_IMAP_PASSWORD", "x")
    monkeypatch.setenv("BOB_M365_CLIENT_SECRET", "x")
    status, err = config_check(
        tmp_path, MICROSOFT + "        enabled: false\n", capsys, WITHOUT_MICROSOFT
    )
    assert status == 0
    assert err.splitlines() == [
        'FILE:8 accounts[1].kind: warning: account kind "microsoft" has no connector in this '
        "version (available: archive, caldav, gmail, imap, plugin)",
        "FILE: OK, 2 accounts",
    ]


def test_a_sync_of_such_a_kind_fails_that_account_saying_so() -> None:
    without = ConnectorRegistry()
    without.register(ImapAccount, imap_connector)
    account = load_text(textwrap.dedent(MICROSOFT)).accounts[1]
    with pytest.raises(ConfigurationError) as caught:
        without.build(account, BuildContext(WINDOW, Limits()))
    assert str(caught.value) == (
        "account 'bob-m365': kind 'microsoft' has no connector in this version (available: imap)"
    )


def secret_fields(model: type[AccountBase]) -> set[str]:
    """Fields whose annotation mentions ``Secret``, read from the model itself."""
    return {
        name
        for name, info in model.model_fields.items()
        if Secret in typing.get_args(info.annotation) or info.annotation is Secret
    }


@pytest.mark.parametrize("kind", sorted(ACCOUNT_MODELS))
def test_secret_keys_come_from_the_settings_models(kind: str) -> None:
    model = ACCOUNT_MODELS[kind]
    fields = secret_fields(model)
    assert kind in ("archive", "plugin") or fields  # every remote kind has a credential
    sample = {name: Secret("env", f"V_{name.upper()}") for name in fields}
    unset = dict.fromkeys(model.model_fields)  # an unvalidated model: every other key None
    account = model.model_construct(
        _fields_set=None, **{**unset, "name": "a", "kind": kind, **sample}
    )
    assert account.secrets() == sample


def test_register_account_secrets_masks_every_secret_of_a_new_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from agent.commands import register_account_secrets

    settings = load_text(textwrap.dedent(GMAIL))
    monkeypatch.setenv("BOB_GOOGLE_CLIENT_SECRET", "gcs-5d1e0c2b")
    monkeypatch.setenv("BOB_GOOGLE_REFRESH_TOKEN", "1//0g-refresh-77a2")
    register_account_secrets(settings)
    assert redact("cs=gcs-5d1e0c2b rt=1//0g-refresh-77a2") == "cs=*** rt=***"


def test_factories_take_every_value_from_the_settings_defaults() -> None:
    caldav = CaldavAccount(name="cal", kind="caldav", url="https://cal.example.com/")
    connector = CONNECTORS.build(caldav, BuildContext(WINDOW, Limits()))
    assert isinstance(connector, CaldavConnector)
    assert connector.client._timeout == (10.0, 60.0)  # the config's 60 s, not a connector's own
    # port and username are left to their defaults on purpose.
    imap = ImapAccount(
        name="mail",
        kind="imap",
        owner=("ann@acme.example",),
        host="imap.acme.example",
        password=Secret("env", "P"),
    )
    mail = CONNECTORS.build(imap, BuildContext(WINDOW, Limits()))
    assert isinstance(mail, ImapConnector)
    assert (mail.endpoint.timeout, mail.endpoint.port, mail.text_bytes) == (60.0, 993, 16_384)


def test_the_gmail_factory_takes_its_values_from_the_settings() -> None:
    # service_account_key is left to its default on purpose.
    account = GmailAccount(
        name="bob-gmail",
        kind="gmail",
        owner=("bob@acme.example",),
        client_id="1234.apps.googleusercontent.com",
        client_secret=Secret("env", "CS"),
        refresh_token=Secret("env", "RT"),
    )
    connector = CONNECTORS.build(account, BuildContext(WINDOW, Limits()))
    assert isinstance(connector, GmailConnector)
    assert (connector.pace.rate, connector.mail.skip_names) == (90.0, ("DRAFT", "CHAT"))
    assert connector.mail.gmail._baseUrl == "https://gmail.googleapis.com/"


def test_a_plugin_account_gets_the_connector_its_factory_builds(tmp_path: Path) -> None:
    from tests.recording_connector import RecordingConnector

    settings = load_text(
        textwrap.dedent(
            f"""\
            accounts:
              - name: crm
                kind: plugin
                factory: tests.recording_connector:connector
                options: {{items: 3, log_dir: "{tmp_path}"}}
            """
        )
    )
    connector = CONNECTORS.build(settings.accounts[0], BuildContext(WINDOW, Limits()))
    assert isinstance(connector, RecordingConnector)
    assert (connector.account, connector.items) == ("crm", 3)
    batch = connector.fetch("INBOX", None, 2)
    first, second = batch.records
    assert isinstance(first, Message) and isinstance(second, Message)
    assert [first.message_id, second.message_id] == ["0.crm@acme.example", "1.crm@acme.example"]
    assert (batch.next_cursor, batch.has_more) == ({"next": 2}, True)
    connector.close()


def test_a_plugin_factory_that_cannot_be_loaded_fails_its_account_saying_which() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            accounts:
              - name: crm
                kind: plugin
                factory: tests.no_such_module:connector
              - name: erp
                kind: plugin
                factory: tests.recording_connector:no_such_function
            """
        )
    )
    messages = []
    for account in settings.accounts:
        with pytest.raises(ConfigurationError) as caught:
            CONNECTORS.build(account, BuildContext(WINDOW, Limits()))
        messages.append(str(caught.value))
    assert messages == [
        "account 'crm': cannot load the factory 'tests.no_such_module:connector' "
        "(ModuleNotFoundError)",
        "account 'erp': cannot load the factory 'tests.recording_connector:no_such_function' "
        "(AttributeError)",
    ]
