"""The installed-app grant: a rep lets autocapture read their Google account, once.

OAuth 2.0 for desktop apps on google-auth-oauthlib (RFC 8252): a one-shot
HTTP server on 127.0.0.1 with a port the system picks is the redirect
target; the consent URL goes to the browser (or is printed for the rep to
open); the browser comes back to the loopback server with a code, which is
exchanged with PKCE (RFC 7636, S256) at the token URI for a refresh token.
Only read-only scopes are asked for. ``access_type=offline`` asks for the
refresh token, and ``prompt=consent`` makes Google issue a new one even
when the rep consented before (it sends a refresh token only on consent).

Google lets a rep untick a scope on the consent page (granular consent),
so the token answer may grant fewer scopes than asked: oauthlib would raise
a bare ``Warning`` for that; here it is told to accept the answer, and the
granted scopes are checked instead. Mail must be granted; calendars only
when the account syncs them.

oauthlib refuses a token URI over plain http, which the settings allow to
loopback only (a proxy on the same machine, the tests' fake): for such a
URI the refusal is lifted for the exchange.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from connectors.base import AuthError, TransientError
from connectors.google.session import read_only_scopes

__all__ = ["Client", "Granted", "installed_app_grant", "read_only_scopes"]


@dataclass(frozen=True, slots=True)
class Granted:
    refresh_token: str = field(repr=False)
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Client:
    """The OAuth client (type "Desktop app") and Google's two endpoints."""

    client_id: str
    client_secret: str = field(repr=False)
    auth_uri: str
    token_uri: str

    def config(self) -> dict[str, dict[str, object]]:
        """The client in Google's "client secrets" form, as the library reads it."""
        return {
            "installed": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": self.auth_uri,
                "token_uri": self.token_uri,
                "redirect_uris": ["http://127.0.0.1"],
            }
        }


def installed_app_grant(
    client: Client,
    scopes: Sequence[str],
    *,
    open_browser: bool,
    timeout: float,
    prompt: str,
    port: int = 0,
    login_hint: str | None = None,
    announce: Callable[[str], None] = lambda value: None,
) -> Granted:
    """Run the flow to its end; ``prompt`` is printed with ``{url}`` in it; ``port`` 0
    lets the system pick the loopback port.

    ``AuthError``: the rep or Google refused; ``TransientError``: no answer
    from the browser within ``timeout`` seconds, or the token URI unreachable."""
    from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
    from oauthlib.oauth2 import OAuth2Error
    from requests import RequestException

    flow = InstalledAppFlow.from_client_config(client.config(), scopes=list(scopes))
    hint = {"login_hint": login_hint} if login_hint else {}
    try:
        with _oauthlib_switches(client.token_uri):
            credentials = flow.run_local_server(
                host="127.0.0.1",
                port=port,
                open_browser=open_browser,
                authorization_prompt_message=prompt,
                success_message="autocapture may now read this account. You can close this tab.",
                timeout_seconds=timeout,
                access_type="offline",
                prompt="consent",
                **hint,
            )
    except WSGITimeoutError:
        raise TransientError(
            f"no answer from the browser within {timeout:.0f} seconds; run the command again"
        ) from None
    except OAuth2Error as exc:
        detail = f"{exc.error}: {exc.description}" if exc.description else exc.error
        raise AuthError(f"Google refused the grant ({detail})") from None
    except RequestException as exc:
        raise TransientError(f"the token URI did not answer ({type(exc).__name__})") from None
    return _granted(credentials, scopes, announce)


def _granted(credentials: object, asked: Sequence[str], announce: Callable[[str], None]) -> Granted:
    token = getattr(credentials, "refresh_token", None)
    granted = tuple(getattr(credentials, "granted_scopes", None) or asked)
    if not token:
        raise AuthError("Google granted no refresh token (offline access was not granted)")
    announce(token)
    missing = [s.rsplit("/", 1)[-1] for s in asked if s not in granted]
    if missing:
        raise AuthError(
            f"the consent did not grant {', '.join(missing)}; run the command again and "
            "leave every box ticked (or set calendar: false to capture mail only)"
        )
    return Granted(token, granted)


@contextmanager
def _oauthlib_switches(token_uri: str) -> Iterator[None]:
    """oauthlib reads two switches from the environment, for the length of the flow."""
    wanted = {"OAUTHLIB_RELAX_TOKEN_SCOPE": "1"}
    if urlsplit(token_uri).scheme == "http":  # loopback only (config.values.parse_service_url)
        wanted["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    before = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
