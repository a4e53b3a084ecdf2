"""Secrets never reach a log line or a stored error message (docs/ARCHITECTURE.md, invariant 5)."""

from __future__ import annotations

import logging

import pytest

from agent.redact import RedactingFilter, redact, register_secret


def test_registered_secret_is_masked_everywhere_in_a_message() -> None:
    register_secret("hunter2-imap-pass")
    text = "LOGIN alice hunter2-imap-pass failed; retry with hunter2-imap-pass"
    assert redact(text) == "LOGIN alice *** failed; retry with ***"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Authorization: Bearer ya29.a0AfH6SMBx", "Authorization: Bearer ***"),
        ('{"access_token": "eyJ0eXAi.abc", "x": 1}', '{"access_token": "***", "x": 1}'),
        ("refresh_token=1//0gXyz&client_id=5", "refresh_token=***&client_id=5"),
        ("https://alice:s3cr3t@dav.example.org/cal/", "https://alice:***@dav.example.org/cal/"),
        ("password: letmein", "password: ***"),
        ("PASSWORD = letmein", "PASSWORD = ***"),
        ("db_password=letmein", "db_password=***"),
        ("{'password': 'letmein'}", "{'password': '***'}"),
        (
            "POST /token grant_type=refresh_token&refresh_token=1//0gX",
            "POST /token grant_type=refresh_token&refresh_token=***",
        ),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_credentials_that_were_never_registered_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # An IMAP refusal, as stored in the account's status.
        "IMAP server mail.example.com refused the credentials of 'ann@example.com' "
        "(account 'ann'); update the password or re-authorize",
        # Config problems name keys, never their values.
        "/etc/autocapture.yaml:7 accounts[0].refresh_token: missing required key",
        "/etc/autocapture.yaml:9 accounts[1].password: write secrets as ${ENV_VAR} or "
        "file:/path, never inline",
        "give password or oauth_token, not both",
        "a password needs a username",
        "the access_token expired; refreshing it",
        "grant_type=refresh_token",
    ],
)
def test_plain_words_near_secret_keys_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_log_records_and_their_tracebacks_pass_through_the_filter(
    caplog: pytest.LogCaptureFixture,
) -> None:
    register_secret("tok-0123456789")
    logger = logging.getLogger("autocapture.test.redact")
    logger.addFilter(RedactingFilter())
    try:
        with caplog.at_level(logging.INFO, logger="autocapture.test.redact"):
            try:
                raise RuntimeError("server said: bad token tok-0123456789")
            except RuntimeError:
                logger.exception("fetch for %s failed", "tok-0123456789")
    finally:
        logger.filters.clear()
    [record] = caplog.records
    assert "tok-0123456789" not in record.getMessage()
    assert record.getMessage().startswith("fetch for *** failed\nTraceback")
    assert "bad token ***" in record.getMessage()
