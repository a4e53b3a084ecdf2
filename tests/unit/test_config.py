"""config/: YAML -> frozen Settings, every problem at once with file:line and key path."""

from __future__ import annotations

import io
import os
import pickle
import textwrap
from datetime import timedelta
from pathlib import Path

import platformdirs
import pytest
import yaml
from pydantic import ValidationError

from agent.policy import account_policy
from config import (
    ArchiveAccount,
    CaldavAccount,
    ConfigError,
    CreationSettings,
    GmailAccount,
    ImapAccount,
    MicrosoftAccount,
    Problem,
    Secret,
    SecretUnavailable,
    Settings,
    check,
    load,
    load_text,
    parse_duration,
    review,
    run_check,
)
from config.settings import AccountBase
from matcher.plan import AccountPolicy
from tests.watchdog import terminates

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "example.yaml"


def problems_of(text: str, filename: str = "autocapture.yaml") -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_text(textwrap.dedent(text), filename)
    assert all(p.file == filename for p in caught.value.problems)
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def checked(path: Path) -> tuple[int, list[str]]:
    """What `autocapture config check` prints for ``path``, and its exit status."""
    out = io.StringIO()
    status = run_check(path, out)
    return status, out.getvalue().splitlines()


def write(folder: Path, text: str, name: str = "autocapture.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


# --- the acceptance case -------------------------------------------------------------------

THREE_MISTAKES = """\
    database_url: sqlite:///{db}
    workers: 100
    accounts:
      - name: ann
        kind: imap
        owner: ann@example.com
        host: imap.example.com
        password: ${{IMAP_PASSWORD}}
        poll_interval: often
      - name: archive
        kind: archive
        owner: ann@example.com
        paths: [mail.mbox]
        privacy: everything
"""


def test_three_mistakes_are_reported_with_lines_and_exit_2_without_touching_the_database(
    tmp_path: Path,
) -> None:
    db = tmp_path / "data" / "autocapture.db"
    path = write(tmp_path, THREE_MISTAKES.format(db=db))
    assert checked(path) == (
        2,
        [
            f"{path}:2 workers: expected a number less than or equal to 64, got 100",
            f'{path}:9 accounts[0].poll_interval: expected a duration like "5m", got "often"',
            f"{path}:14 accounts[1].privacy: expected 'metadata', 'subject' or 'full', got \"everything\"",
            f"3 problems in {path}",
        ],
    )
    assert check(path) == [
        Problem(str(path), 2, "workers", "expected a number less than or equal to 64, got 100"),
        Problem(
            str(path), 9, "accounts[0].poll_interval", 'expected a duration like "5m", got "often"'
        ),
        Problem(
            str(path),
            14,
            "accounts[1].privacy",
            "expected 'metadata', 'subject' or 'full', got \"everything\"",
        ),
    ]
    assert not db.parent.exists()


def test_config_error_lists_every_problem_one_per_line(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_MISTAKES.format(db=tmp_path / "x.db"))
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert [p.line for p in caught.value.problems] == [2, 9, 14]


# --- many problems at once -------------------------------------------------------------------


def test_top_level_and_per_account_problems_come_out_together() -> None:
    found = problems_of(
        """\
        org_domains: [example.com, "not a domain"]
        log_level: loud
        creation:
          person: sometimes
        accounts:
          - name: ann
            kind: imap
            owner: [ann@example.com, nobody]
            host: imap.example.com
            tls: none
            password: ${IMAP_PASSWORD}
            backfill: -1
          - name: "bad name!"
            kind: caldav
            url: http://cal.example.com/
            password: ${CALDAV_PASSWORD}
          - name: g
            kind: gmail
            owner: g@example.com
            client_id: abc
            refresh_token: ${TOKEN}
        """
    )
    assert found == [
        (1, "org_domains[1]", 'expected a domain like "example.com", got "not a domain"'),
        (
            2,
            "log_level",
            "expected 'DEBUG', 'INFO', 'WARNING', 'ERROR' or 'CRITICAL', got \"LOUD\"",
        ),
        (
            4,
            "creation.person",
            "expected 'never', 'on_sent', 'on_exchange' or 'always', got \"sometimes\"",
        ),
        (
            8,
            "accounts[0].owner[1]",
            'expected an email address like "ann@example.com", got "nobody"',
        ),
        (
            10,
            "accounts[0].tls",
            "tls: none sends the password in clear text; set allow_plaintext: true to accept that",
        ),
        (12, "accounts[0].backfill", "expected a duration of zero or more, got -1"),
        (
            13,
            "accounts[1].name",
            'expected a name of letters, digits and - _ . @ (at most 64), got "bad name!"',
        ),
        (
            15,
            "accounts[1].url",
            "plain http:// is allowed only to 127.0.0.1 or localhost; use https://",
        ),
        (16, "accounts[1].password", "a password needs a username"),
        (17, "accounts[2].client_secret", "missing required key"),
    ]


def test_unknown_keys_are_errors_at_their_own_line_and_never_quote_the_value() -> None:
    text = """\
        workers: 2
        worker_count: 3
        creation:
          persons: always
        accounts:
          - name: ann
            kind: imap
            owner: ann@example.com
            host: imap.example.com
            password: ${IMAP_PASSWORD}
            pasword: hunter2-secret
        """
    assert problems_of(text) == [
        (2, "worker_count", "unknown key"),
        (4, "creation.persons", 'unknown key (did you mean "person"?)'),
        (11, "accounts[0].pasword", 'unknown key (did you mean "password"?)'),
    ]
    with pytest.raises(ConfigError) as caught:
        load_text(textwrap.dedent(text))
    assert "hunter2" not in str(caught.value)


def test_a_missing_key_points_at_the_mapping_that_should_hold_it() -> None:
    assert problems_of(
        """\
        accounts:
          - name: ann
            kind: imap
            owner: ann@example.com
            password: ${IMAP_PASSWORD}
          - name: box
            kind: archive
        """
    ) == [
        (2, "accounts[0].host", "missing required key"),
        (6, "accounts[1].owner", "missing required key"),
        (6, "accounts[1].paths", "missing required key"),
    ]


def test_account_kind_mistakes_point_at_kind() -> None:
    assert problems_of(
        """\
        accounts:
          - name: a
            kind: exchange
          - name: b
          - just text
        """
    ) == [
        (
            3,
            "accounts[0].kind",
            'unknown account kind "exchange"; expected one of archive, '
            "imap, gmail, microsoft, caldav",
        ),
        (
            4,
            "accounts[1].kind",
            "missing required key (one of archive, imap, gmail, microsoft, caldav)",
        ),
        (5, "accounts[2]", 'expected a mapping (key: value), got "just text"'),
    ]


def test_duplicate_account_names_are_reported_with_the_other_problems() -> None:
    assert problems_of(
        """\
        workers: 0
        accounts:
          - name: ann
            kind: archive
            owner: ann@example.com
            paths: a.mbox
          - name: ann
            kind: archive
            owner: ann@example.com
            paths: b.mbox
            batch_size: 0
          - name: ann
            kind: caldav
            url: https://cal.example.com/
        """
    ) == [
        (1, "workers", "expected a number greater than or equal to 1, got 0"),
        (7, "accounts[1].name", 'account name "ann" is already used by accounts[0]'),
        (11, "accounts[1].batch_size", "expected a number greater than or equal to 1, got 0"),
        (12, "accounts[2].name", 'account name "ann" is already used by accounts[0]'),
    ]


def test_duplicate_yaml_keys_are_reported_not_silently_overwritten() -> None:
    assert problems_of(
        """\
        workers: 2
        log_level: INFO
        workers: 3
        """
    ) == [(3, "workers", "duplicate key (first on line 1)")]


def test_yaml_syntax_error_is_one_problem_with_its_line() -> None:
    assert problems_of(
        """\
        workers: 2
        accounts:
          - name: [unclosed
        log_level: INFO
        """
    ) == [(4, "", "YAML syntax: did not find expected ',' or ']'")]


TABS = "tabs are not allowed for indentation; indent with spaces"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # libyaml: "found character that cannot start any token"
        ("workers: 2\naccounts:\n\t- name: a\n\t  kind: archive\n", 3),
        # libyaml: "found a tab character that violates indentation"
        ("workers: 2\ncreation:\n  person: never\n\trole: never\n", 4),
        ("creation:\n  person: never\n \t role: never\n", 3),
    ],
)
def test_tab_indentation_is_named(text: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "autocapture.yaml")
    assert [str(p) for p in caught.value.problems] == [f"autocapture.yaml:{line}: {TABS}"]


def test_a_tab_after_a_key_is_not_indentation() -> None:
    assert load_text("workers:\t3\n").workers == 3


def test_unsafe_yaml_tags_are_refused() -> None:
    found = problems_of("workers: !!python/object/apply:os.system ['true']\n")
    assert len(found) == 1
    assert found[0][:2] == (1, "")
    assert "could not determine a constructor" in found[0][2]


TOO_LARGE = (0, "", "the document is too large (more than 50000 values or 64 levels)")


def test_alias_bomb_is_one_problem_fast() -> None:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    with terminates():
        assert problems_of("\n".join(lines) + "\n") == [TOO_LARGE]


def test_recursive_anchor_is_one_problem() -> None:
    assert problems_of("org_domains: &loop [*loop]\n") == [TOO_LARGE]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # libyaml caps flow nesting itself; PyYAML's composer, capped here, would recurse.
        (
            "org_domains: " + "[" * 50_000 + "]" * 50_000 + "\n",
            (1, "", "YAML syntax: exceeded maximum nesting depth"),
        ),
        ("".join(" " * depth + "k:\n" for depth in range(2_000)), TOO_LARGE),
        ("".join(f"key{n}: {n}\n" for n in range(30_000)), TOO_LARGE),
    ],
    ids=["deep-flow", "deep-block", "too-many-keys"],
)
def test_hostile_nesting_and_size_end_as_one_problem(
    text: str, problem: tuple[int, str, str]
) -> None:
    with terminates():
        assert problems_of(text) == [problem]


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\ud800"], ids=["nul", "escape", "surrogate"])
def test_forbidden_characters_are_one_problem_with_their_line(bad: str) -> None:
    assert problems_of(f"workers: 2\nlog_level: IN{bad}FO\n") == [
        (2, "", "YAML syntax: the file contains characters YAML does not allow")
    ]


def test_plain_scalars_follow_yaml_1_2_so_text_stays_text() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            phone_region: NO
            accounts:
              - name: on
                kind: caldav
                url: https://cal.example.com/
                enabled: false
            """
        )
    )
    assert (settings.phone_region, settings.accounts[0].name) == ("NO", "on")
    assert settings.accounts[0].enabled is False
    assert problems_of(
        """\
        accounts:
          - name: yes
            kind: imap
            owner: ann@example.com
            host: imap.example.com
            password: ${P}
            enabled: yes
            poll_interval: 1:30
            port: 0993
        """
    ) == [
        (7, "accounts[0].enabled", 'expected a valid boolean, got "yes"'),
        (8, "accounts[0].poll_interval", 'expected a duration like "5m", got "1:30"'),
        (9, "accounts[0].port", 'expected a valid integer, got "0993"'),
    ]


def test_a_document_that_is_not_a_mapping() -> None:
    assert problems_of("- workers\n- 4\n") == [
        (1, "", "expected a mapping of settings (key: value)")
    ]


def test_unreadable_and_oversized_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert check(missing) == [
        Problem(str(missing), 0, "", "cannot read the file: No such file or directory")
    ]
    huge = tmp_path / "huge.yaml"
    huge.write_text("# " + "x" * (1024 * 1024) + "\n")
    assert check(huge) == [Problem(str(huge), 0, "", "the file is larger than 1 MiB")]
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"workers: 2\nlog_level: \xff\n")
    assert check(binary) == [Problem(str(binary), 2, "", "the file is not UTF-8 text")]


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


def archive_with(line: str) -> str:
    """One archive account with ``line`` as its sixth line."""
    return f"""\
        accounts:
          - name: a
            kind: archive
            owner: a@example.com
            paths: a.mbox
            {line}
        """


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


# --- secrets -----------------------------------------------------------------------------------


def imap_with_password(value: str) -> str:
    return textwrap.dedent(
        f"""\
        accounts:
          - name: ann
            kind: imap
            owner: ann@example.com
            host: imap.example.com
            password: {value}
        """
    )


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


# --- defaults and normalization ----------------------------------------------------------------


def test_defaults() -> None:
    settings = load_text("")
    expected_db = Path(platformdirs.user_data_dir("autocapture")) / "autocapture.db"
    assert settings.database_url == f"sqlite:///{expected_db}"
    assert settings.org_domains == ()
    assert settings.workers == 4
    assert settings.phone_region is None
    assert settings.log_level == "INFO"
    assert settings.accounts == ()
    assert settings.blocklist.addresses == () and settings.blocklist.domains == ()
    # The creation defaults agree with the matcher's own defaults.
    assert settings.creation.by_class() == dict(AccountPolicy("a", frozenset()).creation)


COMMON_DEFAULTS = {
    "poll_interval": timedelta(minutes=5),
    "backfill": timedelta(days=365),
    "lookahead": timedelta(days=90),
    "privacy": "subject",
    "enabled": True,
    "batch_size": 500,
}


def test_imap_defaults() -> None:
    text = imap_with_password("${P}").replace("owner: ann@example.com", "owner: Ann@Example.COM")
    account = load_text(text).accounts[0]
    assert account.model_dump() == {
        **COMMON_DEFAULTS,
        "name": "ann",
        "kind": "imap",
        "owner": ("ann@example.com",),
        "timeout": timedelta(seconds=60),
        "host": "imap.example.com",
        "allow_plaintext": False,
        "tls": "implicit",
        "port": 993,
        "verify_tls": True,
        "ca_file": None,
        "username": "ann@example.com",
        "oauth_token": None,
        "password": "${P}",  # dumps hold the reference, which validates back to the Secret
        "folders": None,
        "text_bytes": 16384,
    }


def test_a_dump_validates_back_to_equal_settings() -> None:
    settings = load(EXAMPLE)
    assert Settings.model_validate(settings.model_dump()) == settings
    assert Settings.model_validate_json(settings.model_dump_json()) == settings


def test_caldav_defaults() -> None:
    account = load_text(
        "accounts:\n  - {name: cal, kind: caldav, url: 'https://cal.example.com/'}\n"
    ).accounts[0]
    assert account.model_dump() == {
        **COMMON_DEFAULTS,
        "name": "cal",
        "kind": "caldav",
        "owner": (),
        "timeout": timedelta(seconds=60),
        "url": "https://cal.example.com/",
        "allow_plaintext": False,
        "username": None,
        "token": None,
        "password": None,
        "verify_tls": True,
        "ca_file": None,
        "calendars": None,
        "allowed_redirect_hosts": (),
    }


def test_allowed_redirect_hosts_are_normalized_hosts_with_optional_ports() -> None:
    text = (
        "accounts:\n  - name: cal\n    kind: caldav\n    url: https://cal.example.com/\n"
        "    allowed_redirect_hosts: [CalDAV.Example.NET, 'dav.example.com:8443', '[::1]:9']\n"
    )
    account = load_text(text).accounts[0]
    assert isinstance(account, CaldavAccount)
    assert account.allowed_redirect_hosts == (
        "caldav.example.net",
        "dav.example.com:8443",
        "[::1]:9",
    )
    wrong = text.replace("'[::1]:9'", "'https://evil.example/'")
    with pytest.raises(ConfigError) as caught:
        load_text(wrong)
    assert str(caught.value) == (
        "<string>:5 accounts[0].allowed_redirect_hosts[2]: expected a host name like "
        '"dav.example.com" or "host:port", got "https://evil.example/"'
    )


def test_caldav_credentials_over_plain_http_need_explicit_consent(tmp_path: Path) -> None:
    account = """\
        accounts:
          - name: lab
            kind: caldav
            url: http://127.0.0.1:5232/
            username: ann
            password: ${P}
          - name: lab-token
            kind: caldav
            url: http://localhost:5232/
            token: ${T}
          - name: anonymous
            kind: caldav
            url: http://127.0.0.1:5232/
        """
    assert problems_of(account) == [
        (
            6,
            "accounts[0].password",
            "an http:// URL sends the password in clear text; "
            "use https:// or set allow_plaintext: true to accept that",
        ),
        (
            10,
            "accounts[1].token",
            "an http:// URL sends the token in clear text; "
            "use https:// or set allow_plaintext: true to accept that",
        ),
    ]
    allowed = account.replace(
        "url: http://127.0.0.1:5232/\n            username",
        ("url: http://127.0.0.1:5232/\n            allow_plaintext: true\n            username"),
    )
    path = write(
        tmp_path, allowed.replace("token: ${T}", "token: ${T}\n            allow_plaintext: true")
    )
    assert [str(w) for w in review(path).warnings if "clear text" in str(w)] == [
        f"{path}:4 accounts[0].url: warning: the credentials cross the network in clear text",
        f"{path}:10 accounts[1].url: warning: the credentials cross the network in clear text",
    ]


def test_starttls_port_explicit_username_and_account_lookup() -> None:
    text = imap_with_password("${P}") + "    tls: starttls\n    username: bob\n"
    settings = load_text(text)
    account = settings.account("ann")
    assert isinstance(account, ImapAccount)
    assert (account.port, account.username) == (143, "bob")
    with pytest.raises(KeyError):
        settings.account("nobody")


def test_plaintext_imap_needs_explicit_consent() -> None:
    settings = load_text(imap_with_password("${P}") + "    tls: none\n    allow_plaintext: true\n")
    account = settings.accounts[0]
    assert isinstance(account, ImapAccount)
    assert (account.tls, account.port, account.allow_plaintext) == ("none", 143, True)


def test_domains_and_addresses_are_normalized() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            org_domains: Example.COM.
            phone_region: gb
            log_level: debug
            blocklist:
              addresses: [CEO@Example.com]
              domains: [BÜCHER.example, Spam.Example]
            """
        )
    )
    assert settings.org_domains == ("example.com",)
    assert settings.blocklist.addresses == ("ceo@example.com",)
    assert settings.blocklist.domains == ("xn--bcher-kva.example", "spam.example")
    assert (settings.phone_region, settings.log_level) == ("GB", "DEBUG")


def test_subaddressing_domains_reach_the_policy_normalized() -> None:
    text = """\
        org_domains: [OurCo.com]
        subaddressing:
          org_domains: true
          domains: [Customer.EXAMPLE.]
        accounts:
          - {name: a, kind: archive, owner: me@ourco.com, paths: [x.mbox]}
        """
    settings = load_text(textwrap.dedent(text))
    policy = account_policy(settings, settings.accounts[0])
    assert policy.subaddress_domains == frozenset({"ourco.com", "customer.example"})
    off = load_text(textwrap.dedent(text).replace("org_domains: true", "org_domains: false"))
    assert account_policy(off, off.accounts[0]).subaddress_domains == {"customer.example"}
    assert account_policy(load_text(""), settings.accounts[0]).subaddress_domains == frozenset()
    assert problems_of("subaddressing:\n  org_domains: yes\n") == [
        (2, "subaddressing.org_domains", 'expected a valid boolean, got "yes"')
    ]


def test_addresses_need_a_real_domain() -> None:
    assert problems_of(
        "blocklist:\n  addresses: [a@example.com#x.com, a@localhost, ok@example.com, '@x.org']\n"
    ) == [
        (
            2,
            f"blocklist.addresses[{n}]",
            f'expected an email address like "ann@example.com", got "{bad}"',
        )
        for n, bad in ((0, "a@example.com#x.com"), (1, "a@localhost"), (3, "@x.org"))
    ]


def test_unknown_phone_region() -> None:
    assert problems_of("phone_region: XX\n") == [
        (1, "phone_region", 'expected a two-letter region code like "DE", got "XX"')
    ]


def test_archive_paths_are_relative_to_the_yaml_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        accounts:
          - name: takeout
            kind: archive
            owner: ann@example.com
            paths: [mail/all.mbox, ~/cal.ics, /srv/exports/x.mbox]
        """,
    )
    (tmp_path / "mail").mkdir()
    # Holds mail: an empty mbox would be warned about as one that gives none.
    (tmp_path / "mail" / "all.mbox").write_text(
        "From a@example.com Tue Mar  3 10:15:00 2026\nFrom: a@example.com\n\nHi\n"
    )
    account = load(path).accounts[0]
    assert isinstance(account, ArchiveAccount)
    assert account.paths == (
        tmp_path / "mail" / "all.mbox",
        Path.home() / "cal.ics",
        Path("/srv/exports/x.mbox"),
    )
    assert [(w.line, w.path) for w in review(path).warnings] == [
        (5, "accounts[0].paths[1]"),
        (5, "accounts[0].paths[2]"),
    ]


def test_relative_sqlite_path_is_relative_to_the_yaml_folder(tmp_path: Path) -> None:
    def url_of(url: str) -> str:
        return load(write(tmp_path, f'database_url: "{url}"\n')).database_url

    assert url_of("sqlite:///data/ac.db") == f"sqlite:///{tmp_path}/data/ac.db"
    assert url_of("sqlite:///~/ac.db?timeout=5") == f"sqlite:///{Path.home()}/ac.db?timeout=5"
    assert url_of("sqlite:////srv/ac.db") == "sqlite:////srv/ac.db"
    assert url_of("sqlite:///:memory:") == "sqlite:///:memory:"
    assert url_of("postgresql+psycopg://app@db/crm") == "postgresql+psycopg://app@db/crm"
    assert not (tmp_path / "data").exists()


def test_duplicate_names_are_refused_when_settings_are_built_in_code() -> None:
    def archive(name: str) -> ArchiveAccount:
        return ArchiveAccount(
            name=name, kind="archive", owner=("a@example.com",), paths=(Path("/a"),)
        )

    with pytest.raises(ValidationError) as caught:
        Settings(accounts=(archive("a"), archive("b"), archive("a")))
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("accounts", 2, "name"), 'account name "a" is already used by accounts[0]')
    ]


def test_settings_are_frozen() -> None:
    settings = load_text(textwrap.dedent(imap_with_password("${P}")))
    with pytest.raises(ValidationError):
        settings.workers = 8
    with pytest.raises(ValidationError):
        settings.accounts[0].name = "other"
    with pytest.raises(ValidationError):
        settings.creation.person = "always"
    assert isinstance(settings.accounts, tuple) and isinstance(settings.accounts[0].owner, tuple)


# --- the example -------------------------------------------------------------------------------


def test_example_loads_cleanly() -> None:
    settings = load(EXAMPLE)
    assert [(a.name, a.kind) for a in settings.accounts] == [
        ("takeout", "archive"),
        ("ann-imap", "imap"),
        ("bob-gmail", "gmail"),
        ("carol-m365", "microsoft"),
        ("team-calendar", "caldav"),
    ]


def test_example_writes_every_key_and_no_inline_secret() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    assert set(raw) == set(Settings.model_fields)
    assert set(raw["creation"]) == set(CreationSettings.model_fields)
    assert set(raw["blocklist"]) == {"addresses", "domains"}
    assert set(raw["subaddressing"]) == {"org_domains", "domains"}
    models: dict[str, type[AccountBase]] = {
        "archive": ArchiveAccount,
        "imap": ImapAccount,
        "gmail": GmailAccount,
        "microsoft": MicrosoftAccount,
        "caldav": CaldavAccount,
    }
    assert sorted(a["kind"] for a in raw["accounts"]) == sorted(models)
    for account in raw["accounts"]:
        assert set(account) == set(models[account["kind"]].model_fields), account["name"]
    secrets = [
        (account.name, name, str(value))
        for account in load(EXAMPLE).accounts
        for name, value in account
        if isinstance(value, Secret)
    ]
    assert secrets == [
        ("ann-imap", "password", "${IMAP_PASSWORD}"),
        (
            "bob-gmail",
            "client_secret",
            f"file:{Path.home()}/.config/autocapture/google-client-secret",
        ),
        ("bob-gmail", "refresh_token", "${BOB_GOOGLE_REFRESH_TOKEN}"),
        ("carol-m365", "client_secret", "${M365_CLIENT_SECRET}"),
        ("team-calendar", "password", "${CALDAV_PASSWORD}"),
    ]
