"""connectors.mail.mime: real-world shaped messages in, exact Message fields out."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from connectors.base import InvalidInput, Limits, Window
from connectors.mail.headers import FIELD_GROUPS, HeaderRead, read_groups
from connectors.mail.mime import (
    CalendarPart,
    calendar_cap,
    carried_meetings,
    decode_body,
    decode_words,
    message_from_parts,
    parse_message,
    parse_message_and_errors,
)
from connectors.records import SourceRef, normalize_message_id
from tests.watchdog import terminates

SRC = SourceRef("ann@example.com", "INBOX", "42")
LIMITS = Limits()
WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))

HEAD = (
    "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\n"
    "To: Ann <ann@example.com>,\n Bob <bob@example.org>\n"
    "Date: Tue, 03 Mar 2026 10:15:00 +0100\n"
    "Message-ID: <abc.123@mail.example.de>\n"
)


def msg(text: str, crlf: bool = False) -> bytes:
    raw = text.encode("utf-8")
    return raw.replace(b"\n", b"\r\n") if crlf else raw


PLAIN = HEAD + "Subject: Hello\nContent-Type: text/plain; charset=utf-8\n\nHi Ann,\nsee you.\n"

ALTERNATIVE = (
    HEAD + 'Subject: Alt\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b1"\n\n'
    "preamble\n--b1\nContent-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe aus K=F6ln=\n, Ann\n"
    "--b1\nContent-Type: text/html; charset=utf-8\n\n<p>Gr\u00fc\u00dfe</p>\n--b1--\nepilogue\n"
)

ATTACHMENT = base64.encodebytes(bytes(range(256)) * 64).decode("ascii")
NESTED_MIXED = (
    HEAD + 'Subject: Report\nContent-Type: multipart/mixed; boundary="outer"\n\n'
    '--outer\nContent-Type: multipart/alternative; boundary="inner"\n\n'
    "--inner\nContent-Type: text/plain; charset=windows-1252\n"
    "Content-Transfer-Encoding: base64\n\n"
    + base64.encodebytes("Price: 10 \u20ac \u2013 final".encode("cp1252")).decode("ascii")
    + "--inner\nContent-Type: text/html\n\n<b>Price</b>\n--inner--\n"
    '--outer\nContent-Type: application/pdf; name="r.pdf"\n'
    'Content-Disposition: attachment; filename="r.pdf"\nContent-Transfer-Encoding: base64\n\n'
    + ATTACHMENT
    + '--outer\nContent-Type: text/plain; name="notes.txt"\nContent-Disposition: attachment\n\n'
    "not the body\n--outer--\n"
)

HTML_ONLY = (
    HEAD + "Subject: Newsletter\nContent-Type: text/html; charset=utf-8\n"
    "Content-Transfer-Encoding: base64\n\n"
    + base64.encodebytes("<h1>Caf\u00e9</h1>".encode()).decode("ascii")
)

UNKNOWN_CHARSET = (
    HEAD + "Subject: x\nContent-Type: text/plain; charset=x-klingon-42\n\nplain \u00e9\n"
)
ZLIB_CHARSET = HEAD + "Subject: x\nContent-Type: text/plain; charset=zlib\n\nx\x9c\n"

ENCODED_SUBJECT = (
    "From: a@example.com\nSubject: =?UTF-8?B?8J+Ygg==?= =?utf-8?q?_Gr=C3=BC?=\n"
    " =?utf-8?q?=C3=9Fe?= und\n =?iso-8859-1?q?K=F6ln?=\n\nbody\n"
)
BAD_SUBJECT = "From: a@example.com\nSubject: =?no-such-charset?q?abc?= =?utf-8?b?###?=\n\nbody\n"

NO_DATE = (
    "From: a@example.com\nSubject: undated\nIn-Reply-To: <p1@x>\nReferences: <r0@x>\n <r1@x>\n\nb\n"
)
ZONELESS_DATE = "From: a@example.com\nDate: Tue, 03 Mar 2026 10:15:00 -0000\n\nb\n"
BAD_DATE = "From: a@example.com\nDate: Tue, 99 Foo 2026 99:99:99 +9999\n\nb\n"

FOLDED = (
    "From: a@example.com\nSubject: a very\n\tlong\n  subject\nList-Id: Team\n <team.example.com>\n"
    "X-Other: dropped\nIn-Reply-To: <parent@x>\n\nb\n"
)

INVITE_ICS = (
    "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
    "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
    "ORGANIZER;CN=Ann Lee:mailto:ann@example.com\r\n"
    "ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN=Bob:mailto:bob@example.org\r\n"
    "ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@example.com\r\n"
    "UID:040000008200E00074C5B7101A82E008\r\nSUMMARY;LANGUAGE=en-US:Pricing call\r\n"
    "DTSTART:20260310T140000Z\r\nDTEND:20260310T143000Z\r\nSEQUENCE:2\r\n"
    "STATUS:CONFIRMED\r\nLOCATION:Teams\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
OUTLOOK_INVITE = (
    HEAD + 'Subject: Pricing call\nContent-Type: multipart/alternative; boundary="_000_"\n\n'
    "--_000_\nContent-Type: text/plain; charset=us-ascii\n\nJoin the call\n"
    "--_000_\nContent-Type: text/html; charset=us-ascii\n\n<p>Join</p>\n"
    '--_000_\nContent-Type: text/calendar; charset="utf-8"; method=REQUEST\n'
    "Content-Transfer-Encoding: base64\n\n"
    + base64.encodebytes(INVITE_ICS.encode()).decode("ascii")
    + "--_000_--\n"
)
BROKEN_INVITE = OUTLOOK_INVITE.replace(
    base64.encodebytes(INVITE_ICS.encode()).decode("ascii"),
    base64.encodebytes(b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:zz\r\n").decode("ascii"),
)


@pytest.mark.parametrize(
    ("raw", "subject", "text", "is_html"),
    [
        (msg(PLAIN), "Hello", "Hi Ann,\nsee you.\n", False),
        (msg(PLAIN, crlf=True), "Hello", "Hi Ann,\r\nsee you.\r\n", False),
        (msg(ALTERNATIVE), "Alt", "Grüße aus Köln, Ann", False),
        (msg(ALTERNATIVE, crlf=True), "Alt", "Grüße aus Köln, Ann", False),
        (msg(NESTED_MIXED), "Report", "Price: 10 € – final", False),
        (msg(NESTED_MIXED, crlf=True), "Report", "Price: 10 € – final", False),
        (msg(HTML_ONLY), "Newsletter", "<h1>Café</h1>", True),
        (msg(UNKNOWN_CHARSET), "x", "plain é\n", False),
        (msg(ZLIB_CHARSET), "x", "x\x9c\n", False),
        (msg(ENCODED_SUBJECT), "😂 Grüße und Köln", "body\n", False),
        (msg(BAD_SUBJECT), "abc", "body\n", False),
        (msg(FOLDED), "a very\tlong  subject", "b\n", False),
    ],
    ids=[
        "plain", "plain-crlf", "alternative-qp-latin1", "alternative-crlf",
        "nested-mixed-cp1252-b64", "nested-mixed-crlf", "html-only-b64",
        "unknown-charset", "bytes-codec-charset", "encoded-words", "bad-encoded-words", "folded",
    ],
)  # fmt: skip
def test_subject_and_first_text(raw: bytes, subject: str, text: str, is_html: bool) -> None:
    m = parse_message(raw, SRC, LIMITS)
    assert (m.subject, m.text, m.text_is_html, m.size) == (subject, text, is_html, len(raw))


def test_header_fields_are_the_pipeline_ones_unfolded_and_still_encoded() -> None:
    m = parse_message(msg(PLAIN, crlf=True), SRC, LIMITS)
    # Recipients are read as a group of their own (connectors.mail.headers), after the rest.
    assert m.headers == (
        ("from", "=?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>"),
        ("date", "Tue, 03 Mar 2026 10:15:00 +0100"),
        ("message-id", "<abc.123@mail.example.de>"),
        ("subject", "Hello"),
        ("content-type", "text/plain; charset=utf-8"),
        ("to", "Ann <ann@example.com>, Bob <bob@example.org>"),
    )
    assert m.message_id == "abc.123@mail.example.de"
    assert m.thread_key == "abc.123@mail.example.de"
    assert m.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert m.source == SRC and m.meetings == ()


def test_folded_list_id_and_thread_key_from_in_reply_to() -> None:
    m = parse_message(msg(FOLDED), SRC, LIMITS)
    assert m.header("list-id") == "Team <team.example.com>"
    assert m.header("x-other") is None
    assert m.thread_key == "parent@x" and m.message_id is None


@pytest.mark.parametrize(
    ("raw", "date", "thread_key"),
    [
        (msg(NO_DATE), None, "r0@x"),
        (msg(ZONELESS_DATE), datetime(2026, 3, 3, 10, 15, tzinfo=UTC), None),
        (msg(BAD_DATE), None, None),
    ],
    ids=["missing-date-references", "zoneless-date", "bad-date"],
)
def test_dates_and_threads(raw: bytes, date: datetime | None, thread_key: str | None) -> None:
    m = parse_message(raw, SRC, LIMITS)
    assert (m.date, m.thread_key) == (date, thread_key)


@pytest.mark.parametrize(
    ("value", "date"),
    [
        ("Tue, 03 Mar 2026 10:15:00 -0530", datetime(2026, 3, 3, 15, 45, tzinfo=UTC)),
        ("Tue, 3 Mar 2026 10:15:00 +0575", datetime(2026, 3, 3, 4, tzinfo=UTC)),  # 75 minutes
        ("Tue, 03 Mar 0026 10:15:00 +0000", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
        ("Tue, 03 Mar 2026 24:15:00 +0000", None),
        ("Tue, 03 Mar 2026 10:15:00 +2400", None),
        ("3 Mar 2026 10:15 GMT", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
        # ISO 8601, as some generators write it: only with an offset.
        ("2026-03-03T10:15:00Z", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
        ("2026-03-03 10:15:00.25+05:30", datetime(2026, 3, 3, 4, 45, 0, 250000, tzinfo=UTC)),
        (" 2026-03-03t10:15-0800 ", datetime(2026, 3, 3, 18, 15, tzinfo=UTC)),
        ("2026-03-03T10:15:00", None),
        ("2026-02-30T10:15:00Z", None),
        ("2026-03-03T10:15:00+24:00", None),
    ],
)
def test_date_fields_as_utc(value: str, date: datetime | None) -> None:
    m, _ = message_from_parts(SRC, HeaderRead((("date", value),)), None, False, 0)
    assert m.date == date


def test_outlook_invitation_carries_its_meeting() -> None:
    m, errors = parse_message_and_errors(msg(OUTLOOK_INVITE, crlf=True), SRC, LIMITS, WINDOW)
    assert errors == []
    assert m.text == "Join the call" and m.subject == "Pricing call"
    [meeting] = m.meetings
    assert meeting.source == SourceRef(
        "ann@example.com", "INBOX", "42#calendar#040000008200E00074C5B7101A82E008|"
    )  # one copy per occurrence, even inside one message
    assert (meeting.uid, meeting.recurrence_id, meeting.sequence, meeting.method) == (
        "040000008200E00074C5B7101A82E008", None, 2, "REQUEST",
    )  # fmt: skip
    assert (meeting.start, meeting.end) == (
        datetime(2026, 3, 10, 14, tzinfo=UTC),
        datetime(2026, 3, 10, 14, 30, tzinfo=UTC),
    )
    assert meeting.organizer is not None and meeting.organizer.address.email == "ann@example.com"
    assert [(a.address.email, a.address.name, a.cutype) for a in meeting.attendees] == [
        ("bob@example.org", "Bob", "INDIVIDUAL"),
        ("room4@example.com", "Room 4", "ROOM"),
    ]


def test_broken_invitation_keeps_the_message() -> None:
    m, errors = parse_message_and_errors(msg(BROKEN_INVITE), SRC, LIMITS, WINDOW)
    assert (m.message_id, m.text, m.meetings) == ("abc.123@mail.example.de", "Join the call", ())
    assert [(e.reason, e.source.provider_id) for e in errors] == [("bad-ical", "42#calendar")]


@pytest.mark.parametrize(
    ("raw", "limits", "reason"),
    [
        (bytes(range(256)) * 40, LIMITS, "not-a-message"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", LIMITS, "not-a-message"),
        (b"", LIMITS, "not-a-message"),
        (b"just some words\n\nand more", LIMITS, "not-a-message"),
        (b"X-Big: " + b"a" * 300_000 + b"\n\nbody", LIMITS, "not-a-message"),
        (b"X-Pad: a\n" * 40_000 + b"\nbody", LIMITS, "not-a-message"),
        (b"Content-Type: text/plain\nX-Mailer: x\n\nbody", LIMITS, "not-a-message"),
        (msg(PLAIN), Limits(max_message_bytes=100), "message-too-large"),
    ],
    ids=["binary", "png", "empty", "prose", "300k-header", "40k-lines", "no-identity", "too-large"],
)
def test_refused_input(raw: bytes, limits: Limits, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_message(raw, SRC, limits)
    assert caught.value.reason == reason


def nested(depth: int) -> bytes:
    opening = "".join(
        f'--n{i}\nContent-Type: multipart/mixed; boundary="n{i + 1}"\n\n' for i in range(depth)
    )
    closing = "".join(f"--n{i}--\n" for i in reversed(range(depth + 1)))
    head = 'From: a@example.com\nSubject: deep\nContent-Type: multipart/mixed; boundary="n0"\n\n'
    return (
        head + opening + f"--n{depth}\nContent-Type: text/plain\n\ndeep text\n" + closing
    ).encode()


def test_ten_thousand_nested_multiparts_stop_descending_quickly() -> None:
    raw = nested(10_000)
    with terminates():
        m = parse_message(raw, SRC, LIMITS)
    assert (m.subject, m.text) == ("deep", None)  # the text lies below max_mime_depth
    assert parse_message(nested(5), SRC, LIMITS).text == "deep text"


def test_part_count_limit_stops_the_walk() -> None:
    parts = "".join(f"--p\nContent-Type: image/png\n\n{i}\n" for i in range(50))
    raw = (
        'From: a@example.com\nContent-Type: multipart/mixed; boundary="p"\n\n'
        + parts
        + "--p\nContent-Type: text/plain\n\nlate text\n--p--\n"
    ).encode()
    assert parse_message(raw, SRC, Limits(max_mime_parts=10)).text is None
    assert parse_message(raw, SRC, LIMITS).text == "late text"


def test_text_is_capped_at_source_bytes_without_splitting_characters() -> None:
    body = base64.encodebytes(("ü" * 1000).encode()).decode("ascii")
    raw = msg(
        HEAD
        + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
        + body
    )
    text = parse_message(raw, SRC, Limits(max_text_bytes=101)).text
    # 101 source bytes: 100 base64 chars without line breaks -> 75 bytes -> 37 whole "ü".
    assert text == "ü" * 37


def test_boundary_prefix_and_mid_line_markers_are_not_delimiters() -> None:
    raw = (
        b'From: a@example.com\nContent-Type: multipart/mixed; boundary="ab"\n\n'
        b'--ab\nContent-Type: multipart/alternative; boundary="ab-x"\n\n'
        b"--ab-x\nContent-Type: text/plain\n\ntext with --ab inside\n--ab-x--\n--ab--\n"
    )
    assert parse_message(raw, SRC, LIMITS).text == "text with --ab inside"


def test_mbox_from_line_and_headers_only_message() -> None:
    m = parse_message(b"From a@b.c Tue Mar  3 10:15:00 2026\nFrom: a@b.c\nSubject: s", SRC, LIMITS)
    assert (m.subject, m.text, m.headers) == ("s", "", (("from", "a@b.c"), ("subject", "s")))


def test_nul_bytes_never_reach_text() -> None:
    raw = b"From: a@example.com\nSubject: a\x00b\n\nx\x00y\n"
    m = parse_message(raw, SRC, LIMITS)
    assert (m.subject, m.text) == ("a\ufffdb", "x\ufffdy\n")


def test_pieces_for_imap_share_one_code_path() -> None:
    block = (
        b"Subject: =?utf-8?q?Caf=C3=A9?=\r\nReferences: <a@x> <b@x>\r\nMessage-ID: <m@x>\r\n"
        b"X-Skip: 1\r\n\r\n"
    )
    read = read_groups([(FIELD_GROUPS[0], block), (FIELD_GROUPS[1], b"\r\n")], 1000)
    assert read == HeaderRead(
        (
            ("subject", "=?utf-8?q?Caf=C3=A9?="),
            ("references", "<a@x> <b@x>"),
            ("message-id", "<m@x>"),
        )
    )
    text = decode_body(b"Gr=FC=DFe=\r\n!", "Quoted-Printable", "ISO-8859-1", 1000)
    m, notes = message_from_parts(SRC, read, text, False, 1234)
    assert (m.subject, m.message_id, m.thread_key, m.text, m.size) == (
        "Café", "m@x", "a@x", "Grüße!", 1234,
    )  # fmt: skip
    assert notes == []


@pytest.mark.parametrize(
    ("payload", "cte", "charset", "expected"),
    [
        (b"SGVsbG8=", "base64", "utf-8", "Hello"),
        (b"SGVsbG8", "base64", "utf-8", "Hel"),  # truncated base64: whole quanta only
        (b"SGV!s*bG8=", "BASE64", None, "Hello"),
        (b"caf\xe9", "8bit", "iso-8859-1", "café"),
        (b"\x93quoted\x94", None, "windows-1252", "“quoted”"),
        (b"caf\xc3\xa9", "binary", "us-ascii", "café"),
        (b"\xff\xfe", "7bit", "utf-8", "\ufffd\ufffd"),
    ],
)
def test_decode_body(payload: bytes, cte: str | None, charset: str | None, expected: str) -> None:
    assert decode_body(payload, cte, charset, 1000) == expected


def test_decode_words_leaves_plain_text_alone() -> None:
    assert decode_words("Re: plain =? not encoded") == "Re: plain =? not encoded"


def test_rfc2231_encoded_parameters() -> None:
    raw = (
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary*=''b%2D1\n\n"
        b"--b-1\nContent-Type: text/plain; charset*=iso-8859-1''iso-8859-1\n\nK\xf6ln\n--b-1--\n"
    )
    assert parse_message(raw, SRC, LIMITS).text == "Köln"


SMALL = Limits(max_ical_bytes=1000)


@pytest.mark.parametrize(
    "part",
    [
        CalendarPart(b"B" * (calendar_cap(SMALL) + 1), "base64", "utf-8"),
        # IMAP never fetches a part over the cap: its declared size speaks for it.
        CalendarPart(b"", "base64", "utf-8", size=calendar_cap(SMALL) + 1),
    ],
    ids=["held", "declared"],
)
def test_a_calendar_part_over_the_cap_is_an_error_not_a_parse(part: CalendarPart) -> None:
    meetings, errors = carried_meetings([part], SRC, WINDOW, SMALL)
    assert meetings == []
    assert [(e.reason, e.source.provider_id) for e in errors] == [("ical-too-large", "42#calendar")]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<abc.123@mail.example>", "abc.123@mail.example"),
        ("  <abc@x> (comment) <second@x>", "abc@x"),
        ("bare-id@x ", "bare-id@x"),
        ("<>", None),
        ("<a b@x>", None),
        ("<a\u2003b@x>", None),  # EM SPACE: whitespace to str.isspace, so not one id
        ("<a\x1cb@x>", None),  # FILE SEPARATOR, whitespace to str.isspace too
        ("<a\u200bb@x>", "a\u200bb@x"),  # ZERO WIDTH SPACE is not whitespace
        ("", None),
    ],
)
def test_message_id_normalization(header: str, expected: str | None) -> None:
    assert normalize_message_id(header) == expected
