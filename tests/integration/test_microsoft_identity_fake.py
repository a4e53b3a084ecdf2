"""The identity fake answers the real msal as Entra does: grants, refusals, device code."""

from __future__ import annotations

import msal
import pytest
import requests
import trustme

from tests.servers.fake_http import Fault
from tests.servers.microsoft_identity import GRAPH_DEFAULT_SCOPE, IdentityPlatform, Principal

CLIENT = "3f1c9e1a-5b7d-4b0e-9a53-7c2f0f4e8d11"


def session_for(identity: IdentityPlatform) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # this machine's REQUESTS_CA_BUNDLE would override verify
    session.verify = str(identity.server.ca_file)
    return session


def confidential(
    identity: IdentityPlatform, credential: object
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        CLIENT,
        client_credential=credential,
        authority=identity.authority,
        instance_discovery=False,
        http_client=session_for(identity),
    )


def test_client_secret_grant_issues_an_app_only_token(microsoft_identity: IdentityPlatform) -> None:
    microsoft_identity.register_app(CLIENT, secret="s3cr3t~value")
    result = confidential(microsoft_identity, "s3cr3t~value").acquire_token_for_client(
        [GRAPH_DEFAULT_SCOPE]
    )
    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    assert "refresh_token" not in result
    principal = microsoft_identity.principal_of("Bearer " + result["access_token"])
    assert principal == Principal(CLIENT, None, (GRAPH_DEFAULT_SCOPE,))
    assert microsoft_identity.issued == ["client_credentials"]
    discovery = microsoft_identity.server.requests(
        "GET", "/{t}/v2.0/.well-known/openid-configuration"
    )
    assert len(discovery) == 1


def test_wrong_secret_is_invalid_client_with_its_aadsts_code(
    microsoft_identity: IdentityPlatform,
) -> None:
    microsoft_identity.register_app(CLIENT, secret="right")
    result = confidential(microsoft_identity, "wrong").acquire_token_for_client(
        [GRAPH_DEFAULT_SCOPE]
    )
    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert microsoft_identity.issued == []


def test_unknown_app_and_delegated_scope_are_refused(microsoft_identity: IdentityPlatform) -> None:
    unknown = confidential(microsoft_identity, "x").acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert (unknown["error"], unknown["error_codes"]) == ("unauthorized_client", [700016])
    microsoft_identity.register_app(CLIENT, secret="right")
    scoped = confidential(microsoft_identity, "right").acquire_token_for_client(
        ["https://graph.microsoft.com/Mail.Read"]
    )
    assert (scoped["error"], scoped["error_codes"]) == ("invalid_scope", [1002012])


def _certificate() -> tuple[str, str]:
    # Entra takes RSA keys only; trustme issues ECDSA unless told.
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    cert = ca.issue_cert("autocapture-app.example", key_type=trustme.KeyType.RSA)
    return cert.private_key_pem.bytes().decode(), cert.cert_chain_pems[0].bytes().decode()


def test_certificate_assertion_ps256_is_verified_with_the_registered_key(
    microsoft_identity: IdentityPlatform,
) -> None:
    key, cert = _certificate()
    microsoft_identity.register_app(CLIENT, certificate_pem=cert.encode())
    credential = {"private_key": key, "public_certificate": cert}
    result = confidential(microsoft_identity, credential).acquire_token_for_client(
        [GRAPH_DEFAULT_SCOPE]
    )
    assert microsoft_identity.principal_of("Bearer " + result["access_token"]) is not None
    (token_call,) = microsoft_identity.server.requests("POST", "/{t}/oauth2/v2.0/token")
    assert (
        b"client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
        in token_call.body
    )
    assert b"client_secret" not in token_call.body


def test_certificate_assertion_rs256_by_sha1_thumbprint(
    microsoft_identity: IdentityPlatform,
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    key, cert = _certificate()
    microsoft_identity.register_app(CLIENT, certificate_pem=cert.encode())
    thumbprint = x509.load_pem_x509_certificate(cert.encode()).fingerprint(hashes.SHA1()).hex()
    result = confidential(
        microsoft_identity, {"private_key": key, "thumbprint": thumbprint}
    ).acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert result.get("token_type") == "Bearer", result.get("error_description")


def test_assertion_signed_by_another_key_is_refused(microsoft_identity: IdentityPlatform) -> None:
    _, registered = _certificate()
    other_key, _ = _certificate()
    microsoft_identity.register_app(CLIENT, certificate_pem=registered.encode())
    # The registered certificate's thumbprint, but another key signs: only the signature tells.
    result = confidential(
        microsoft_identity, {"private_key": other_key, "public_certificate": registered}
    ).acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert (result["error"], result["error_codes"]) == ("invalid_client", [700027])
    assert "signature validation" in result["error_description"]


def public(identity: IdentityPlatform) -> msal.PublicClientApplication:
    return msal.PublicClientApplication(
        CLIENT,
        authority=identity.authority,
        instance_discovery=False,
        http_client=session_for(identity),
    )


def test_device_code_pending_until_approved_then_tokens_and_refresh(
    microsoft_identity: IdentityPlatform,
) -> None:
    microsoft_identity.register_app(CLIENT)
    microsoft_identity.add_user("rep@contoso.example")
    app = public(microsoft_identity)
    flow = app.initiate_device_flow(scopes=["Mail.Read", "Calendars.Read"])
    assert flow["verification_uri"] == "https://microsoft.com/devicelogin"
    assert flow["message"].endswith(f"enter the code {flow['user_code']} to authenticate.")
    microsoft_identity.approve(flow["user_code"], "rep@contoso.example", after_polls=1)
    result = app.acquire_token_by_device_flow(flow)
    assert set(result["scope"].split()) == {"Mail.Read", "Calendars.Read"}
    assert result["id_token_claims"]["preferred_username"] == "rep@contoso.example"
    polls = microsoft_identity.server.requests("POST", "/{t}/oauth2/v2.0/token")
    assert len(polls) == 2  # one authorization_pending, then the tokens
    principal = microsoft_identity.principal_of("Bearer " + result["access_token"])
    assert principal is not None and principal.user == "rep@contoso.example"

    (account,) = app.get_accounts()
    microsoft_identity.expire_access_tokens()
    again = app.acquire_token_silent(
        ["Mail.Read", "Calendars.Read"], account=account, force_refresh=True
    )
    assert again is not None and again["access_token"] != result["access_token"]
    assert microsoft_identity.issued == [
        "urn:ietf:params:oauth:grant-type:device_code",
        "refresh_token",
    ]


def test_revoked_refresh_token_is_invalid_grant(microsoft_identity: IdentityPlatform) -> None:
    microsoft_identity.register_app(CLIENT)
    microsoft_identity.add_user("rep@contoso.example")
    app = public(microsoft_identity)
    flow = app.initiate_device_flow(scopes=["Mail.Read"])
    microsoft_identity.approve(flow["user_code"], "rep@contoso.example")
    first = app.acquire_token_by_device_flow(flow)
    microsoft_identity.revoke_sessions("rep@contoso.example")
    result = app.acquire_token_by_refresh_token(first["refresh_token"], ["Mail.Read"])
    assert (result["error"], result["error_codes"]) == ("invalid_grant", [50173])
    assert result["error_uri"] == "https://login.microsoftonline.com/error?code=50173"


def test_declined_sign_in_ends_the_flow(microsoft_identity: IdentityPlatform) -> None:
    microsoft_identity.register_app(CLIENT)
    app = public(microsoft_identity)
    flow = app.initiate_device_flow(scopes=["Mail.Read"])
    microsoft_identity.decline(flow["user_code"])
    result = app.acquire_token_by_device_flow(flow)
    assert result["error"] == "authorization_declined"


def test_a_dropped_token_call_surfaces_as_a_connection_error(
    microsoft_identity: IdentityPlatform,
) -> None:
    microsoft_identity.register_app(CLIENT, secret="right")
    app = confidential(microsoft_identity, "right")
    microsoft_identity.server.fail(Fault.drop(), path="/{t}/oauth2/v2.0/token")
    with pytest.raises(requests.ConnectionError):
        app.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])
    assert app.acquire_token_for_client([GRAPH_DEFAULT_SCOPE])["token_type"] == "Bearer"
