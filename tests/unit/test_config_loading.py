"""config/: a YAML file in, every problem of it out at once, each with file:line and key path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from config import (
    ConfigError,
    Problem,
    check,
    load,
    load_text,
)
from tests.config_text import checked, problems_of, write
from tests.watchdog import terminates

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
        (
            17,
            "accounts[2].client_secret",
            "an OAuth client is client_id and client_secret together: give both",
        ),
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
            "imap, gmail, microsoft, caldav, plugin",
        ),
        (
            4,
            "accounts[1].kind",
            "missing required key (one of archive, imap, gmail, microsoft, caldav, plugin)",
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
