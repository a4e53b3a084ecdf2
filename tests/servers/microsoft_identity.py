"""A stateful, wire-faithful fake of the Microsoft identity platform (v2.0 endpoints, one tenant).

Routes, on the HTTPS ``FakeHttpServer`` (msal refuses an ``http://`` authority):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the tenant's
  discovery document; msal reads ``token_endpoint``,
  ``authorization_endpoint``, ``device_authorization_endpoint`` and
  ``issuer`` from it (``instance_discovery=False`` skips the call to
  login.microsoftonline.com's instance metadata).
- ``POST /{tenant}/oauth2/v2.0/devicecode``: RFC 8628 device authorization;
  the answer has no ``verification_uri_complete``, as Entra's has none.
- ``POST /{tenant}/oauth2/v2.0/token`` with one of three grants:
  ``client_credentials`` (a client secret, or an RFC 7523 client assertion
  signed by the registered certificate's key, PS256 with ``x5t#S256`` or
  RS256 with ``x5t``, ``aud`` = the token endpoint, ``iss`` = ``sub`` =
  the client id), ``urn:ietf:params:oauth:grant-type:device_code``
  (``authorization_pending`` until the test approves the user code), and
  ``refresh_token``.

Errors have Entra's shape: ``error``, ``error_description`` that starts
with the AADSTS code and ends with trace and correlation ids,
``error_codes``, ``timestamp``, ``trace_id``, ``correlation_id``,
``error_uri``; invalid client credentials are 401, everything else 400.

Access tokens are opaque and random here (Entra's are JWTs, but a client
must never read them); ``principal_of`` is the bearer check the Graph fake
runs on every call.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.servers.fake_http import FakeHttpServer, Request, Response

DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"


@dataclass(frozen=True)
class Principal:
    """Who a token acts for: an app over the whole tenant, or one signed-in user."""

    client_id: str
    user: str | None  # None: app-only (application permissions)
    scopes: tuple[str, ...]


@dataclass
class App:
    client_id: str
    secret: str | None = None
    certificate: x509.Certificate | None = None


@dataclass
class DeviceCode:
    client_id: str
    user_code: str
    scopes: tuple[str, ...]
    user: str | None = None  # set when approved
    pending_polls: int = 0  # polls still answered authorization_pending after approval
    declined: bool = False


@dataclass
class IdentityPlatform:
    server: FakeHttpServer
    tenant: str = "72f988bf-86f1-41af-91ab-2d7cd011db47"
    device_interval: int = 5  # seconds between polls, as Entra answers
    apps: dict[str, App] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)  # upn -> object id
    device_codes: dict[str, DeviceCode] = field(default_factory=dict)  # device_code -> state
    refresh_tokens: dict[str, Principal] = field(default_factory=dict)
    access_tokens: dict[str, Principal] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # grant types, in order
    disabled: set[str] = field(default_factory=set)  # users blocked from signing in

    def __post_init__(self) -> None:
        base = "/{tenant}"
        self.server.route("GET", base + "/v2.0/.well-known/openid-configuration", self._discovery)
        self.server.route("POST", base + "/oauth2/v2.0/devicecode", self._devicecode)
        self.server.route("POST", base + "/oauth2/v2.0/token", self._token)

    @property
    def authority(self) -> str:
        return f"{self.server.url}/{self.tenant}"

    @property
    def token_endpoint(self) -> str:
        return f"{self.authority}/oauth2/v2.0/token"

    # ------------------------------------------------------------ test controls

    def register_app(
        self, client_id: str, secret: str | None = None, certificate_pem: bytes | None = None
    ) -> None:
        cert = x509.load_pem_x509_certificate(certificate_pem) if certificate_pem else None
        self.apps[client_id] = App(client_id, secret, cert)

    def add_user(self, upn: str) -> str:
        return self.users.setdefault(upn, str(uuid.uuid4()))

    def approve(self, user_code: str, upn: str, after_polls: int = 0) -> None:
        """The user signs in at the verification page; ``after_polls`` more polls stay pending."""
        state = self._by_user_code(user_code)
        state.user, state.pending_polls = upn, after_polls

    def decline(self, user_code: str) -> None:
        self._by_user_code(user_code).declined = True

    def disable_user(self, upn: str) -> None:
        """An admin blocks sign-in for the user: their grants are refused from now on."""
        self.disabled.add(upn)

    def revoke_sessions(self, upn: str) -> None:
        """An admin's "revoke sessions": the user's refresh tokens stop working."""
        for token, principal in list(self.refresh_tokens.items()):
            if principal.user == upn:
                del self.refresh_tokens[token]

    def expire_access_tokens(self) -> None:
        self.access_tokens.clear()

    def grant_access(self, principal: Principal) -> str:
        token = "eyJ0eXAiOiJKV1QiLCJub25jZSI6" + secrets.token_urlsafe(32)
        self.access_tokens[token] = principal
        return token

    def principal_of(self, authorization: str | None) -> Principal | None:
        """The principal a Graph call's ``Authorization`` header carries, if any is valid."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        return self.access_tokens.get(authorization[len("Bearer ") :].strip())

    def _by_user_code(self, user_code: str) -> DeviceCode:
        return next(s for s in self.device_codes.values() if s.user_code == user_code)

    # ------------------------------------------------------------ endpoints

    def _discovery(self, request: Request) -> Response:
        if request.params["tenant"] != self.tenant:
            return _error(
                400, "invalid_tenant", 90002, f"Tenant '{request.params['tenant']}' not found."
            )
        login = f"{self.authority}/oauth2/v2.0"
        return Response.json(
            {
                "token_endpoint": f"{login}/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{self.server.url}/{self.tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{self.server.url}/{self.tenant}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{self.server.url}/oidc/userinfo",
                "authorization_endpoint": f"{login}/authorize",
                "device_authorization_endpoint": f"{login}/devicecode",
                "end_session_endpoint": f"{login}/logout",
                "tenant_region_scope": "EU",
            }
        )

    def _devicecode(self, request: Request) -> Response:
        form = _form(request)
        client_id = form.get("client_id", "")
        if client_id not in self.apps:
            return _unknown_app(client_id)
        device_code = "DAQABIQEAAAD" + secrets.token_urlsafe(48)
        user_code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        self.device_codes[device_code] = DeviceCode(
            client_id, user_code, tuple(form.get("scope", "").split())
        )
        verification = "https://microsoft.com/devicelogin"
        return Response.json(
            {
                "user_code": user_code,
                "device_code": device_code,
                "verification_uri": verification,
                "expires_in": 900,
                "interval": self.device_interval,
                "message": f"To sign in, use a web browser to open the page {verification} "
                f"and enter the code {user_code} to authenticate.",
            }
        )

    def _token(self, request: Request) -> Response:
        if request.params["tenant"] != self.tenant:
            return _error(
                400, "invalid_tenant", 90002, f"Tenant '{request.params['tenant']}' not found."
            )
        form = _form(request)
        grant = form.get("grant_type", "")
        if grant == "client_credentials":
            return self._client_credentials(form)
        if grant == DEVICE_CODE_GRANT:
            return self._device_token(form)
        if grant == "refresh_token":
            return self._refresh(form)
        return _error(
            400,
            "unsupported_grant_type",
            70003,
            f"The app requested an unsupported grant type '{grant}'.",
        )

    def _client_credentials(self, form: dict[str, str]) -> Response:
        client_id = form.get("client_id", "")
        app = self.apps.get(client_id)
        if app is None:
            return _unknown_app(client_id)
        refusal = self._authenticate(app, form)
        if refusal is not None:
            return refusal
        scopes = tuple(form.get("scope", "").split())
        # This server is also the Graph of its "cloud", as graph.microsoft.us is
        # for login.microsoftonline.us: its own origin is a Graph resource too.
        if scopes not in ((GRAPH_DEFAULT_SCOPE,), (f"{self.server.url}/.default",)):
            # Application permissions are all-or-nothing: only "{resource}/.default".
            return _error(
                400,
                "invalid_scope",
                1002012,
                f"The provided value for scope {' '.join(scopes)} is not valid. Client "
                "credential flows must have a scope value with /.default suffixed to the "
                "resource identifier (application ID URI).",
            )
        return self._issue("client_credentials", Principal(client_id, None, scopes), refresh=False)

    def _authenticate(self, app: App, form: dict[str, str]) -> Response | None:
        """None when the form proves it is ``app``; Entra's 401 otherwise."""
        if "client_assertion" in form:
            if app.certificate is None or form.get("client_assertion_type") != ASSERTION_TYPE:
                return _error(
                    401, "invalid_client", 700027, "Client assertion failed signature validation."
                )
            return self._check_assertion(app, app.certificate, form["client_assertion"])
        if app.secret is None or not secrets.compare_digest(
            app.secret, form.get("client_secret", "")
        ):
            return _error(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )
        return None

    def _check_assertion(
        self, app: App, certificate: x509.Certificate, assertion: str
    ) -> Response | None:
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return _error(401, "invalid_client", 50027, "JWT token is invalid or malformed.")
        # x5t is SHA-1 by RFC 7515 section 4.1.7; msal pads its base64url, Entra accepts both.
        by_sha256 = str(header.get("x5t#S256", "")).rstrip("=")
        by_sha1 = str(header.get("x5t", "")).rstrip("=")
        if by_sha256 != _thumbprint(certificate, hashes.SHA256()) and by_sha1 != _thumbprint(
            certificate, hashes.SHA1()
        ):
            return _error(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of key "
                f"used by client: '{header.get('x5t#S256') or header.get('x5t')}']",
            )
        try:
            claims = jwt.decode(
                assertion,
                certificate.public_key(),  # type: ignore[arg-type]
                algorithms=["PS256", "RS256"],
                audience=self.token_endpoint,
                issuer=app.client_id,
                options={
                    "require": ["exp", "aud", "iss", "sub", "jti"]
                },  # RFC 7523 3: nbf optional,
            )
        except jwt.PyJWTError:
            return _error(
                401, "invalid_client", 700027, "Client assertion failed signature validation."
            )
        if claims["sub"] != app.client_id:
            return _error(
                401,
                "invalid_client",
                700021,
                "Client assertion application identifier doesn't match 'client_id' parameter.",
            )
        return None

    def _device_token(self, form: dict[str, str]) -> Response:
        state = self.device_codes.get(form.get("device_code", ""))
        if state is None or state.client_id != form.get("client_id"):
            return _error(400, "invalid_grant", 70000, "Provided grant is invalid or malformed.")
        if state.declined:
            return _error(400, "authorization_declined", 70000, "The user declined the sign-in.")
        if state.user is None or state.pending_polls > 0:
            if state.user is not None:
                state.pending_polls -= 1
            return _error(
                400,
                "authorization_pending",
                70016,
                "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
            )
        del self.device_codes[form["device_code"]]  # a device code is good for one sign-in
        principal = Principal(state.client_id, state.user, state.scopes)
        return self._issue(DEVICE_CODE_GRANT, principal, refresh="offline_access" in state.scopes)

    def _refresh(self, form: dict[str, str]) -> Response:
        principal = self.refresh_tokens.get(form.get("refresh_token", ""))
        if principal is None or principal.client_id != form.get("client_id"):
            return _error(
                400,
                "invalid_grant",
                50173,
                "The provided grant has expired due to it being revoked, a fresh auth token is "
                "needed. The user might have changed or reset their password.",
            )
        if principal.user in self.disabled:
            return _error(400, "invalid_grant", 50057, "The user account is disabled.")
        del self.refresh_tokens[form["refresh_token"]]  # Entra rotates refresh tokens
        return self._issue("refresh_token", principal, refresh=True)

    def _issue(self, grant: str, principal: Principal, refresh: bool) -> Response:
        self.issued.append(grant)
        answer: dict[str, Any] = {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": self.grant_access(principal),
        }
        if principal.user is not None:
            answer["scope"] = " ".join(
                s for s in principal.scopes if s not in ("openid", "profile", "offline_access")
            )
            answer["id_token"] = self._id_token(principal)
            answer["client_info"] = _b64({"uid": self.users[principal.user], "utid": self.tenant})
        if refresh:
            token = "0.AXEA" + secrets.token_urlsafe(64)
            self.refresh_tokens[token] = principal
            answer["refresh_token"] = token
        return Response.json(answer)

    def _id_token(self, principal: Principal) -> str:
        """An unsigned-looking JWT: msal reads its claims but never verifies the signature."""
        assert principal.user is not None
        now = int(time.time())
        claims = {
            "aud": principal.client_id,
            "iss": f"{self.server.url}/{self.tenant}/v2.0",
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": self.users[principal.user],
            "preferred_username": principal.user,
            "sub": secrets.token_urlsafe(16),
            "tid": self.tenant,
            "ver": "2.0",
        }
        return f"{_b64({'typ': 'JWT', 'alg': 'RS256'})}.{_b64(claims)}.{_b64({'sig': 0})}"


def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}


def _b64(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    return base64.urlsafe_b64encode(certificate.fingerprint(algorithm)).rstrip(b"=").decode()


def _unknown_app(client_id: str) -> Response:
    return _error(
        400,
        "unauthorized_client",
        700016,
        f"Application with identifier '{client_id}' was not found in the directory. This can "
        "happen if the application has not been installed by the administrator of the tenant.",
    )


def _error(status: int, error: str, code: int, text: str) -> Response:
    """Entra's error body: the AADSTS code leads the description, ids trail it."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    return Response.json(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {text} Trace ID: {trace} "
            f"Correlation ID: {correlation} Timestamp: {stamp}",
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}",
        },
        status,
    )


@pytest.fixture
def microsoft_identity(fake_https: FakeHttpServer) -> Iterator[IdentityPlatform]:
    """The identity platform on the loopback HTTPS fake; trust ``server.ca_file``."""
    yield IdentityPlatform(fake_https, device_interval=1)
