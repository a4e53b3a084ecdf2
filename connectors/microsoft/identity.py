"""Tokens from the Microsoft identity platform, on msal, as ``TokenSource``s for Graph calls.

App-only (``AppTokens``): the OAuth 2.0 client credentials grant of an
``msal.ConfidentialClientApplication``, with a client secret or, as
Microsoft recommends, a certificate (an RFC 7523 assertion msal signs with
the private key). The scope is the Graph resource's ``/.default``: the
application permissions an admin consented to (Mail.Read, Calendars.Read),
all or nothing. The resource is the Graph root's origin, so a national
cloud (graph.microsoft.us, microsoftgraph.chinacloudapi.cn) gets tokens
for its own Graph.

msal shares the connector's ``requests`` session (``HttpClient.session``),
so token requests have the account's TLS trust and timeouts; the app is
built at the first token, not before, because msal reads the tenant's
OpenID configuration when it is built. ``instance_discovery=False``: the
authority is the one the settings name, never looked up at
login.microsoftonline.com (a national cloud or a test must not call it).

msal keeps the token in its cache until shortly before it expires;
``refresh`` (after Graph refused the token with 401) drops it and asks
again. Every secret read and every token minted goes to ``announce``.

Failures, mapped to the connector error tree (``identity_error``):
``invalid_client``, ``unauthorized_client``, ``invalid_grant`` and the
like are ``AuthError`` (the connector adds the next step); a token endpoint that is down
(5xx, refused connection, timeout) is ``TransientError``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import msal
import requests

from connectors.base import AuthError, ConfigurationError, TransientError
from connectors.credentials import SecretSink, TokenSource

# Errors of the token endpoint that no retry mends (RFC 6749 5.2, Entra's extras).
_REFUSED = frozenset(
    {
        "invalid_client",
        "unauthorized_client",
        "invalid_grant",
        "invalid_scope",
        "interaction_required",
        "consent_required",
        "access_denied",
        "invalid_request",
        "invalid_tenant",
    }
)


def graph_resource(graph_root: str) -> str:
    """The resource a token is for: the Graph root's origin (national clouds differ)."""
    parts = urlsplit(graph_root)
    return f"{parts.scheme}://{parts.netloc}"


def authority_url(authority_host: str, tenant: str) -> str:
    return f"{authority_host.rstrip('/')}/{tenant}"


def identity_error(result: Mapping[str, Any], what: str) -> Exception:
    """The error an msal result dict without ``access_token`` stands for.

    Entra's ``error_description`` begins with an AADSTS code and is kept to
    its first sentence: it names the problem, never a secret.
    """
    code = str(result.get("error", "unknown_error"))
    description = str(result.get("error_description", "")).split(". ")[0].strip()
    aadsts = description.split(":")[0] if description.startswith("AADSTS") else ""
    detail = f"{code}{f', {aadsts}' if aadsts else ''}"
    if code in _REFUSED or code.startswith("invalid_"):
        return AuthError(f"{what}: the identity platform refused ({detail})")
    if code == "temporarily_unavailable":
        return TransientError(f"{what}: the identity platform is unavailable ({detail})")
    return AuthError(f"{what}: no token ({detail})")


def call_msal(what: str, request: Callable[[], Any]) -> Any:
    """One msal call; network failures become ``TransientError``, TLS ones configuration."""
    try:
        return request()
    except requests.exceptions.SSLError:
        raise ConfigurationError(f"{what}: TLS verification failed") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout):
        raise TransientError(f"{what}: the identity platform did not answer") from None
    except requests.exceptions.HTTPError as exc:  # msal raises 5xx as they come
        status = exc.response.status_code if exc.response is not None else 0
        raise TransientError(f"{what}: the identity platform answered {status}") from None
    except ValueError as exc:
        # msal raises ValueError for an authority whose OpenID configuration it
        # cannot read (unknown tenant, wrong host): the settings are wrong.
        raise ConfigurationError(f"{what}: {str(exc).splitlines()[0][:200]}") from None


class AppTokens(TokenSource):
    """App-only Graph tokens by client credentials (a secret, or a certificate's key)."""

    def __init__(
        self,
        account: str,
        tenant: str,
        client_id: str,
        credential: Callable[[], str | dict[str, str]],
        *,
        authority_host: str,
        graph_root: str,
        session: requests.Session,
        announce: SecretSink,
    ) -> None:
        self.account, self.client_id = account, client_id
        self.authority = authority_url(authority_host, tenant)
        self.scopes = [graph_resource(graph_root) + "/.default"]
        self._credential = credential  # read at build time, never kept by us
        self._session, self._announce = session, announce
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()
        self.what = f"account {account!r}: token for Graph"

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            credential = self._credential()
            for value in credential.values() if isinstance(credential, dict) else [credential]:
                self._announce(value)
            self._app = call_msal(
                self.what,
                lambda: msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=credential,
                    authority=self.authority,
                    instance_discovery=False,
                    http_client=self._session,
                ),
            )
        return self._app

    def token(self) -> str:
        with self._lock:
            app = self._application()
            result = call_msal(self.what, lambda: app.acquire_token_for_client(self.scopes))
        if not isinstance(result, dict) or "access_token" not in result:
            raise identity_error(result if isinstance(result, dict) else {}, self.what)
        token = str(result["access_token"])
        self._announce(token)
        return token

    def refresh(self) -> str:
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()
        return self.token()
