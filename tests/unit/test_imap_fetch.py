"""The IMAP connector's FETCH reader and copy naming, on recorded server bytes.

``Replay`` stands in for imaplib's connection with the three documented
methods the reader uses (``send``, ``readline``, ``read``), serving bytes as
Dovecot sent them; the command the reader sends is kept for inspection.
"""

from __future__ import annotations

import imaplib
import io
import re

import pytest

from connectors.base import InvalidInput, TransientError
from connectors.imap.fetch import HEADER_SECTION, FolderCapture, uid_fetch
from connectors.records import Message


class Replay:
    """Serves one recorded reply per command sent, in order."""

    def __init__(self, *replies: bytes) -> None:
        self.replies = list(replies)
        self.sent = b""
        self._stream: io.BytesIO | None = None

    def send(self, data: bytes) -> None:
        self.sent += data
        tag = data.split(b" ", 1)[0]
        self._stream = io.BytesIO(self.replies.pop(0).replace(b"TAG", tag))

    def readline(self) -> bytes:
        assert self._stream is not None
        return self._stream.readline()

    def read(self, size: int) -> bytes:
        assert self._stream is not None
        return self._stream.read(size)


def fetch(reply: bytes, max_literal: int = 1000) -> tuple[dict[int, dict[bytes, object]], bytes]:
    server = Replay(reply)
    got = uid_fetch(server, [3, 4, 5, 9], "UID BODY.PEEK[1]<0.100>", max_literal)  # type: ignore[arg-type]
    return got, server.sent


def test_reads_literals_and_skips_other_untagged_responses() -> None:
    got, sent = fetch(
        b"* 2 EXISTS\r\n"
        b"* 1 FETCH (UID 3 BODY[1]<0> {5}\r\nhello)\r\n"
        b"* OK [HIGHESTMODSEQ 9] still here\r\n"
        b"* 2 FETCH (UID 4 BODY[1]<0> {0}\r\n)\r\n"
        b"* 3 FETCH (FLAGS (\\Seen) UID 9 BODY[1]<0> NIL)\r\n"
        b"TAG OK Fetch completed.\r\n"
    )
    assert re.fullmatch(rb"AC\d+ UID FETCH 3:5,9 \(UID BODY\.PEEK\[1\]<0\.100>\)\r\n", sent)
    assert got == {
        3: {b"UID": b"3", b"BODY[1]<0>": b"hello"},
        4: {b"UID": b"4", b"BODY[1]<0>": b""},
        9: {b"FLAGS": [b"\\Seen"], b"UID": b"9", b"BODY[1]<0>": None},
    }


def test_a_literal_larger_than_asked_for_is_refused_before_it_is_read() -> None:
    with pytest.raises(imaplib.IMAP4.abort, match="exceeds"):
        fetch(b"* 1 FETCH (UID 3 BODY[1]<0> {999999999}\r\n", max_literal=1000)


@pytest.mark.parametrize(
    "reply",
    [
        b"* 1 FETCH (UID 3 BODY[1]<0> {5}\r\nhel",  # the connection ends inside a literal
        b"* 1 FETCH (UID 3 BODY[1]<0> {5}\r\nhello)",  # ... before the line ends
        b"",  # ... before anything
    ],
)
def test_a_cut_reply_is_a_dropped_connection(reply: bytes) -> None:
    with pytest.raises(imaplib.IMAP4.abort):
        fetch(reply)


def test_a_reply_read_whole_but_unparseable_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        fetch(b"* 1 FETCH (UID 3 BODY[1]<0> (((\r\nTAG OK done\r\n")
    assert caught.value.reason == "imap-protocol"


HEADER = b"Message-ID: <m3@x.ex>\r\n\r\n"
GOOD = (
    b'* 1 FETCH (UID 3 RFC822.SIZE 90 BODYSTRUCTURE ("text" "plain" ("charset" "utf-8")'
    b' NIL NIL "7bit" 5 1 NIL NIL NIL NIL) BODY[%s]<0> {%d}\r\n%s)\r\n'
    % (HEADER_SECTION.encode(), len(HEADER), HEADER)
)


def test_a_message_whose_reply_cannot_be_parsed_is_an_error_and_the_chunk_goes_on() -> None:
    good = GOOD
    bad = b"* 2 FETCH (UID 4 BODYSTRUCTURE ((( X)\r\n"
    server = Replay(
        good + bad + b"TAG OK done\r\n",  # the chunk's structure FETCH: unparseable as a whole
        good + b"TAG OK done\r\n",  # UID 3 alone
        bad + b"TAG OK done\r\n",  # UID 4 alone: this one is the culprit
        b"* 1 FETCH (UID 3 BODY[1]<0> {5}\r\nhello)\r\nTAG OK done\r\n",  # UID 3's text
    )
    folder = FolderCapture("rep", "INBOX", 17, gmail=False, text_bytes=100)
    records, errors = folder.capture(server, [3, 4], 500)  # type: ignore[arg-type]
    assert [(r.identity, r.text) for r in records] == [("msgid:m3@x.ex", "hello")]  # type: ignore[union-attr]
    assert [(e.source.provider_id, e.reason) for e in errors] == [("INBOX/17/4", "imap-protocol")]
    assert server.replies == []


def test_a_refused_fetch_is_transient() -> None:
    with pytest.raises(TransientError):
        fetch(b"TAG NO [SERVERBUG] Internal error\r\n")


def test_copies_are_named_by_folder_and_identity_or_by_gmail_message_id() -> None:
    folder = FolderCapture("rep", "INBOX", 17, gmail=True, text_bytes=100)
    assert folder.source(5, {}, "msgid:a@x").provider_id == "INBOX/msgid:a@x"
    # X-GM-MSGID is the same in every Gmail folder: one copy, whatever the folder.
    gmail = {b"X-GM-MSGID": b"1278455344230334865"}
    assert folder.source(5, gmail, "msgid:a@x").provider_id == "gm:1278455344230334865"
    sent = FolderCapture("rep", "[Gmail]/Sent Mail", 3, gmail=True, text_bytes=100)
    assert sent.source(99, gmail, "msgid:a@x").provider_id == "gm:1278455344230334865"
    # Without an identity (an unparseable message) only the UID names it.
    assert folder.source(5, {}).provider_id == "INBOX/17/5"


def _header_reply(uid: int, section: str, block: bytes, cap: int) -> bytes:
    """One message's reply to a header FETCH: ``block`` cut where the partial fetch cuts."""
    sent = block[:cap]
    return b"* %d FETCH (UID %d BODY[%s]<0> {%d}\r\n%s)\r\n" % (
        uid,
        uid,
        section.encode(),
        len(sent),
        sent,
    )


def test_fields_past_the_limit_are_fetched_again_by_group() -> None:
    """10,000 recipients push From and Date out of one capped section; by group they
    stay, the recipients are read up to the limit and a note says so. A message
    expunged between the two FETCHes is left out, not captured without fields."""
    from connectors.base import Limits
    from connectors.imap.fetch import GROUP_SECTIONS

    limit = 400
    recipients = b"To: " + b", ".join(b"r%d@big.example" % i for i in range(60)) + b"\r\n"
    other = b"From: Ann <ann@x.ex>\r\nDate: Mon, 2 Mar 2026 10:00:00 +0000\r\n"
    other += b"Message-ID: <big@x.ex>\r\n"
    whole = recipients + other + b"\r\n"  # the server answers in message order
    structure = (
        b'BODYSTRUCTURE ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 0 0 NIL NIL NIL NIL)'
    )
    meta = b"".join(
        _header_reply(uid, HEADER_SECTION, whole, limit + 1).replace(
            b"FETCH (UID %d " % uid, b"FETCH (UID %d %s " % (uid, structure)
        )
        for uid in (3, 4)
    )
    grouped = (
        b"* 1 FETCH (UID 3 BODY[%s]<0> {%d}\r\n%s BODY[%s]<0> {%d}\r\n%s BODY[%s]<0> {2}\r\n\r\n)\r\n"
        % (
            GROUP_SECTIONS[0].encode(),
            len(other + b"\r\n"),
            other + b"\r\n",
            GROUP_SECTIONS[1].encode(),
            limit + 1,
            (recipients + b"\r\n")[: limit + 1],
            GROUP_SECTIONS[2].encode(),
        )
    )
    server = Replay(meta + b"TAG OK done\r\n", grouped + b"TAG OK done\r\n")
    folder = FolderCapture(
        "rep", "INBOX", 17, gmail=False, text_bytes=100, limits=Limits(max_header_bytes=limit)
    )
    records, errors = folder.capture(server, [3, 4], 500)  # type: ignore[arg-type]

    (record,) = records
    assert isinstance(record, Message)
    assert record.identity == "msgid:big@x.ex"
    headers = dict(record.headers)
    assert headers["from"] == "Ann <ann@x.ex>"
    read = headers["to"].split(", ")
    assert read == [f"r{i}@big.example" for i in range(len(read))] and 10 < len(read) < 60
    assert [(e.source.provider_id, e.reason) for e in errors] == [
        ("INBOX/msgid:big@x.ex", "header-truncated")
    ]
    first, second = server.sent.splitlines()
    assert b"UID FETCH 3:4 (UID RFC822.SIZE" in first and HEADER_SECTION.encode() in first
    assert b"UID FETCH 3:4 (" in second
    assert all(section.encode() in second for section in GROUP_SECTIONS)
    assert server.replies == []
