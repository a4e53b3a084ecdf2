"""Which connector serves which account settings: a typed registry, settings model -> factory.

Each connector kind registers one factory that takes its own settings model
(``ImapAccount``, ``CaldavAccount``, ...), so mypy checks every setting a
factory reads against the model that declares it, and a factory never
supplies a default of its own: defaults live in ``config.settings`` only.
Connectors never import ``config``; this module is where the two meet.

A kind that ``config`` knows but no factory serves is refused by
``autocapture config check`` and, should it reach a sync, fails that account
with a ``ConfigurationError`` saying so.

Secrets are resolved at the time of use through ``connectors.credentials``
sources built here: every value read is registered for redaction, and a
reference that cannot be resolved (``SecretUnavailable``) becomes a
``ConfigurationError`` naming the account and the key, the connector error
tree's way of saying "the admin must fix the settings".
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from agent.redact import register_secret
from config.accounts import (
    ACCOUNT_MODELS,
    AccountBase,
    ArchiveAccount,
    CaldavAccount,
    GmailAccount,
    ImapAccount,
    MicrosoftAccount,
    PluginAccount,
)
from config.errors import SecretUnavailable
from config.values import Secret
from connectors.base import ConfigurationError, Connector, Limits, Window
from connectors.credentials import (
    ReadSecret,
    SecretSink,
    StoredSecret,
    StoredToken,
    TokenSource,
)

if TYPE_CHECKING:  # the HTTP stack loads only for a kind that needs it
    import requests

    from connectors.http import HttpClient

A = TypeVar("A", bound=AccountBase)


@dataclass(frozen=True, slots=True)
class BuildContext:
    """What every factory gets besides the account's settings."""

    window: Window
    limits: Limits
    announce: SecretSink = register_secret  # every secret value read, for redaction
    # A connector may fetch a backlog's next batch in a thread; off when the
    # agent's read-ahead process owns the backlog (agent.readahead).
    fetch_ahead: bool = True
    # (account, name) -> that credential in the encrypted token store
    # (agent.tokens); None where there is no database (`inspect`, some tests).
    stored: Callable[[str, str], StoredSecret] | None = None


Factory = Callable[[A, BuildContext], Connector]


class ConnectorRegistry:
    """Settings model -> the factory of its connector."""

    def __init__(self) -> None:
        self._factories: dict[type[AccountBase], Callable[[Any, BuildContext], Connector]] = {}

    def register(self, model: type[A], factory: Factory[A]) -> None:
        self._factories[model] = factory

    def kinds(self) -> frozenset[str]:
        """The account kinds this version can sync."""
        return frozenset(kind for kind, model in ACCOUNT_MODELS.items() if model in self._factories)

    def build(self, account: AccountBase, context: BuildContext) -> Connector:
        factory = self._factories.get(type(account))
        if factory is None:
            raise ConfigurationError(
                f"account {account.name!r}: kind {account.kind!r} has no connector in this "
                f"version (available: {', '.join(sorted(self.kinds()))})"
            )
        return factory(account, context)


def secret_source(
    account: AccountBase, key: str, secret: Secret, announce: SecretSink
) -> ReadSecret:
    """``secret`` read at each use; unreadable, a ``ConfigurationError`` naming ``key``."""

    def read() -> str:
        try:
            return secret.resolve()
        except SecretUnavailable as exc:
            # The key in parentheses: "password: ..." would read as a credential to redact.
            raise ConfigurationError(
                f"account {account.name!r}: secret {exc.reference} (key {key}) "
                f"is unavailable: {exc.reason}"
            ) from None

    return ReadSecret(read, announce)


def stored_secret(account: AccountBase, name: str, context: BuildContext) -> StoredSecret:
    """The account's ``name`` credential in the token store (``connectors.credentials``)."""
    if context.stored is None:
        raise ConfigurationError(
            f"account {account.name!r}: no token store to read its {name.replace('_', ' ')} from"
        )
    return context.stored(account.name, name)


# Each factory imports its connector when called: an agent with IMAP accounts
# only never loads the HTTP stack (requests and urllib3 cost ~8 MB per process).


def archive_connector(account: ArchiveAccount, context: BuildContext) -> Connector:
    from connectors.archive.connector import ArchiveConnector

    return ArchiveConnector(account.name, account.paths, context.window, context.limits)


def imap_connector(account: ImapAccount, context: BuildContext) -> Connector:
    from connectors.imap.connector import ImapConnector

    password, token = account.password, account.oauth_token
    return ImapConnector(
        account=account.name,
        host=account.host,
        port=account.port,
        tls=account.tls,
        allow_plaintext=account.allow_plaintext,
        verify_tls=account.verify_tls,
        ca_file=str(account.ca_file) if account.ca_file is not None else None,
        username=account.username,
        password_provider=(
            secret_source(account, "password", password, context.announce).token
            if password is not None
            else None
        ),
        token_source=(
            secret_source(account, "oauth_token", token, context.announce)
            if token is not None
            else None
        ),
        folders=account.folders,
        text_bytes=account.text_bytes,
        timeout=account.timeout.total_seconds(),
        window=context.window,
        limits=context.limits,
        fetch_ahead=context.fetch_ahead,
    )


def caldav_connector(account: CaldavAccount, context: BuildContext) -> Connector:
    from connectors.caldav.connector import CaldavConnector
    from connectors.http import Auth, BasicAuth, BearerAuth, HttpClient

    auth: Auth | None = None
    if account.token is not None:
        auth = BearerAuth(secret_source(account, "token", account.token, context.announce))
    elif account.password is not None:
        source = secret_source(account, "password", account.password, context.announce)
        auth = BasicAuth(account.username or "", source.token)
    # A private CA's bundle keeps verification on; verify_tls: false turns it off.
    verify: bool | str = account.verify_tls
    if account.ca_file is not None and account.verify_tls:
        verify = str(account.ca_file)
    client = HttpClient(
        auth=auth,
        verify=verify,
        timeout=account.timeout.total_seconds(),
        allowed_redirect_hosts=account.allowed_redirect_hosts,
    )
    calendars = list(account.calendars) if account.calendars is not None else None
    return CaldavConnector(
        account.name,
        account.url,
        context.window,
        context.limits,
        auth=auth,
        calendars=calendars,
        client=client,
        allow_plaintext=account.allow_plaintext,
    )


def refresh_source(account: GmailAccount, context: BuildContext) -> TokenSource:
    """The refresh token from the settings, else the one `autocapture auth google` stored."""
    if account.refresh_token is not None:
        return secret_source(account, "refresh_token", account.refresh_token, context.announce)
    stored = stored_secret(account, "refresh_token", context)
    return StoredToken(stored, "refresh token", context.announce)


def gmail_connector(account: GmailAccount, context: BuildContext) -> Connector:
    from connectors.google import gmail
    from connectors.google.session import QuotaPace

    options: dict[str, Any] = {
        "api_root": account.api_root,
        "calendar_api_root": account.calendar_api_root,
        "calendar": account.calendar,
        "calendars": list(account.calendars) if account.calendars is not None else None,
        "skip_labels": list(account.skip_labels),
        "pace": QuotaPace(float(account.quota_units_per_second)),
        "timeout": account.timeout.total_seconds(),
    }
    announce, window, limits = context.announce, context.window, context.limits
    if account.service_account_key is not None:
        key = secret_source(account, "service_account_key", account.service_account_key, announce)
        return gmail.from_service_account(
            account.name,
            key,
            account.subject,
            account.token_uri,
            announce,
            window,
            limits,
            key_name=f"account {account.name!r}: {account.service_account_key} "
            "(key service_account_key)",
            **options,
        )
    assert account.client_id is not None and account.client_secret is not None  # settings rule
    return gmail.from_settings(
        account.name,
        account.client_id,
        secret_source(account, "client_secret", account.client_secret, announce),
        refresh_source(account, context),
        account.token_uri,
        announce,
        window,
        limits,
        **options,
    )


def plugin_connector(account: PluginAccount, context: BuildContext) -> Connector:
    """The connector a ``plugin`` account's ``factory`` ("module:function") builds."""
    module_name, _, attribute = account.factory.partition(":")
    try:
        make = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(
            f"account {account.name!r}: cannot load the factory {account.factory!r} "
            f"({type(exc).__name__})"
        ) from None
    connector: Connector = make(account.name, dict(account.options), context.window, context.limits)
    return connector


def microsoft_connector(account: MicrosoftAccount, context: BuildContext) -> Connector:
    from connectors.microsoft.connector import MicrosoftConnector

    client = microsoft_client(account)
    if account.auth == "delegated":
        client.use_bearer(_delegated_tokens(account, context, client.session))
        reauth = f"run `autocapture auth microsoft {account.name}` to sign in again"
    else:
        client.use_bearer(_app_tokens(account, context, client.session))
        reauth = (
            "check the app's client secret or certificate in Entra ID and the admin consent "
            f"to Mail.Read and Calendars.Read, then run `autocapture sync --account {account.name}`"
        )
    return MicrosoftConnector(
        account.name,
        client,
        graph_root=account.graph_root,
        user=account.user,
        window=context.window,
        limits=context.limits,
        folders=account.folders,
        calendars=account.calendars if account.calendar else (),
        reauth=reauth,
    )


def microsoft_client(account: MicrosoftAccount) -> HttpClient:
    """The account's one HTTP client: Graph and, through its session, msal."""
    from connectors.http import HttpClient

    verify: bool | str = str(account.ca_file) if account.ca_file is not None else True
    return HttpClient(verify=verify, timeout=account.timeout.total_seconds())


def _app_tokens(
    account: MicrosoftAccount, context: BuildContext, session: requests.Session
) -> TokenSource:
    from connectors.microsoft.identity import AppTokens

    return AppTokens(
        account.name,
        account.tenant,
        account.client_id,
        _app_credential(account, context.announce),
        authority_host=account.authority,
        graph_root=account.graph_root,
        session=session,
        announce=context.announce,
    )


def _delegated_tokens(
    account: MicrosoftAccount, context: BuildContext, session: requests.Session
) -> TokenSource:
    from connectors.microsoft.delegated import CACHE_NAME, DelegatedTokens

    return DelegatedTokens(
        account.name,
        account.tenant,
        account.client_id,
        stored_secret(account, CACHE_NAME, context),
        user=account.user,
        authority_host=account.authority,
        graph_root=account.graph_root,
        session=session,
        announce=context.announce,
    )


def _app_credential(
    account: MicrosoftAccount, announce: SecretSink
) -> Callable[[], str | dict[str, str]]:
    """The client credential msal takes, read when the token source first needs it."""
    certificate, key = account.certificate, account.certificate_key
    if certificate is not None and key is not None:
        source = secret_source(account, "certificate_key", key, announce)

        def with_certificate() -> dict[str, str]:
            try:
                public = certificate.read_text()
            except OSError as exc:
                raise ConfigurationError(
                    f"account {account.name!r}: certificate {str(certificate)!r} is "
                    f"unreadable: {exc.strerror}"
                ) from None
            return {"private_key": source.token(), "public_certificate": public}

        return with_certificate
    assert account.client_secret is not None  # the settings require one of the two
    return secret_source(account, "client_secret", account.client_secret, announce).token


CONNECTORS = ConnectorRegistry()
CONNECTORS.register(ArchiveAccount, archive_connector)
CONNECTORS.register(ImapAccount, imap_connector)
CONNECTORS.register(CaldavAccount, caldav_connector)
CONNECTORS.register(GmailAccount, gmail_connector)
CONNECTORS.register(PluginAccount, plugin_connector)
CONNECTORS.register(MicrosoftAccount, microsoft_connector)
