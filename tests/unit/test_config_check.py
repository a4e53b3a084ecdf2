"""config/: what ``autocapture config check`` prints and the status it exits with."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import (
    review,
)
from tests.config_text import checked, write


def test_check_refuses_unset_variables_except_for_disabled_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AC_TEST_TOKEN_ON", raising=False)
    monkeypatch.delenv("AC_TEST_TOKEN_OFF", raising=False)
    path = write(
        tmp_path,
        """\
        accounts:
          - name: on
            kind: caldav
            url: https://cal.example.com/
            token: ${AC_TEST_TOKEN_ON}
          - name: off
            kind: caldav
            url: https://cal.example.com/
            token: ${AC_TEST_TOKEN_OFF}
            enabled: false
        """,
    )
    assert checked(path) == (
        2,
        [
            f"{path}:5 accounts[0].token: ${{AC_TEST_TOKEN_ON}} is unavailable: "
            "the environment variable is not set",
            f"1 problem in {path}",
        ],
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ": warning: no accounts: nothing would be captured"),
        ("# every key commented out\n", ": warning: no accounts: nothing would be captured"),
        ("workers: 2\naccounts:\n", ":2 accounts: warning: no accounts: nothing would be captured"),
        (
            "accounts:\n  - {name: a, kind: caldav, url: 'https://c.example/', enabled: false}\n",
            ":1 accounts: warning: every account is disabled: nothing would be captured",
        ),
    ],
    ids=["empty", "comments", "null-accounts", "all-disabled"],
)
def test_check_warns_when_nothing_would_be_captured(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = write(tmp_path, text)
    accounts = "1 account" if "enabled" in text else "0 accounts"
    assert checked(path) == (0, [f"{path}{expected}", f"{path}: OK, {accounts}"])


def test_check_counts_a_single_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "workers: many\n")
    assert checked(path) == (
        2,
        [f'{path}:1 workers: expected a valid integer, got "many"', f"1 problem in {path}"],
    )


def test_weak_transport_is_a_warning(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        accounts:
          - name: lab
            kind: imap
            owner: ann@example.com
            host: 127.0.0.1
            tls: none
            allow_plaintext: true
            verify_tls: false
            oauth_token: file:/nonexistent/token
        """,
    )
    result = review(path)
    assert [str(p) for p in result.problems] == [
        f"{path}:9 accounts[0].oauth_token: file:/nonexistent/token is unavailable: "
        "No such file or directory",
    ]
    assert [str(w) for w in result.warnings] == [
        f"{path}:8 accounts[0].verify_tls: warning: server certificates are not checked",
        f"{path}:6 accounts[0].tls: warning: the password crosses the network in clear text",
    ]


def test_a_token_key_file_others_can_read_is_a_warning(tmp_path: Path) -> None:
    key = tmp_path / "token.key"
    key.write_text("q3kL0bWm9vT2yXcA1f8hJ6uR4sD7gE5nP0oI2wZxC8Y=\n")
    key.chmod(0o644)
    path = write(tmp_path, f"token_key: file:{key}\naccounts:\n")
    idle = f"{path}:2 accounts: warning: no accounts: nothing would be captured"
    assert checked(path) == (
        0,
        [
            idle,
            f"{path}:1 token_key: warning: file:{key} is readable by other users; chmod 600 it",
            f"{path}: OK, 0 accounts",
        ],
    )
    key.chmod(0o600)
    assert checked(path) == (0, [idle, f"{path}: OK, 0 accounts"])
