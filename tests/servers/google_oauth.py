"""The OAuth side of the Google fake: the token endpoint and the bearer check on API calls.

Three grants, as Google's token endpoint answers them (RFC 6749 / RFC 7523):

- ``authorization_code``: the installed-app flow's second leg, with PKCE
  (``tests.servers.google_consent``, which also serves the consent page);

- ``refresh_token``: the client must be registered (else 401
  ``invalid_client``); a revoked or unknown refresh token is 400
  ``invalid_grant`` "Token has been expired or revoked." (google-auth turns
  that into ``RefreshError``).
- ``urn:ietf:params:oauth:grant-type:jwt-bearer``: a service account's
  RS256 assertion, verified with the account's public key (google-auth's
  own verifier) for signature, ``aud`` = Google's token endpoint (google-auth
  names it whatever ``token_uri`` is), ``iss`` = the account and a ``scope``;
  ``sub`` (domain-wide delegation) must be a user the account was granted
  and every scope one its client ID was granted, else 401
  ``unauthorized_client``.

Access tokens are random and checked on every API call: missing is 401
"Login Required", unknown or expired is 401 "Invalid Credentials"
(``revoke_access_tokens`` expires them all, so a test can make the client
refresh).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from tests.servers.google_consent import ConsentScreen, client_of
from tests.servers.google_discovery import ApiError

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"


@dataclass(frozen=True)
class Grant:
    user: str  # whose mailbox and calendars the token opens
    scopes: tuple[str, ...]


@dataclass
class TokenAuthority:
    token_uri: str
    clients: dict[str, str] = field(default_factory=dict)  # client_id -> secret
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)
    service_accounts: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    delegated_scopes: dict[str, frozenset[str]] = field(default_factory=dict)
    assertions: list[dict[str, Any]] = field(default_factory=list)  # verified JWT claims
    # Users whose access tokens the API refuses though the token endpoint still
    # mints them: consent revoked between a refresh and the call that uses it.
    refused_users: set[str] = field(default_factory=set)
    access_tokens: dict[str, Grant] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # grant types, in order
    consent: ConsentScreen = field(init=False)

    def __post_init__(self) -> None:
        self.consent = ConsentScreen(self.clients)

    def add_client(self, client_id: str, secret: str) -> None:
        self.clients[client_id] = secret

    def add_refresh_token(self, user: str, scopes: tuple[str, ...] = ()) -> str:
        token = "1//0g" + secrets.token_urlsafe(24)
        self.refresh_tokens[token] = Grant(user, scopes)
        return token

    def revoke(self, refresh_token: str) -> None:
        self.refresh_tokens.pop(refresh_token, None)

    def add_service_account(
        self,
        email: str,
        public_key_pem: str,
        users: set[str],
        scopes: tuple[str, ...] = (GMAIL_READONLY, CALENDAR_READONLY),
    ) -> None:
        """An account allowed to act for ``users`` with ``scopes`` (the Admin console's
        domain-wide delegation entry for its client ID)."""
        self.service_accounts[email] = (public_key_pem, frozenset(users))
        self.delegated_scopes[email] = frozenset(scopes)

    def grant_access(self, user: str, scopes: tuple[str, ...] = ()) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = Grant(user, scopes)
        return token

    def revoke_access_tokens(self) -> None:
        self.access_tokens.clear()

    # ------------------------------------------------------------ the endpoint

    def token(self, body: bytes, authorization: str | None = None) -> tuple[int, dict[str, Any]]:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        kind = form.get("grant_type", "")
        if kind == "authorization_code":
            return self._redeem(form, authorization)
        if kind == "refresh_token":
            return self._refresh(form)
        if kind == JWT_BEARER:
            return self._assertion(form.get("assertion", ""))
        return 400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}

    def _issue(self, kind: str, grant: Grant) -> dict[str, Any]:
        self.issued.append(kind)
        answer: dict[str, Any] = {
            "access_token": self.grant_access(grant.user, grant.scopes),
            "expires_in": 3599,
            "token_type": "Bearer",
        }
        if grant.scopes:
            answer["scope"] = " ".join(grant.scopes)
        return answer

    def _redeem(
        self, form: dict[str, str], authorization: str | None
    ) -> tuple[int, dict[str, Any]]:
        client, secret = client_of(form, authorization)
        if client not in self.clients or self.clients[client] != secret:
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        code = self.consent.exchange(form, client)
        if isinstance(code, tuple):
            return code
        grant = Grant(code.user, code.scopes)
        answer = self._issue("authorization_code", grant)
        if code.offline:
            token = "1//0g" + secrets.token_urlsafe(24)
            self.refresh_tokens[token] = grant
            answer["refresh_token"] = token
        return 200, answer

    def _refresh(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        client = form.get("client_id", "")
        if client not in self.clients or self.clients[client] != form.get("client_secret"):
            return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
        grant = self.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None:
            return 400, {
                "error": "invalid_grant",
                "error_description": "Token has been expired or revoked.",
            }
        return 200, self._issue("refresh_token", grant)

    def _assertion(self, assertion: str) -> tuple[int, dict[str, Any]]:
        try:
            # google-auth leaves jwt.decode unannotated (as the ignores in connectors/google).
            unverified = jwt.decode(assertion, verify=False)  # type: ignore[no-untyped-call]
        except (ValueError, auth_exceptions.GoogleAuthError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT."}
        account = self.service_accounts.get(str(unverified.get("iss")))
        if account is None:
            return 401, {"error": "invalid_client", "error_description": "Invalid client"}
        key, users = account
        try:
            claims = jwt.decode(  # type: ignore[no-untyped-call]
                assertion, certs=key, audience=[GOOGLE_TOKEN_AUDIENCE, self.token_uri]
            )
        except (ValueError, auth_exceptions.GoogleAuthError):
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        self.assertions.append(dict(claims))
        scopes = tuple(str(claims.get("scope", "")).split())
        subject = claims.get("sub")
        allowed = self.delegated_scopes.get(str(claims.get("iss")), frozenset())
        if not scopes or subject not in users or not set(scopes) <= allowed:
            return 401, {
                "error": "unauthorized_client",
                "error_description": "Client is unauthorized to retrieve access tokens using "
                "this method, or client not authorized for any of the scopes requested.",
            }
        return 200, self._issue(JWT_BEARER, Grant(str(subject), scopes))

    # ------------------------------------------------------------ bearer check

    def user_of(self, authorization: str | None) -> str:
        """The user an API call acts for; raises the API's 401 otherwise."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
                "required",
                location="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        grant = self.access_tokens.get(authorization[len("Bearer ") :].strip())
        if grant is None or grant.user in self.refused_users:
            raise ApiError(
                401,
                "Invalid Credentials",
                "authError",
                location="Authorization",
                headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
            )
        return grant.user
