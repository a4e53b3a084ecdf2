"""The Google fake's consent page and authorization-code grant refuse what Google refuses,
so the installed-app flow's tests cannot pass on a request Google would turn away."""

from __future__ import annotations

import base64
import hashlib
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.google_clients import CALENDAR_SCOPE, CLIENT_ID, GMAIL_SCOPE
from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
VERIFIER = "v" * 64
LOOPBACK = "http://127.0.0.1:8765/"


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def consent(fake: GoogleApiFake, **changes: str) -> requests.Response:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest())
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": LOOPBACK,
        "scope": f"{GMAIL_SCOPE} {CALENDAR_SCOPE}",
        "state": "s1",
        "code_challenge": challenge.decode().rstrip("="),
        "code_challenge_method": "S256",
        "access_type": "offline",
        **changes,
    }
    return session().get(f"{fake.auth_uri}?{urlencode(query)}", allow_redirects=False, timeout=10)


def redeem(fake: GoogleApiFake, code: str, **changes: str) -> tuple[int, dict[str, Any]]:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": LOOPBACK,
        "code_verifier": VERIFIER,
        "client_id": CLIENT_ID,
        "client_secret": "s3cret",
        **changes,
    }
    answer = session().post(fake.auth.token_uri, data=form, timeout=10)
    return answer.status_code, answer.json()


def code_of(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["state"] == ["s1"] and query["scope"] == [f"{GMAIL_SCOPE} {CALENDAR_SCOPE}"]
    return query["code"][0]


def test_the_consent_page_refuses_what_google_refuses(google_api: GoogleApiFake) -> None:
    google_api.auth.add_client(CLIENT_ID, "s3cret")
    google_api.auth.consent.sign_in(DANA)
    refused = {
        "unknown client": consent(google_api, client_id="other.apps.googleusercontent.com"),
        "token flow": consent(google_api, response_type="token"),
        "remote redirect": consent(google_api, redirect_uri="https://evil.example/cb"),
        "no port": consent(google_api, redirect_uri="http://127.0.0.1/"),
        "unknown scope": consent(google_api, scope=f"{GMAIL_SCOPE} https://example.com/all"),
        "bad method": consent(google_api, code_challenge_method="S512"),
    }
    assert {why: (a.status_code, a.text.splitlines()[0]) for why, a in refused.items()} == {
        "unknown client": (401, "Error 401: invalid_client"),
        "token flow": (400, "Error 400: unsupported_response_type"),
        "remote redirect": (400, "Error 400: redirect_uri_mismatch"),
        "no port": (400, "Error 400: redirect_uri_mismatch"),
        "unknown scope": (400, "Error 400: invalid_scope"),
        "bad method": (400, "Error 400: invalid_request"),
    }
    assert google_api.auth.consent.codes == {}


def test_a_code_is_redeemed_once_by_its_client_redirect_and_verifier(
    google_api: GoogleApiFake,
) -> None:
    google_api.auth.add_client(CLIENT_ID, "s3cret")
    google_api.auth.consent.sign_in(DANA)
    assert redeem(google_api, code_of(consent(google_api)), code_verifier="w" * 64) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid code verifier."},
    )
    assert redeem(google_api, code_of(consent(google_api)), redirect_uri=LOOPBACK + "x")[0] == 400
    assert redeem(google_api, code_of(consent(google_api)), client_secret="wrong") == (
        401,
        {"error": "invalid_client", "error_description": "Unauthorized"},
    )
    code = code_of(consent(google_api))
    status, token = redeem(google_api, code)
    assert (status, sorted(token)) == (
        200,
        ["access_token", "expires_in", "refresh_token", "scope", "token_type"],
    )
    assert google_api.auth.refresh_tokens[token["refresh_token"]].user == DANA
    assert redeem(google_api, code) == (
        400,
        {"error": "invalid_grant", "error_description": "Malformed auth code."},
    )
    online = code_of(consent(google_api, access_type="online"))
    assert "refresh_token" not in redeem(google_api, online)[1]  # offline access only


def test_a_refusal_and_a_browser_signed_out_never_give_a_code(google_api: GoogleApiFake) -> None:
    google_api.auth.add_client(CLIENT_ID, "s3cret")
    signed_out = consent(google_api)
    assert (signed_out.status_code, signed_out.text) == (200, "Sign in - Google Accounts\n")
    google_api.auth.consent.sign_in(DANA)
    google_api.auth.consent.refuse()
    refused = consent(google_api)
    assert refused.headers["Location"] == f"{LOOPBACK}?error=access_denied&state=s1"
    assert google_api.auth.consent.codes == {}
