"""Connection security and authentication of the IMAP connector, on real Dovecots.

One Dovecot offers STARTTLS and implicit TLS with a certificate from a test
CA; the plain one offers neither.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from agent.sync import sync_once
from config import ImapAccount
from config.errors import ConfigError
from connectors.base import AuthError, ConfigurationError
from connectors.credentials import ReadSecret, TokenSource
from connectors.imap.connector import ImapConnector, TlsMode
from storage import open_database
from tests.admin_config import admin_settings
from tests.servers.dovecot import DovecotServer, MailUser, new_user
from tests.tokens import RotatingTokens

pytestmark = pytest.mark.server

MESSAGE = (
    b"From: Ann <ann@northwind.example>\r\nTo: dana@acme.example\r\nSubject: TLS\r\n"
    b"Message-ID: <tls@northwind.example>\r\n\r\nhello\r\n"
)


@pytest.fixture
def tls_user(dovecot_tls_server: DovecotServer) -> MailUser:
    user = new_user(dovecot_tls_server)
    user.append("INBOX", [MESSAGE])
    return user


def secure(
    user: MailUser, tls: TlsMode, port: int, ca: str | None, **options: object
) -> ImapConnector:
    return ImapConnector(
        account="secure",
        host="127.0.0.1",
        port=port,
        tls=tls,
        username=user.name,
        password_provider=lambda: user.password,
        ca_file=ca,
        folders=["INBOX"],
        timeout=10,
        text_bytes=16_384,
        **options,  # type: ignore[arg-type]
    )


def identities(connector: ImapConnector) -> list[str]:
    try:
        return [r.identity for r in connector.fetch("INBOX", None, 10).records]
    finally:
        connector.close()


def test_implicit_tls_with_a_trusted_certificate(tls_user: MailUser) -> None:
    server = tls_user.server
    assert server.tls_files is not None
    made = secure(tls_user, "implicit", server.tls_port, str(server.tls_files.ca))
    assert identities(made) == ["msgid:tls@northwind.example"]


def test_starttls_with_a_trusted_certificate(tls_user: MailUser) -> None:
    server = tls_user.server
    assert server.tls_files is not None
    made = secure(tls_user, "starttls", server.port, str(server.tls_files.ca))
    assert identities(made) == ["msgid:tls@northwind.example"]


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
def test_an_untrusted_certificate_is_refused_by_default(tls_user: MailUser, tls: TlsMode) -> None:
    server = tls_user.server
    port = server.tls_port if tls == "implicit" else server.port
    made = secure(tls_user, tls, port, None)  # the system CAs do not know the test CA
    with pytest.raises(ConfigurationError, match="untrusted certificate"):
        made.fetch("INBOX", None, 10)


def test_verification_can_be_turned_off_explicitly(tls_user: MailUser) -> None:
    server = tls_user.server
    made = secure(tls_user, "implicit", server.tls_port, None, verify_tls=False)
    assert identities(made) == ["msgid:tls@northwind.example"]


def test_a_server_without_starttls_is_a_clear_configuration_error(dovecot: MailUser) -> None:
    made = secure(dovecot, "starttls", dovecot.port, None)
    with pytest.raises(ConfigurationError, match="offers no STARTTLS") as caught:
        made.fetch("INBOX", None, 10)
    assert "allow_plaintext" in str(caught.value)


def test_plaintext_only_when_explicitly_allowed(dovecot: MailUser) -> None:
    dovecot.append("INBOX", [MESSAGE])
    with pytest.raises(ConfigurationError, match="allow_plaintext"):
        secure(dovecot, "none", dovecot.port, None).fetch("INBOX", None, 10)
    allowed = secure(dovecot, "starttls", dovecot.port, None, allow_plaintext=True)
    assert identities(allowed) == ["msgid:tls@northwind.example"]


def test_a_wrong_password_is_an_auth_error_that_names_no_secret(
    dovecot: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-" + dovecot.password
    made = ImapConnector(
        account="rep",
        host="127.0.0.1",
        port=dovecot.port,
        tls="none",
        allow_plaintext=True,
        username=dovecot.name,
        password_provider=lambda: wrong,
        folders=["INBOX"],
        timeout=10,
        text_bytes=16_384,
    )
    with pytest.raises(AuthError) as caught:
        made.fetch("INBOX", None, 10)
    message = str(caught.value)
    assert "refused the credentials" in message and dovecot.name in message
    for shown in (message, repr(made), repr(caught.value), caplog.text):
        assert wrong not in shown
    assert caught.value.__cause__ is None and caught.value.__context__ is not None
    assert wrong not in str(caught.value.__context__)


def test_xoauth2_login_with_a_token_provider(dovecot: MailUser) -> None:
    # Dovecot 2.3 checks an XOAUTH2 bearer token against its passdb like a
    # password, so the user's password serves as the token here; what is
    # under test is that the connector authenticates with SASL XOAUTH2.
    dovecot.append("INBOX", [MESSAGE])
    tokens = iter([dovecot.password])
    made = oauth_connector(dovecot, ReadSecret(lambda: next(tokens)))
    assert identities(made) == ["msgid:tls@northwind.example"]
    log = dovecot.server.log.read_text()
    assert f"Login: user=<{dovecot.name}>, method=XOAUTH2" in log


def oauth_connector(user: MailUser, source: TokenSource) -> ImapConnector:
    return ImapConnector(
        account="oauth",
        host="127.0.0.1",
        port=user.port,
        tls="none",
        allow_plaintext=True,
        username=user.name,
        token_source=source,
        folders=["INBOX"],
        timeout=10,
        text_bytes=16_384,
    )


def test_a_refused_xoauth2_token_is_refreshed_once_and_the_login_goes_on(
    dovecot: MailUser,
) -> None:
    dovecot.append("INBOX", [MESSAGE])
    source = RotatingTokens("expired-" + dovecot.password, dovecot.password)
    assert identities(oauth_connector(dovecot, source)) == ["msgid:tls@northwind.example"]
    assert source.handed_out == ["expired-" + dovecot.password, dovecot.password]
    log = dovecot.server.log.read_text()
    assert f"Login: user=<{dovecot.name}>, method=XOAUTH2" in log


def test_a_refreshed_token_refused_too_is_an_auth_error(
    dovecot: MailUser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source = RotatingTokens("expired-1-" + dovecot.password, "revoked-2-" + dovecot.password)
    made = oauth_connector(dovecot, source)
    with pytest.raises(AuthError, match="refused the credentials"):
        made.fetch("INBOX", None, 10)
    assert source.handed_out == ["expired-1-" + dovecot.password, "revoked-2-" + dovecot.password]
    assert dovecot.password not in caplog.text


def test_the_account_setting_ca_file_trusts_a_company_ca(
    tls_user: MailUser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the YAML file to a verified connection; without it, the account's
    error says what to set. The path is relative to the YAML file."""
    server = tls_user.server
    assert server.tls_files is not None
    shutil.copy(server.tls_files.ca, tmp_path / "company-ca.pem")
    fields = {
        "kind": "imap",
        "owner": "dana@acme.example",
        "host": "127.0.0.1",
        "port": server.tls_port,
        "username": tls_user.name,
        "password": tls_user.password,
        "folders": "[INBOX]",
        "backfill": "30d",
    }
    settings = admin_settings(
        tmp_path,
        monkeypatch,
        "acme.example",
        {"trusting": {**fields, "ca_file": "company-ca.pem"}, "system-cas": fields},
    )
    trusting_account = settings.accounts[0]
    assert isinstance(trusting_account, ImapAccount)
    assert trusting_account.ca_file == tmp_path / "company-ca.pem"
    db = open_database(f"sqlite:///{tmp_path / 'ca.db'}")
    trusting, system = sync_once(settings, db)
    assert (trusting.outcome, trusting.records) == ("ok", 1)
    assert system.outcome == "error"
    assert "untrusted certificate" in system.message and "set ca_file" in system.message


def test_a_missing_ca_file_is_a_config_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields = {"kind": "imap", "owner": "dana@acme.example", "host": "127.0.0.1"}
    with pytest.raises(ConfigError) as caught:
        admin_settings(
            tmp_path,
            monkeypatch,
            "acme.example",
            {"a": {**fields, "password": "pw", "ca_file": "nowhere.pem"}},
        )
    assert f"no CA bundle at '{tmp_path / 'nowhere.pem'}'" in str(caught.value)
