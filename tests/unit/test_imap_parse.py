"""The IMAP connector's pure parsers, on responses recorded from Dovecot 2.3.

FETCH data is in the shape imaplib hands back (and the connector's reader
produces): a line, or a (line ending in "{n}", literal) pair per literal.
"""

from __future__ import annotations

import pytest

from connectors.base import InvalidInput, Limits
from connectors.imap.parse import BodyPart, default_folders, parse_fetch, plan_body, uid_set

HEADER_ITEM = b"BODY[HEADER.FIELDS (FROM TO SUBJECT MESSAGE-ID)]<0>"

# Recorded: UID FETCH 1:2 (UID RFC822.SIZE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (...)]<0.262145>)
RECORDED_META = [
    (
        b'1 (UID 1 RFC822.SIZE 212287 BODYSTRUCTURE (("text" "plain" ("charset" "iso-8859-1")'
        b' NIL NIL "base64" 1346 19 NIL NIL NIL NIL)("application" "pdf" ("name" "proposal.pdf")'
        b' NIL NIL "base64" 210190 NIL ("attachment" ("filename" "proposal.pdf")) NIL NIL)'
        b' "mixed" ("boundary" "=_mix_b1b7e57b4345") NIL NIL NIL) ' + HEADER_ITEM + b" {52}",
        b"From: Ann <ann@x.example>\r\nSubject: Quote\r\n\r\n\r\n\r\n\r\n",
    ),
    b")",
    (
        b'2 (UID 7 RFC822.SIZE 596 BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL'
        b' "7bit" 596 15 NIL NIL NIL NIL) ' + HEADER_ITEM + b" {20}",
        b'Subject: "quoted"\r\n\r\n',
    ),
    b")",
]


def test_fetch_response_with_literals_is_keyed_by_uid() -> None:
    got = parse_fetch(RECORDED_META)
    assert sorted(got) == [1, 7]
    first = got[1]
    assert first[b"RFC822.SIZE"] == b"212287"
    assert first[HEADER_ITEM] == b"From: Ann <ann@x.example>\r\nSubject: Quote\r\n\r\n\r\n\r\n\r\n"
    structure = first[b"BODYSTRUCTURE"]
    assert structure[0][:2] == [b"text", b"plain"]
    assert structure[0][2] == [b"charset", b"iso-8859-1"]
    assert structure[0][3] is None  # NIL
    assert structure[2] == b"mixed"
    assert got[7][HEADER_ITEM] == b'Subject: "quoted"\r\n\r\n'


def test_several_literals_in_one_response_and_a_partial_origin() -> None:
    data = [
        (b"3 (UID 12 BODY[1]<0> {5}", b"hello"),
        (b" BODY[2] {3}", b"ics"),
        b")",
    ]
    assert parse_fetch(data) == {12: {b"UID": b"12", b"BODY[1]<0>": b"hello", b"BODY[2]": b"ics"}}


def test_quoted_strings_unescape_and_unsolicited_responses_are_dropped() -> None:
    data = [
        b'4 (UID 9 X-NAME "say \\"hi\\" \\\\ bye")',
        b"5 (FLAGS (\\Seen))",  # an unsolicited flag update carries no UID
    ]
    assert parse_fetch(data) == {9: {b"UID": b"9", b"X-NAME": b'say "hi" \\ bye'}}


def test_responses_for_one_uid_are_merged() -> None:
    data = [b"4 (UID 9 RFC822.SIZE 10)", b"4 (UID 9 FLAGS ())"]
    assert parse_fetch(data) == {9: {b"UID": b"9", b"RFC822.SIZE": b"10", b"FLAGS": []}}


def test_empty_fetch_data() -> None:
    assert parse_fetch([None]) == {}
    assert parse_fetch([]) == {}


@pytest.mark.parametrize(
    "data",
    [
        [b'1 (UID 1 BODYSTRUCTURE ("text" "plain"'],  # unbalanced
        [b"1 (UID 1))"],  # a close too many
        [b"1 (UID 1 X-JUNK [oops)"],  # a byte no IMAP token starts with
        [b'1 (UID 1 X-NAME "unterminated)'],
        [b"1 (UID 1 BODY[1] {5}"],  # a literal announced but not delivered
        [(b"1 (UID 1 BODY[1] NIL", b"surprise"), b")"],  # data without a literal
        [b"1 (UID 1 SIZE)"],  # odd number of items
        [b"1 " + b"(" * 300 + b")" * 300],  # nesting that would exhaust a recursive parser
    ],
)
def test_hostile_responses_are_refused_not_guessed(data: list[object]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_fetch(data)
    assert caught.value.reason == "imap-protocol"


@pytest.mark.parametrize(
    "line",
    [
        b"1 (UID 1)) [oops",  # a close too many, then a stray byte
        b"1 (UID 1 BODY[1] {5} [oops",  # a literal not at the end of its line
        b"1 " + b"(" * 300 + b"\t",  # nesting too deep, then a tab
    ],
)
def test_a_stray_byte_is_what_a_line_is_refused_for(line: bytes) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_fetch([line])
    assert caught.value.detail == "unexpected bytes in a response line"


def test_a_stray_byte_after_an_origin_is_refused() -> None:
    # "BODY[1]<0>" is one atom; the "[" after it starts no token.
    with pytest.raises(InvalidInput) as caught:
        parse_fetch([b"1 (UID 1 X-A BODY[1]<0>[2] y)"])
    assert caught.value.detail == "unexpected bytes in a response line"


@pytest.mark.parametrize("stray", [b"[", b"\t", b"{"])
def test_a_long_atom_then_a_stray_byte_is_refused_at_once(stray: bytes) -> None:
    # A backtracking grammar tried every split of the atom: 2**n ways.
    with pytest.raises(InvalidInput) as caught:
        parse_fetch([b"1 (UID 1 X-A " + b"a" * 5000 + stray + b")"])
    assert caught.value.detail == "unexpected bytes in a response line"


def structure_of(text: bytes) -> object:
    return parse_fetch([b"1 (UID 1 BODYSTRUCTURE " + text + b")"])[1][b"BODYSTRUCTURE"]


def test_single_part_text_is_section_1() -> None:
    plan = plan_body(
        structure_of(b'("TEXT" "PLAIN" ("CHARSET" "UTF-8") NIL NIL "QUOTED-PRINTABLE" 2279 48)'),
        Limits(),
    )
    assert plan.text == BodyPart("1", "text/plain", "quoted-printable", "UTF-8", 2279)
    assert plan.calendars == ()
    assert not plan.text_is_html


def test_alternative_prefers_plain_even_when_html_comes_first() -> None:
    plan = plan_body(
        structure_of(
            b'(("text" "html" ("charset" "utf-8") NIL NIL "7bit" 900 20 NIL NIL NIL NIL)'
            b'("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 300 8 NIL NIL NIL NIL)'
            b' "alternative" ("boundary" "b1") NIL NIL NIL)'
        ),
        Limits(),
    )
    assert plan.text == BodyPart("2", "text/plain", "7bit", "us-ascii", 300)


def test_html_only_message_gives_html_text() -> None:
    plan = plan_body(
        structure_of(b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 512 9 NIL NIL NIL NIL)'),
        Limits(),
    )
    assert plan.text == BodyPart("1", "text/html", "7bit", "utf-8", 512)
    assert plan.text_is_html


def test_attached_text_file_is_not_the_text_and_forwarded_mail_is_not_entered() -> None:
    # mixed: [alternative: [plain, html], message/rfc822 (with its own text), text/plain attachment]
    plan = plan_body(
        structure_of(
            b'((("text" "html" ("charset" "utf-8") NIL NIL "base64" 1000 13 NIL NIL NIL NIL)'
            b' "alternative" ("boundary" "b2") NIL NIL NIL)'
            b'("message" "rfc822" NIL NIL NIL "7bit" 800 (NIL "fwd" NIL NIL NIL NIL NIL NIL NIL NIL)'
            b' ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 100 3 NIL NIL NIL NIL) 20 NIL NIL NIL NIL)'
            b'("text" "plain" ("charset" "utf-8" "name" "notes.txt") NIL NIL "base64" 5000 65 NIL'
            b' ("attachment" ("filename" "notes.txt")) NIL NIL)'
            b' "mixed" ("boundary" "b1") NIL NIL NIL)'
        ),
        Limits(),
    )
    assert plan.text == BodyPart("1.1", "text/html", "base64", "utf-8", 1000)


def test_calendar_parts_are_collected_in_order() -> None:
    plan = plan_body(
        structure_of(
            b'(("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 120 4 NIL NIL NIL NIL)'
            b'("text" "calendar" ("charset" "utf-8" "method" "REQUEST") NIL NIL "7bit" 700 20 NIL NIL NIL NIL)'
            b'("application" "ics" ("name" "invite.ics") NIL NIL "base64" 950 NIL'
            b' ("attachment" ("filename" "invite.ics")) NIL NIL)'
            b' "mixed" ("boundary" "b1") NIL NIL NIL)'
        ),
        Limits(),
    )
    assert plan.text == BodyPart("1", "text/plain", "7bit", "utf-8", 120)
    assert plan.calendars == (
        BodyPart("2", "text/calendar", "7bit", "utf-8", 700),
        BodyPart("3", "application/ics", "base64", None, 950),
    )


def nested(depth: int) -> bytes:
    leaf = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
    for _ in range(depth):
        leaf = b"(" + leaf + b' "mixed" ("boundary" "b") NIL NIL NIL)'
    return leaf


def test_text_deeper_than_the_limit_is_not_entered() -> None:
    assert plan_body(structure_of(nested(3)), Limits(max_mime_depth=3)).text == BodyPart(
        "1.1.1", "text/plain", "7bit", "utf-8", 10
    )
    assert plan_body(structure_of(nested(4)), Limits(max_mime_depth=3)).text is None


def test_parts_beyond_the_part_limit_are_not_considered() -> None:
    html = b'("text" "html" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
    plain = b'("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 10 1 NIL NIL NIL NIL)'
    text = b"(" + html * 3 + plain + b' "mixed" ("boundary" "b") NIL NIL NIL)'
    assert plan_body(structure_of(text), Limits(max_mime_parts=3)).text == BodyPart(
        "1", "text/html", "7bit", "utf-8", 10
    )
    assert plan_body(structure_of(text), Limits(max_mime_parts=4)).text == BodyPart(
        "4", "text/plain", "7bit", "utf-8", 10
    )


@pytest.mark.parametrize("structure", [None, b"text", []])
def test_missing_or_garbage_bodystructure_is_invalid_input(structure: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        plan_body(structure, Limits())
    assert caught.value.reason == "bad-bodystructure"


def test_uid_set_compresses_runs() -> None:
    assert uid_set([9, 1, 2, 3, 7, 10, 3]) == "1:3,7,9:10"
    assert uid_set([5]) == "5"
    assert uid_set([]) == ""


def test_default_folders_follow_special_use_and_skip_trash_junk_drafts() -> None:
    listing = [
        ((b"\\HasNoChildren", b"\\Trash"), b"/", "Sent"),  # named Sent, but it is the trash
        ((b"\\HasNoChildren", b"\\Sent"), b"/", "Gesendete Objekte"),
        ((b"\\HasNoChildren",), b"/", "INBOX"),
        ((b"\\Junk",), b"/", "Spam"),
    ]
    assert default_folders(listing) == ["INBOX", "Gesendete Objekte"]


@pytest.mark.parametrize(
    ("names", "sent"),
    [
        (["INBOX", "Sent Items", "Archive"], "Sent Items"),
        (["INBOX", "Sent Messages"], "Sent Messages"),
        (["INBOX", "[Gmail]", "[Gmail]/Sent Mail", "[Gmail]/All Mail"], "[Gmail]/Sent Mail"),
        (["INBOX", "sent"], "sent"),
    ],
)
def test_default_folders_fall_back_to_common_names(names: list[str], sent: str) -> None:
    listing = [((b"\\HasNoChildren",), b"/", name) for name in names]
    assert default_folders(listing) == ["INBOX", sent]


def test_default_folders_without_a_sent_folder_is_inbox_alone() -> None:
    listing = [((b"\\HasNoChildren",), b"/", "INBOX"), ((b"\\Drafts",), b"/", "Drafts")]
    assert default_folders(listing) == ["INBOX"]
