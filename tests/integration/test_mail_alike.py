"""The same raw message through the archive and through a real Dovecot gives the same record.

Each case is stored once as an .eml file and once by IMAP APPEND (with an
arrival time), then read by both connectors: identity, header fields, date,
subject and the ingest notes must agree.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors.archive.connector import ArchiveConnector
from connectors.base import Limits, Window
from connectors.records import Address, IngestError, Message
from matcher.addresses import parse_address_list
from tests.contract import drain
from tests.imap_client import connector_for
from tests.servers.dovecot import MailUser

pytestmark = pytest.mark.server

WINDOW = Window(datetime(2025, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC))
ARRIVED = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # IMAP INTERNALDATE and the file's mtime


def read_both(
    dovecot: MailUser, tmp_path: Path, raw: bytes, mailbox: str = "INBOX"
) -> tuple[tuple[list[Message], list[IngestError]], tuple[list[Message], list[IngestError]]]:
    folder = tmp_path / "export"
    folder.mkdir(parents=True)
    (folder / "mail.eml").write_bytes(raw)
    os.utime(folder / "mail.eml", (ARRIVED.timestamp(), ARRIVED.timestamp()))
    archive = drain(ArchiveConnector("a", [folder], WINDOW, Limits()), str(folder), None, 9)
    with dovecot.client() as client:
        if not client.folder_exists(mailbox):
            client.create_folder(mailbox)
        client.append(mailbox, raw, msg_time=ARRIVED)
    imap = connector_for(dovecot, window=WINDOW, folders=[mailbox])
    try:
        fetched = drain(imap, mailbox, None, 9)
    finally:
        imap.close()
    return (
        ([r for r in archive.records if isinstance(r, Message)], archive.errors),
        ([r for r in fetched.records if isinstance(r, Message)], fetched.errors),
    )


def seen(message: Message) -> tuple[object, ...]:
    return (message.identity, message.headers, message.date, message.subject)


def notes(errors: list[IngestError]) -> list[tuple[str, str]]:
    return sorted((e.reason, e.detail) for e in errors)


def test_control_bytes_in_addresses_read_alike_and_are_left_out(
    dovecot: MailUser, tmp_path: Path
) -> None:
    # No Message-ID: the identity is a digest of the header text, which must
    # not depend on Dovecot handing a stored NUL back as 0x80.
    raw = (
        b"From: Eve Adams <eve\x00@globex.example>\r\n"
        b"To: Alice <alice@northwind-labs.example>, Mallory <mal\x01lory@globex.example>\r\n"
        b"Cc: \xc3\x89lodie Roux <elodie@globex.example>\r\n"
        b"Subject: Renewal\r\nDate: Tue, 03 Nov 2026 09:00:00 +0100\r\n\r\nHello\r\n"
    )
    (archived, archive_errors), (fetched, imap_errors) = read_both(dovecot, tmp_path, raw)
    assert [seen(m) for m in archived] == [seen(m) for m in fetched]
    [message] = archived
    assert message.header("from") == "Eve Adams <eve\ufffd@globex.example>"
    assert message.header("cc") == "Élodie Roux <elodie@globex.example>"
    detail = (
        "control characters in an address, left out "
        "(from: eve?@globex.example; to: mal?lory@globex.example)"
    )
    assert notes(archive_errors) == notes(imap_errors) == [("bad-address", detail)]
    # Neither becomes a participant that prints like the real address.
    assert parse_address_list(message.header("from") or "") == []
    assert [a.email for a in parse_address_list(message.header("to") or "")] == [
        "alice@northwind-labs.example"
    ]
    assert Address.of("eve\u0080@globex.example") is None


def test_ten_thousand_recipients_are_read_up_to_the_limit(
    dovecot: MailUser, tmp_path: Path
) -> None:
    recipients = ",\r\n ".join(
        f"Member {n} <member{n}@lists.globex.example>" for n in range(10_000)
    )
    raw = (
        f"From: Globex All Hands <allhands@globex.example>\r\nTo: {recipients}\r\n"
        "Subject: Q4 all hands\r\nDate: Tue, 03 Nov 2026 09:00:00 +0100\r\n"
        "Message-ID: <allhands-q4@globex.example>\r\n\r\nSee you there.\r\n"
    ).encode()
    assert len(raw) > Limits().max_header_bytes
    (archived, archive_errors), (fetched, imap_errors) = read_both(dovecot, tmp_path, raw)
    assert [seen(m) for m in archived] == [seen(m) for m in fetched]
    [message] = archived
    assert (message.identity, message.subject) == (
        "msgid:allhands-q4@globex.example",
        "Q4 all hands",
    )
    to = parse_address_list(message.header("to") or "", max_addresses=20_000, max_chars=10**6)
    # About 48.6 bytes an entry: 5,395 whole entries fit in 256 KiB.
    assert [a.email for a in to[:2]] == [
        "member0@lists.globex.example",
        "member1@lists.globex.example",
    ]
    assert len(to) == 5395 and to[-1].email == "member5394@lists.globex.example"
    detail = "To/Cc/Bcc over 262144 bytes: read up to the limit"
    assert notes(archive_errors) == notes(imap_errors) == [("header-truncated", detail)]


def test_mail_without_a_date_is_dated_by_received_then_by_arrival(
    dovecot: MailUser, tmp_path: Path
) -> None:
    relayed = (
        b"Received: from mx.globex.example by mail.northwind-labs.example; "
        b"Tue, 3 Nov 2026 10:02:11 +0100\r\n"
        b"Received: from laptop by mx.globex.example; Tue, 3 Nov 2026 10:01:00 +0100\r\n"
        b"From: renee@globex.example\r\nTo: alice@northwind-labs.example\r\n"
        b"Subject: Quote\r\nDate: sometime on Tuesday\r\n\r\nHello\r\n"
    )
    (archived, archive_errors), (fetched, imap_errors) = read_both(
        dovecot, tmp_path / "relayed", relayed
    )
    assert (
        [m.date for m in archived]
        == [m.date for m in fetched]
        == [datetime(2026, 11, 3, 9, 2, 11, tzinfo=UTC)]
    )
    why = "unreadable Date header 'sometime on Tuesday'; dated by the newest Received header"
    assert notes(archive_errors) == notes(imap_errors) == [("date-from-received", why)]
    assert "received" not in {name for name, _ in archived[0].headers}

    bare = b"From: renee@globex.example\r\nSubject: Quote 2\r\n\r\nHello\r\n"
    (archived, archive_errors), (fetched, imap_errors) = read_both(
        dovecot, tmp_path / "bare", bare, "Bare"
    )
    assert [m.date for m in archived] == [m.date for m in fetched] == [ARRIVED]
    assert notes(archive_errors) == [
        ("date-from-file", "no Date header; dated by the file's modification time")
    ]
    assert notes(imap_errors) == [
        ("date-from-server", "no Date header; dated by the server's arrival time (INTERNALDATE)")
    ]


@pytest.mark.parametrize(
    "raw",
    [
        b"X-Scanner: clean\r\nContent-Type: text/plain\r\n\r\nno identity\r\n",
        b"X-Junk: " + b"j" * 300_000 + b"\r\n\r\nbody\r\n",
    ],
    ids=["no-identifying-field", "300k-of-other-fields"],
)
def test_items_without_identifying_fields_are_errors_on_both(
    dovecot: MailUser, tmp_path: Path, raw: bytes
) -> None:
    (archived, archive_errors), (fetched, imap_errors) = read_both(dovecot, tmp_path, raw)
    assert archived == fetched == []
    expected = [("not-a-message", "no Message-ID, From, To, Date or Subject field")]
    assert notes(archive_errors) == notes(imap_errors) == expected


def test_enron_x_fields_arrive_alike_and_name_the_bare_addresses(
    dovecot: MailUser, tmp_path: Path
) -> None:
    from matcher import extract
    from matcher.plan import AccountPolicy

    raw = (
        b"Message-ID: <15464986.1075855378456.JavaMail.evans@thyme>\r\n"
        b"Date: Fri, 4 Nov 2026 13:51:00 -0700 (PDT)\r\n"
        b"From: phillip.allen@enron.com\r\n"
        b"To: john.lavorato@enron.com, jeff.richter@enron.com\r\nSubject: Re:\r\n"
        b"X-From: Phillip K Allen\r\n"
        b"X-To: John J Lavorato <John J Lavorato/ENRON@enronXgate@ENRON>, Jeff Richter\r\n"
        b"X-cc: \r\nX-bcc: \r\nX-Origin: Allen-P\r\n\r\n"
        b"Traveling to have a business meeting takes the fun out of the trip.\r\n"
    )
    (archived, _), (fetched, _) = read_both(dovecot, tmp_path, raw)
    assert [seen(m) for m in archived] == [seen(m) for m in fetched]
    policy = AccountPolicy("a", frozenset({"phillip.allen@enron.com"}))
    for messages in (archived, fetched):
        (found,) = extract(messages, policy)
        assert [(p.email, p.address.name) for p in found.participants] == [
            ("phillip.allen@enron.com", "Phillip K Allen"),
            ("john.lavorato@enron.com", "John J Lavorato"),
            ("jeff.richter@enron.com", "Jeff Richter"),
        ]
