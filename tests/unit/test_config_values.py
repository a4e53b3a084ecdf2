"""config/: durations and secret references, as an admin writes them."""

from __future__ import annotations

import os
import pickle
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from config import (
    ConfigError,
    ImapAccount,
    Problem,
    Secret,
    SecretUnavailable,
    Settings,
    load_text,
    parse_duration,
    review,
)
from tests.config_text import archive_with, checked, imap_with_password, problems_of, write

# --- durations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("5m", timedelta(minutes=5)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("365d", timedelta(days=365)),
        ("2w", timedelta(weeks=2)),
        ("1w2d3h4m5s", timedelta(weeks=1, days=2, hours=3, minutes=4, seconds=5)),
        (" 10m ", timedelta(minutes=10)),
        ("300", timedelta(seconds=300)),
        (300, timedelta(seconds=300)),
        ("0d", timedelta(0)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("often", '"often"'),
        ("5 minutes", '"5 minutes"'),
        ("5m1h", '"5m1h"'),
        ("", '""'),
        ("1.5h", '"1.5h"'),
        (True, "True"),
        (2.5, "2.5"),
        ("x" * 100, '"' + "x" * 38 + "…"),
        ("²", '"²"'),
        ("٣m", '"٣m"'),
    ],
)
def test_bad_durations_say_what_was_expected(value: object, shown: str) -> None:
    text = yaml.safe_dump(value).removesuffix(chr(10)).removesuffix("...").strip()
    found = problems_of(archive_with(f"poll_interval: {text}"))
    assert found == [
        (6, "accounts[0].poll_interval", f'expected a duration like "5m", got {shown}')
    ]


@pytest.mark.parametrize(
    "value",
    ["99999999d", "36501d", "5215w", "876001h", "3153600001", "3153600001s", "99999999999999999w"],
)
def test_durations_past_a_century_are_out_of_range(value: str) -> None:
    got = value if value.isdigit() else f'"{value}"'  # digits alone are a YAML integer
    assert problems_of(archive_with(f"backfill: {value}")) == [
        (6, "accounts[0].backfill", f"expected a duration of at most 36500d (100 years), got {got}")
    ]


def test_a_backfill_may_be_all_and_says_so_when_it_is_neither() -> None:
    assert load_text(archive_with("backfill: all")).accounts[0].backfill == timedelta(days=36500)
    assert load_text(archive_with("backfill: ALL ")).accounts[0].backfill == timedelta(days=36500)
    assert problems_of(archive_with("backfill: forever")) == [
        (6, "accounts[0].backfill", 'expected a duration like "365d", or "all", got "forever"')
    ]
    # "all" is a backfill's word only: a poll interval of "all" means nothing.
    assert problems_of(archive_with("poll_interval: all")) == [
        (6, "accounts[0].poll_interval", 'expected a duration like "5m", got "all"')
    ]


def test_a_century_is_the_longest_duration() -> None:
    assert parse_duration("36500d") == timedelta(days=36500)
    assert parse_duration("5214w2d") == timedelta(days=36500)
    assert parse_duration(36500 * 86400) == timedelta(days=36500)


def test_poll_interval_and_timeout_must_be_positive() -> None:
    assert problems_of(
        """\
        accounts:
          - name: a
            kind: caldav
            url: https://cal.example.com/
            poll_interval: 0s
            timeout: 0
            lookahead: 0d
        """
    ) == [
        (5, "accounts[0].poll_interval", 'expected a duration of more than zero, got "0s"'),
        (6, "accounts[0].timeout", "expected a duration of more than zero, got 0"),
    ]


def test_inline_secret_is_rejected_without_quoting_it() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(textwrap.dedent(imap_with_password("correct-horse-battery")))
    assert [(p.line, p.path, p.message) for p in caught.value.problems] == [
        (6, "accounts[0].password", "write secrets as ${ENV_VAR} or file:/path, never inline")
    ]
    assert "correct-horse" not in str(caught.value)
    assert "correct-horse" not in repr(caught.value.problems)


def test_relative_file_secret_is_rejected() -> None:
    assert problems_of(imap_with_password("file:secrets/imap")) == [
        (
            6,
            "accounts[0].password",
            "file secrets need an absolute path: file:/path or file:~/path",
        )
    ]


def test_env_secret_resolves_at_the_time_of_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AC_TEST_IMAP_PASSWORD", raising=False)
    settings = load_text(textwrap.dedent(imap_with_password("${AC_TEST_IMAP_PASSWORD}")))
    account = settings.accounts[0]
    assert isinstance(account, ImapAccount)
    assert account.password == Secret("env", "AC_TEST_IMAP_PASSWORD")

    with pytest.raises(SecretUnavailable) as caught:
        account.password.resolve()
    assert str(caught.value) == (
        "secret ${AC_TEST_IMAP_PASSWORD} is unavailable: the environment variable is not set"
    )

    monkeypatch.setenv("AC_TEST_IMAP_PASSWORD", "s3cr3t-value")
    assert account.password.resolve() == "s3cr3t-value"
    for shown in (repr(account), str(account), repr(settings), settings.model_dump_json()):
        assert "s3cr3t-value" not in shown
        assert "${AC_TEST_IMAP_PASSWORD}" in shown


def test_file_secret_resolves_and_warns_when_others_can_read_it(tmp_path: Path) -> None:
    secret_file = tmp_path / "imap-password"
    secret_file.write_text("from-a-file\n")
    secret_file.chmod(0o644)
    path = write(tmp_path, imap_with_password(f"file:{secret_file}"))

    result = review(path)

    assert result.problems == ()
    assert result.warnings == (
        Problem(
            str(path),
            6,
            "accounts[0].password",
            f"file:{secret_file} is readable by other users; chmod 600 it",
            "warning",
        ),
    )
    assert result.settings is not None
    account = result.settings.accounts[0]
    assert isinstance(account, ImapAccount) and account.password is not None
    assert account.password.resolve() == "from-a-file"

    secret_file.chmod(0o600)
    assert review(path).warnings == ()
    assert checked(path) == (0, [f"{path}: OK, 1 account"])


def test_unavailable_file_secret(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(
        SecretUnavailable, match=r"^secret file:.*/empty is unavailable: the file is empty$"
    ):
        Secret.parse(f"file:{empty}").resolve()
    with pytest.raises(SecretUnavailable) as caught:
        Secret.parse(f"file:{tmp_path}/absent").resolve()
    assert caught.value.reference == f"file:{tmp_path}/absent"
    assert caught.value.reason == "No such file or directory"


def test_a_fifo_secret_fails_at_once_instead_of_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    secret = Secret.parse(f"file:{fifo}")
    with pytest.raises(SecretUnavailable) as caught:
        secret.resolve()
    assert caught.value.reason == "not a regular file"
    assert secret.exposure() is None


def test_a_directory_secret_is_unavailable_not_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(SecretUnavailable) as caught:
        Secret.parse(f"file:{tmp_path}").resolve()
    assert (
        str(caught.value) == f"secret file:{tmp_path} is unavailable: it is a directory, not a file"
    )


def test_check_secrets_names_the_key_that_cannot_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AC_TEST_CLIENT_SECRET", "cs-0123")
    monkeypatch.delenv("AC_TEST_REFRESH", raising=False)
    account = load_text(
        textwrap.dedent(
            """\
        accounts:
          - name: ann
            kind: gmail
            owner: ann@example.com
            client_id: app.apps.googleusercontent.com
            client_secret: ${AC_TEST_CLIENT_SECRET}
            refresh_token: ${AC_TEST_REFRESH}
        """
        )
    ).accounts[0]
    assert [(key, str(secret)) for key, secret in account.secrets().items()] == [
        ("client_secret", "${AC_TEST_CLIENT_SECRET}"),
        ("refresh_token", "${AC_TEST_REFRESH}"),
    ]
    with pytest.raises(SecretUnavailable) as caught:
        account.check_secrets()
    assert str(caught.value) == (
        "refresh_token ${AC_TEST_REFRESH} is unavailable: the environment variable is not set"
    )
    assert pickle.loads(pickle.dumps(caught.value)).args == caught.value.args
    monkeypatch.setenv("AC_TEST_REFRESH", "1//0g-refresh")
    account.check_secrets()


def test_empty_keys_mean_the_default() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            org_domains:
            creation:
            blocklist:
              domains:
            accounts:
            """
        )
    )
    assert settings == Settings()
    account = load_text(imap_with_password("${P}") + "    folders:\n").accounts[0]
    assert isinstance(account, ImapAccount)
    assert account.folders is None  # None keeps its meaning: INBOX and \\Sent
    assert problems_of(imap_with_password("${P}").replace("owner: ann@example.com", "owner:")) == [
        (4, "accounts[0].owner", "expected at least 1 item")
    ]


def test_home_in_file_secret_is_expanded() -> None:
    assert Secret.parse("file:~/token") == Secret("file", os.path.expanduser("~/token"))


def test_imap_takes_exactly_one_credential() -> None:
    base = textwrap.dedent(
        """\
        accounts:
          - name: ann
            kind: imap
            owner: ann@example.com
            host: imap.example.com
        """
    )
    assert problems_of(base) == [
        (2, "accounts[0].password", "give password or oauth_token, one of them is required")
    ]
    both = base + "    password: ${P}\n    oauth_token: ${T}\n"
    assert problems_of(both) == [
        (6, "accounts[0].password", "give password or oauth_token, not both")
    ]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://app:Pa55word@db.example.com/crm",
        "postgresql+psycopg://app@db.example.com/crm?sslmode=require&password=Pa55word",
    ],
)
def test_database_password_is_never_inline_nor_echoed(url: str) -> None:
    found = problems_of(f"database_url: {url}\n")
    assert found == [
        (
            1,
            "database_url",
            "no password in database_url: PostgreSQL reads it from PGPASSWORD or ~/.pgpass",
        )
    ]


def test_the_token_key_is_a_secret_reference_never_inline() -> None:
    assert load_text("token_key: ${AUTOCAPTURE_TOKEN_KEY}\n").token_key == Secret(
        "env", "AUTOCAPTURE_TOKEN_KEY"
    )
    assert problems_of("token_key: q3kL0bWm9vT2yXcA1f8hJ6uR4sD7gE5nP0oI2wZxC8Y=\n") == [
        (1, "token_key", "write secrets as ${ENV_VAR} or file:/path, never inline")
    ]
