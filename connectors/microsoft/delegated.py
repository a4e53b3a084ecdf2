"""A rep's own mailbox by delegated, read-only consent: device-code sign-in, then msal's cache.

Sign-in (``sign_in``, run by ``autocapture auth microsoft ACCOUNT``): the
OAuth 2.0 device authorization grant (RFC 8628) of an
``msal.PublicClientApplication``, which works on a headless server: the
command prints a URL and a code, the rep opens the URL on any device, signs
in and consents, and the command's polling receives the tokens. The scopes
are read-only: ``Mail.Read`` and ``Calendars.Read`` of the cloud's Graph,
plus ``offline_access`` (msal adds it, with ``openid`` and ``profile``) for
a refresh token. The signed-in user must be the account's mailbox.

The tokens live in msal's ``SerializableTokenCache``, kept in the agent's
encrypted token store (``connectors.credentials.StoredSecret``, AES-GCM in
the database) as one JSON document: never in a file, never in plain text.

``DelegatedTokens`` is the ``TokenSource`` for Graph calls: msal answers
from the cache while the access token lasts and redeems the refresh token
when it does not (Entra rotates it; the new cache is saved at once). Another
process (the read-ahead child, a second agent) may have rotated it first,
so a refused refresh reads the stored cache again before it gives up.
``invalid_grant`` (consent revoked, password reset, user disabled) and a
cache without this user are ``AuthError``: the connector adds the command
that mends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import msal
import requests

from connectors.base import AuthError, ConfigurationError
from connectors.credentials import SecretSink, StoredSecret, TokenSource
from connectors.microsoft.identity import authority_url, call_msal, graph_resource, identity_error

CACHE_NAME = "msal_cache"  # the StoredSecret's name in the token store
READ_SCOPES = ("Mail.Read", "Calendars.Read")


def delegated_scopes(graph_root: str) -> list[str]:
    """The read-only scopes, named with the cloud's Graph (a bare name means the global one)."""
    resource = graph_resource(graph_root)
    return [f"{resource}/{scope}" for scope in READ_SCOPES]


def public_app(
    client_id: str,
    authority: str,
    cache: msal.SerializableTokenCache,
    session: requests.Session,
    what: str,
) -> msal.PublicClientApplication:
    return call_msal(
        what,
        lambda: msal.PublicClientApplication(
            client_id,
            authority=authority,
            token_cache=cache,
            instance_discovery=False,
            http_client=session,
        ),
    )


def cache_from(stored: StoredSecret) -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    text = stored.load()
    if text:
        cache.deserialize(text)
    return cache


class DelegatedTokens(TokenSource):
    """Graph tokens of the signed-in rep, from msal's cache in the token store."""

    def __init__(
        self,
        account: str,
        tenant: str,
        client_id: str,
        stored: StoredSecret,
        *,
        user: str,
        authority_host: str,
        graph_root: str,
        session: requests.Session,
        announce: SecretSink,
    ) -> None:
        self.account, self.client_id, self.user = account, client_id, user
        self.authority = authority_url(authority_host, tenant)
        self.scopes = delegated_scopes(graph_root)
        self._stored, self._session, self._announce = stored, session, announce
        self._cache: msal.SerializableTokenCache | None = None
        self._app: msal.PublicClientApplication | None = None
        self._lock = threading.Lock()
        self.what = f"account {account!r}: token for Graph"

    def token(self) -> str:
        return self._acquire(force=False)

    def refresh(self) -> str:
        return self._acquire(force=True)

    def _acquire(self, force: bool) -> str:
        with self._lock:
            result = self._silent(force)
            if result is None or "access_token" not in result:
                # Another process may have rotated the refresh token: read the store again.
                self._cache = self._app = None
                result = self._silent(force)
            self._save()
        if result is None:
            raise AuthError(f"{self.what}: no sign-in of {self.user} is stored")
        if "access_token" not in result:
            raise identity_error(result, self.what)
        token = str(result["access_token"])
        self._announce(token)
        return token

    def _silent(self, force: bool) -> Mapping[str, Any] | None:
        if self._app is None:
            self._cache = cache_from(self._stored)
            cache = self._cache
            self._app = public_app(self.client_id, self.authority, cache, self._session, self.what)
        app = self._app
        accounts = app.get_accounts(username=self.user)
        if not accounts:
            return None
        result = call_msal(
            self.what,
            lambda: app.acquire_token_silent_with_error(
                self.scopes, accounts[0], force_refresh=force
            ),
        )
        return result if isinstance(result, Mapping) else None

    def _save(self) -> None:
        if self._cache is not None and self._cache.has_state_changed:
            self._stored.save(self._cache.serialize())
            self._cache.has_state_changed = False


def sign_in(
    client_id: str,
    tenant: str,
    user: str,
    stored: StoredSecret,
    *,
    authority_host: str,
    graph_root: str,
    session: requests.Session,
    show: Callable[[str], None],
) -> str:
    """The device-code sign-in of ``user``; stores msal's cache and returns who signed in.

    ``show`` gets Entra's instruction (the URL and the code) to print. Blocks
    while the identity platform says the sign-in is pending."""
    what = f"sign-in of {user}"
    cache = cache_from(stored)
    app = public_app(client_id, authority_url(authority_host, tenant), cache, session, what)
    scopes = delegated_scopes(graph_root)
    flow = call_msal(what, lambda: app.initiate_device_flow(scopes=scopes))
    if "user_code" not in flow:
        raise identity_error(flow, what)
    show(str(flow.get("message") or f"Open {flow['verification_uri']}, enter {flow['user_code']}"))
    result = call_msal(what, lambda: app.acquire_token_by_device_flow(flow))
    if "access_token" not in result:
        raise identity_error(result, what)
    claims = result.get("id_token_claims") or {}
    signed_in = str(claims.get("preferred_username", ""))
    if signed_in.lower() != user.lower():
        raise ConfigurationError(
            f"{what}: signed in as {signed_in or 'an unknown user'}, but the account reads "
            f"{user}'s mailbox; sign in as {user} (nothing was stored)"
        )
    stored.save(cache.serialize())
    return signed_in
