"""Opening an authenticated IMAP connection: TLS first, then a password or an XOAUTH2 token.

TLS is implicit (RFC 8314, port 993) or STARTTLS (RFC 3501 6.2.1), with the
server certificate verified by default. Plaintext is used only when the
account says so explicitly: ``tls: none`` requires ``allow_plaintext``, and a
server that offers no STARTTLS where it was asked for is refused unless
plaintext is allowed. These are ``ConfigurationError``s, because retrying
cannot fix them; an untrusted certificate is one too.

The password arrives as a callable and an XOAUTH2 token as a ``TokenSource``
(``connectors.credentials``), read only at login, so nothing here holds, logs
or repeats them; a refused token is refreshed once and tried again. A refused login is ``AuthError`` (the account
becomes ``needs_reauth``) unless the server says RFC 5530 ``[UNAVAILABLE]``,
which is transient.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from connectors.base import AuthError, ConfigurationError, TransientError
from connectors.credentials import TokenSource

log = logging.getLogger(__name__)

TlsMode = Literal["implicit", "starttls", "none"]


@dataclass(frozen=True, slots=True)
class ImapEndpoint:
    """Where and how to connect; no secret in here."""

    account: str
    host: str
    port: int
    username: str
    timeout: float  # seconds, for connecting and for every read
    tls: TlsMode = "implicit"
    allow_plaintext: bool = False
    verify_tls: bool = True
    ca_file: str | None = None  # a CA bundle to trust instead of the system's

    def tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file)
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def open_session(
    endpoint: ImapEndpoint,
    password: Callable[[], str] | None,
    token: TokenSource | None,
) -> IMAPClient:
    """A logged-in connection; socket errors (``OSError``) are left to the caller's retry."""
    if endpoint.tls == "none" and not endpoint.allow_plaintext:
        raise ConfigurationError(
            f"IMAP account {endpoint.account!r}: tls is none but allow_plaintext is not set"
        )
    context = endpoint.tls_context()
    try:
        client = IMAPClient(
            endpoint.host,
            port=endpoint.port,
            ssl=endpoint.tls == "implicit",
            ssl_context=context,
            timeout=endpoint.timeout,
        )
        if endpoint.tls == "starttls":
            _starttls(endpoint, client, context)
    except ssl.SSLCertVerificationError as exc:
        raise ConfigurationError(
            f"IMAP server {endpoint.host}:{endpoint.port} presented an untrusted certificate "
            f"({exc.verify_message}); fix the certificate, set ca_file to the CA that "
            "signed it, or set verify_tls: false"
        ) from None
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"TLS handshake with {endpoint.host}:{endpoint.port} failed ({exc.reason}); "
            "check tls and port"
        ) from None
    _login(endpoint, client, password, token)
    return client


def _starttls(endpoint: ImapEndpoint, client: IMAPClient, context: ssl.SSLContext) -> None:
    if client.has_capability("STARTTLS"):
        client.starttls(context)
        return
    if not endpoint.allow_plaintext:
        client.shutdown()
        raise ConfigurationError(
            f"IMAP server {endpoint.host}:{endpoint.port} offers no STARTTLS; use tls: implicit "
            "(port 993) or set allow_plaintext: true to send the password unencrypted"
        )
    log.warning("IMAP server %s offers no STARTTLS; continuing in plaintext", endpoint.host)


def _login(
    endpoint: ImapEndpoint,
    client: IMAPClient,
    password: Callable[[], str] | None,
    token: TokenSource | None,
) -> None:
    try:
        if token is not None:
            _oauth2_login(endpoint, client, token)
        elif password is not None:
            client.login(endpoint.username, password())
        else:
            raise ConfigurationError(f"IMAP account {endpoint.account!r}: no password or token")
    except LoginError as exc:
        client.shutdown()
        if _unavailable(exc):
            raise TransientError(f"IMAP server {endpoint.host} cannot log in now") from None
        raise AuthError(
            f"IMAP server {endpoint.host} refused the credentials of {endpoint.username!r} "
            f"(account {endpoint.account!r}); update the password or re-authorize"
        ) from None


def _oauth2_login(endpoint: ImapEndpoint, client: IMAPClient, source: TokenSource) -> None:
    """SASL XOAUTH2; once more with a fresh token if the server refused this one
    (an access token expires within the hour, and nothing says when before a login)."""
    sent = source.token()
    try:
        client.oauth2_login(endpoint.username, sent)
    except LoginError as exc:
        if _unavailable(exc):
            raise
        fresh = source.refresh()
        if fresh == sent:
            raise
        log.info("IMAP server %s refused the token; logging in with a fresh one", endpoint.host)
        client.oauth2_login(endpoint.username, fresh)


def _unavailable(exc: LoginError) -> bool:
    """RFC 5530 [UNAVAILABLE]: the server cannot check credentials now; they may be fine."""
    return "[UNAVAILABLE]" in str(exc).upper()
