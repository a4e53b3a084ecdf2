"""The connector error tree: one base the agent catches, and every error survives the
pickle round trip that hands it over from the read-ahead process."""

from __future__ import annotations

import pickle

import pytest

from connectors.base import (
    AuthError,
    ConfigurationError,
    ConnectorError,
    CursorExpired,
    PermissionDenied,
    ResponseTooLarge,
    TransientError,
    UnexpectedStatus,
)

ERRORS = [
    TransientError("GET https://h/x: HTTP 503", retry_after=7.0),
    AuthError("GET https://h/x: credentials refused (HTTP 401)"),
    CursorExpired("INBOX", "UIDVALIDITY changed"),
    ConfigurationError("account 'a': redirect refused"),
    PermissionDenied("REPORT https://h/cal/: access forbidden (HTTP 403)"),
    ResponseTooLarge("REPORT https://h/cal/", 1024),
    UnexpectedStatus("PROPFIND https://h/", 400),
]


@pytest.mark.parametrize("error", ERRORS, ids=lambda e: type(e).__name__)
def test_every_connector_error_is_caught_by_the_base_and_pickles(error: ConnectorError) -> None:
    assert isinstance(error, ConnectorError)
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    assert vars(back) == vars(error)
