"""App-only tokens: which cloud a token is asked of, and what a refusal becomes."""

from __future__ import annotations

import requests

from connectors.base import AuthError, TransientError
from connectors.microsoft.identity import AppTokens, identity_error


def tokens(authority: str, graph_root: str) -> AppTokens:
    return AppTokens(
        "carol",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "5d0c8a3e-7f21-4b6a-9c4e-2a1b3c4d5e6f",
        lambda: "never read here",
        authority_host=authority,
        graph_root=graph_root,
        session=requests.Session(),
        announce=lambda value: None,
    )


def test_a_national_cloud_asks_its_own_authority_for_its_own_graph() -> None:
    china = tokens("https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn")
    assert china.authority == "https://login.chinacloudapi.cn/72f988bf-86f1-41af-91ab-2d7cd011db47"
    assert china.scopes == ["https://microsoftgraph.chinacloudapi.cn/.default"]
    us = tokens("https://login.microsoftonline.us", "https://graph.microsoft.us/v1.0/")
    assert us.scopes == ["https://graph.microsoft.us/.default"]
    default = tokens("https://login.microsoftonline.com", "https://graph.microsoft.com")
    assert default.scopes == ["https://graph.microsoft.com/.default"]


def test_refusals_are_auth_errors_with_the_aadsts_code_and_no_more() -> None:
    refused = identity_error(
        {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the "
            "secret being sent is the value. Trace ID: 1 Correlation ID: 2",
        },
        "account 'carol': token for Graph",
    )
    assert isinstance(refused, AuthError)
    assert str(refused) == (
        "account 'carol': token for Graph: the identity platform refused "
        "(invalid_client, AADSTS7000215)"
    )
    busy = identity_error({"error": "temporarily_unavailable"}, "token")
    assert isinstance(busy, TransientError)
    assert str(busy) == "token: the identity platform is unavailable (temporarily_unavailable)"
