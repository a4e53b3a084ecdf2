"""The installed-app side of the Google fake: the consent page and the authorization-code grant.

As Google's OAuth 2.0 for desktop apps does it (RFC 6749 section 4.1, RFC
7636 PKCE, RFC 8252 loopback redirects):

- ``GET /o/oauth2/auth`` is the page a browser is sent to. A registered
  client, ``response_type=code``, a loopback ``redirect_uri``
  (``http://127.0.0.1:PORT/``, ``http://[::1]:PORT/`` or
  ``http://localhost:PORT/``; any port), known scopes, and a
  ``code_challenge_method`` of S256 or plain when a challenge is given;
  anything else is a 400 error page, never a redirect (Google shows
  "Error 400: redirect_uri_mismatch" and the like in the browser). The user
  signed in to the fake's browser (``sign_in``) consents at once, or refuses
  (``refuse``): the browser is redirected to ``redirect_uri`` with
  ``code``, ``scope`` and ``state``, or with ``error=access_denied``.
- ``grant_type=authorization_code`` at the token endpoint: the client
  authenticates (HTTP Basic or the form's ``client_secret``), the code is
  single use and tied to its client and ``redirect_uri``, and
  ``code_verifier`` must match the challenge. A refresh token is issued only
  with ``access_type=offline``, as Google does.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

LOOPBACK = ("127.0.0.1", "::1", "localhost")
KNOWN_SCOPES = frozenset(
    "https://www.googleapis.com/auth/" + s
    for s in (
        "gmail.readonly",
        "gmail.metadata",
        "gmail.modify",
        "calendar.readonly",
        "calendar.events.readonly",
        "calendar",
    )
)


@dataclass(frozen=True)
class Code:
    client_id: str
    redirect_uri: str
    user: str
    scopes: tuple[str, ...]
    challenge: str | None
    method: str
    offline: bool


@dataclass(frozen=True)
class Page:
    """What the consent endpoint answers: a redirect, or an error page."""

    status: int
    location: str | None = None
    text: str = ""


def _error_page(error: str, detail: str) -> Page:
    return Page(400, text=f"Error 400: {error}\n{detail}\n")


@dataclass
class ConsentScreen:
    clients: dict[str, str]  # the authority's registered clients: id -> secret
    signed_in: str | None = None  # whose browser session answers the consent page
    refusing: bool = False
    codes: dict[str, Code] = field(default_factory=dict)
    shown: list[dict[str, str]] = field(default_factory=list)  # each page's query

    def sign_in(self, user: str) -> None:
        self.signed_in = user

    def refuse(self) -> None:
        self.refusing = True

    def page(self, query: dict[str, list[str]]) -> Page:
        form = {k: v[0] for k, v in query.items()}
        self.shown.append(form)
        problem = self._refusal(form)
        if problem is not None:
            return problem
        redirect = form["redirect_uri"]
        state = {"state": form["state"]} if "state" in form else {}
        if self.refusing:
            return Page(302, _with_query(redirect, {"error": "access_denied", **state}))
        assert self.signed_in is not None
        scopes = tuple(form["scope"].split())
        code = "4/0A" + secrets.token_urlsafe(32)
        self.codes[code] = Code(
            form["client_id"],
            redirect,
            self.signed_in,
            scopes,
            form.get("code_challenge"),
            form.get("code_challenge_method", "plain"),
            form.get("access_type") == "offline",
        )
        granted = {"code": code, "scope": " ".join(scopes), **state}
        return Page(302, _with_query(redirect, granted))

    def _refusal(self, form: dict[str, str]) -> Page | None:
        if form.get("client_id") not in self.clients:
            return Page(401, text="Error 401: invalid_client\nThe OAuth client was not found.\n")
        if form.get("response_type") != "code":
            return _error_page("unsupported_response_type", "Only response_type=code is served.")
        parts = urlsplit(form.get("redirect_uri", ""))
        if parts.scheme != "http" or parts.hostname not in LOOPBACK or parts.port is None:
            return _error_page("redirect_uri_mismatch", "A desktop client redirects to loopback.")
        scopes = form.get("scope", "").split()
        if not scopes or not set(scopes) <= KNOWN_SCOPES:
            return _error_page("invalid_scope", "Some requested scopes were invalid.")
        if "code_challenge" in form and form.get("code_challenge_method", "plain") not in (
            "S256",
            "plain",
        ):
            return _error_page("invalid_request", "Invalid code_challenge_method.")
        if self.signed_in is None:
            return Page(200, text="Sign in - Google Accounts\n")
        return None

    def exchange(self, form: dict[str, str], client: str) -> tuple[int, dict[str, Any]] | Code:
        """The code a token request redeems (used up), or the endpoint's error answer."""
        code = self.codes.pop(form.get("code", ""), None)
        if code is None:
            return 400, {"error": "invalid_grant", "error_description": "Malformed auth code."}
        if code.client_id != client or code.redirect_uri != form.get("redirect_uri"):
            return 400, {"error": "redirect_uri_mismatch", "error_description": "Bad Request"}
        if code.challenge is not None:
            verifier = form.get("code_verifier")
            if verifier is None:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Missing code verifier.",
                }
            if _challenge(verifier, code.method) != code.challenge:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "Invalid code verifier.",
                }
        return code


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _with_query(url: str, values: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(values)


def client_of(form: dict[str, str], authorization: str | None) -> tuple[str, str | None]:
    """(client id, secret) from HTTP Basic (RFC 6749 section 2.3.1) or from the form."""
    if authorization and authorization.startswith("Basic "):
        try:
            pair = base64.b64decode(authorization[6:]).decode("utf-8")
        except ValueError:
            return "", None
        client, _, secret = pair.partition(":")
        return unquote(client), unquote(secret)
    return form.get("client_id", ""), form.get("client_secret")
