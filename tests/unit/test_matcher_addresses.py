"""parse_address_list on header values as real mail writes them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.addresses import (
    MAX_HEADER_CHARS,
    decode_encoded_words,
    parse_address_list,
)

CASES: list[tuple[str, str, list[tuple[str, str | None]]]] = [
    ("plain", "ann@example.com", [("ann@example.com", None)]),
    ("angle", "Ann Lee <ann@example.com>", [("ann@example.com", "Ann Lee")]),
    ("case folded", "Ann <Ann.Lee@Example.COM>", [("ann.lee@example.com", "Ann")]),
    (
        "quoted last, first",
        '"Lee, Ann" <ann@example.com>, bob@example.org',
        [("ann@example.com", "Lee, Ann"), ("bob@example.org", None)],
    ),
    (
        "unquoted last, first (Outlook)",
        "Lee, Ann <ann@example.com>, Bob <bob@example.org>",
        [("ann@example.com", "Lee, Ann"), ("bob@example.org", "Bob")],
    ),
    ("empty group", "undisclosed-recipients:;", []),
    (
        "group with members",
        "Board: a@x.com, B <b@x.com>; c@y.com",
        [("a@x.com", None), ("b@x.com", "B"), ("c@y.com", None)],
    ),
    ("comment as name", "ann@example.com (Ann Lee)", [("ann@example.com", "Ann Lee")]),
    ("comment beside name", "Bob (builder) <bob@x.com>", [("bob@x.com", "Bob")]),
    ("nested comment", "Bob (a (b) c) <bob@x.com>", [("bob@x.com", "Bob")]),
    ("no brackets", "Ann Lee ann@example.com", [("ann@example.com", "Ann Lee")]),
    ("name after angle", "<ann@x.com> Ann", [("ann@x.com", "Ann")]),
    ("idn domain", "Hans <hans@Bücher.de>", [("hans@xn--bcher-kva.de", "Hans")]),
    (
        "duplicates, first wins",
        'a@x.com, A@X.COM, "Dup" <a@x.com>, b@x.com',
        [("a@x.com", None), ("b@x.com", None)],
    ),
    ("source route", "<@relay.x:ann@x.com>", [("ann@x.com", None)]),
    ("quoted plain local part", '"ann"@x.com', [("ann@x.com", None)]),
    ("escaped quote in name", r'"Ann \"AL\" Lee" <al@x.com>', [("al@x.com", 'Ann "AL" Lee')]),
    ("garbage double angle", "<<>>", []),
    ("garbage at", "@", []),
    ("garbage mix", "<<>>, @, ,;, ann@x.com", [("ann@x.com", None)]),
    ("unterminated quote", '"unterminated, bob@x.com', [("bob@x.com", None)]),
    (
        "unterminated comment",
        "(oops bob@x.com, c@d.com",
        [("bob@x.com", "(oops"), ("c@d.com", None)],
    ),
    ("unterminated angle", "Ann <ann@x.com", [("ann@x.com", "Ann")]),
    ("no domain dot", "root@localhost, x@intranet", [("root@localhost", None)]),
    ("spaces in address", "<ann lee@x.com>", []),
    ("empty", "", []),
    ("control chars in name", "Ann\x00\x07 Lee <a@x.com>", [("a@x.com", "Ann Lee")]),
    ("single-quoted name", "'Ann Lee' <a@x.com>", [("a@x.com", "Ann Lee")]),
    ("mailto prefix", "<mailto:Ann@X.com>", [("ann@x.com", None)]),
]

ENCODED: list[tuple[str, str, list[tuple[str, str | None]]]] = [
    (
        "iso-8859-1 Q",
        "=?ISO-8859-1?Q?Andr=E9_Pirard?= <PIRARD@vm1.ulg.ac.be>",
        [("pirard@vm1.ulg.ac.be", "André Pirard")],
    ),
    (
        "iso-8859-1 B",
        "=?iso-8859-1?b?RnJhbudvaXM=?= <f@x.fr>",
        [("f@x.fr", "François")],
    ),
    (
        "utf-8 B",
        "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <j@m.de>",
        [("j@m.de", "Jörg Müller")],
    ),
    (
        "utf-8 Q",
        "=?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <j@m.de>",
        [("j@m.de", "Jörg Müller")],
    ),
    (
        "shift_jis B",
        "=?Shift_JIS?B?k2OShiCRvphZ?= <tanaka@example.jp>",
        [("tanaka@example.jp", "田中 太郎")],
    ),
    (
        "shift_jis Q",
        "=?shift_jis?Q?=93c=92=86?= <t@example.jp>",
        [("t@example.jp", "田中")],
    ),
    (
        "iso-2022-jp B (most Japanese mail)",
        "=?iso-2022-jp?B?GyRCRURDZhsoQiAbJEJCQE86GyhC?= <t@example.jp>",
        [("t@example.jp", "田中 太郎")],
    ),
    (
        "ks_c_5601-1987 (Outlook's label for Korean)",
        "=?ks_c_5601-1987?B?sejDtrz2?= <k@example.kr>",
        [("k@example.kr", "김철수")],
    ),
    (
        "windows-1251",
        "=?windows-1251?B?yOLg7SDP5fLw7uI=?= <i@example.ru>",
        [("i@example.ru", "Иван Петров")],
    ),
    ("big5", "=?big5?B?s6+kaqTl?= <c@example.tw>", [("c@example.tw", "陳大文")]),
    (
        # GBK bytes labelled gb2312 (common): read with the superset gb18030.
        "gbk bytes labelled gb2312",
        "=?gb2312?B?1uzpRrv5?= <z@example.cn>",
        [("z@example.cn", "朱镕基")],
    ),
    (
        # cp1252 bytes labelled iso-8859-1 (Outlook): 0x92 is a quote mark.
        "cp1252 bytes labelled iso-8859-1",
        "=?iso-8859-1?Q?Ann_O=92Neil?= <a@x.ie>",
        [("a@x.ie", "Ann O’Neil")],
    ),
    ("gb2312 B", "=?GB2312?B?1cXI/Q==?= <zs@example.cn>", [("zs@example.cn", "张三")]),
    ("gb2312 Q", "=?gb2312?Q?=D5=C5=C8=FD?= <zs@example.cn>", [("zs@example.cn", "张三")]),
    (
        "encoded inside quotes",
        '"=?UTF-8?Q?Ren=C3=A9e?=" <r@x.com>',
        [("r@x.com", "Renée")],
    ),
    (
        "encoded words next to plain text",
        "=?UTF-8?Q?Ren=C3=A9e?= Lee <r@x.com>",
        [("r@x.com", "Renée Lee")],
    ),
    (
        "whole mailbox encoded",
        "=?UTF-8?B?Sm9obiA8am9obkB4LmNvbT4=?=",
        [("john@x.com", "John")],
    ),
    (
        "unknown charset falls back",
        "=?x-unknown?q?Ann?= <a@x.com>",
        [("a@x.com", "Ann")],
    ),
    (
        "broken base64 left as written",
        "=?utf-8?B?####?= <a@x.com>",
        [("a@x.com", "=?utf-8?B?####?=")],
    ),
    (
        # zlib of "hello": never decompressed, read as cp1252 bytes instead.
        "non-text codec refused",
        "=?zlib?B?eJzLSM3JBwAGLAIV?= <a@x.com>",
        [("a@x.com", "xœËHÍÉ ,")],
    ),
]


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_real_world_headers(raw: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(a.email, a.name) for a in parse_address_list(raw)] == expected


@pytest.mark.parametrize(("raw", "expected"), [c[1:] for c in ENCODED], ids=[c[0] for c in ENCODED])
def test_encoded_words_in_any_charset(raw: str, expected: list[tuple[str, str | None]]) -> None:
    assert [(a.email, a.name) for a in parse_address_list(raw)] == expected


def test_raw_keeps_the_mailbox_as_seen() -> None:
    (ann, bob) = parse_address_list('Lee, Ann <ann@x.com>, "Bob" <BOB@x.com>')
    assert ann.raw == "Lee, Ann <ann@x.com>"
    assert bob.raw == '"Bob" <BOB@x.com>'


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # RFC 2047 section 8 examples: whitespace between adjacent encoded words goes.
        ("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=", "ab"),
        ("=?ISO-8859-1?Q?a_b?=", "a b"),
        ("=?ISO-8859-1?Q?a?= b", "a b"),
        ("=?ISO-8859-1?Q?a?= b =?ISO-8859-1?Q?c?=", "a b c"),
        # A UTF-8 character split across two words (seen from Outlook).
        ("=?UTF-8?Q?=E2=82?= =?UTF-8?Q?=AC?=", "€"),
        ("=?UTF-8?Q?a?= =?ISO-8859-1?Q?=E9?=", "aé"),
        ("=?utf-8*en?q?hi?=", "hi"),
        ("no words here", "no words here"),
        ("=?utf-8?q?caf=C3=A9 ?=", "=?utf-8?q?caf=C3=A9 ?="),
    ],
)
def test_decode_encoded_words(text: str, expected: str) -> None:
    assert decode_encoded_words(text) == expected


def test_address_cap() -> None:
    raw = ", ".join(f"p{i}@x.com" for i in range(50))
    found = parse_address_list(raw, max_addresses=7)
    assert [a.email for a in found] == [f"p{i}@x.com" for i in range(7)]


def test_header_length_cap() -> None:
    filler = "x" * MAX_HEADER_CHARS
    assert [a.email for a in parse_address_list(f"a@x.com, {filler}, b@x.com")] == ["a@x.com"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Openers that never close are read as literals, later addresses kept.
        ('"(<' * 20000 + " a@x.com", [("a@x.com", None)]),
        ('"\\' * 20000 + ", a@x.com", [("a@x.com", None)]),
        ("<" * 20 + "bob@x.com" + ">" * 20 + ", a@x.com", [("bob@x.com", None), ("a@x.com", None)]),
        ("Bob " + "(" * 9 + "c" + ")" * 9 + " <bob@x.com>", [("bob@x.com", "Bob ( )")]),
        ("N" * 300 + " <a@x.com>", [("a@x.com", None)]),  # a name too long to be one
    ],
    ids=["quote-comment-angle", "escaped quotes", "deep angles", "deep comment", "long name"],
)
def test_hostile_nesting_and_unclosed_openers(
    raw: str, expected: list[tuple[str, str | None]]
) -> None:
    assert [(a.email, a.name) for a in parse_address_list(raw)] == expected


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_never_raises_on_random_text(raw: str) -> None:
    for address in parse_address_list(raw):
        assert "@" in address.email
        assert address.email == address.email.lower()


# The characters that change the scanner's state, and encoded-word fragments.
HEADER_NOISE = ['"', "(", ")", "<", ">", ",", ";", ":", "@", "\\", " ", "a", "x.com"]
HEADER_NOISE += ["=?", "?=", "=?utf-8?b?", "=?gb2312?q?=D5", "?Q?", "\u00e9", "\x00"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(HEADER_NOISE), max_size=60))
def test_never_raises_on_header_shaped_noise(parts: list[str]) -> None:
    for address in parse_address_list("".join(parts)):
        assert address.email.count("@") >= 1


def test_garbage_mailboxes_are_read_only_up_to_a_bound() -> None:
    # 4 mailboxes are read per wanted address; a good one after the garbage is not.
    assert parse_address_list(",@" * 30 + ", a@x.com", max_addresses=5) == []
    assert [a.email for a in parse_address_list(",@" * 3 + ", a@x.com", max_addresses=5)] == [
        "a@x.com"
    ]
