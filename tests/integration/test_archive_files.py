"""What an archive path may hold besides mail: FIFOs, devices, sockets, links out of it."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from connectors.archive.connector import ArchiveConnector
from connectors.records import IngestError, SourceRef
from tests.archives import ACCOUNT, LIMITS, WINDOW, message
from tests.contract import drain
from tests.watchdog import terminates

SECRET = "root:$6$secret-hash-that-must-never-be-stored:19000:0:99999:7:::\n"


def maildir(root: Path) -> Path:
    box = root / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    return box


def test_fifo_socket_and_escaping_links_in_a_maildir_are_errors_beside_good_mail(
    tmp_path: Path,
) -> None:
    box = maildir(tmp_path)
    (box / "cur" / "1772600001.M1P1.host:2,S").write_bytes(message(1))
    os.mkfifo(box / "cur" / "1772600002.M2P1.host:2,S")
    outside = tmp_path / "shadow"
    outside.write_text("From: root@example.org\nSubject: x\n\n" + SECRET)
    (box / "cur" / "1772600003.M3P1.host:2,S").symlink_to(outside)
    (box / "cur" / "1772600004.M4P1.host:2,").symlink_to("/dev/zero")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(box / "new" / "1772600005.M5P1.host"))
        with terminates():
            got = drain(ArchiveConnector(ACCOUNT, [box], WINDOW, LIMITS), str(box), None, 10)
    assert got.identities == ["msgid:m1@example.org"]
    not_regular = "not a regular file (a FIFO, device, socket or link to one); not read"
    escapes = "a symbolic link to a file outside the archive path; not followed"
    assert sorted(got.errors, key=lambda e: e.source.provider_id) == [
        IngestError(SourceRef(ACCOUNT, str(box), f"maildir:{name}"), reason, detail)
        for name, reason, detail in [
            ("1772600002.M2P1.host", "not-a-regular-file", not_regular),
            ("1772600003.M3P1.host", "symlink-outside-archive", escapes),
            ("1772600004.M4P1.host", "symlink-outside-archive", escapes),
            ("1772600005.M5P1.host", "not-a-regular-file", not_regular),
        ]
    ]
    assert all("secret-hash" not in repr(r) for r in got.records)


def test_links_inside_the_folder_are_followed_and_folder_links_out_are_reported(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "export"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "a.eml").write_bytes(message(1))
    (folder / "latest.eml").symlink_to(folder / "2026" / "a.eml")
    os.mkfifo(folder / "pipe.eml")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "private.eml").write_bytes(message(2))
    (folder / "more").symlink_to(elsewhere)
    with terminates():
        got = drain(ArchiveConnector(ACCOUNT, [folder], WINDOW, LIMITS), str(folder), None, 10)
    assert got.identities == ["msgid:m1@example.org", "msgid:m1@example.org"]
    assert sorted((e.source.provider_id.split(":", 2)[2], e.reason) for e in got.errors) == [
        ("more", "symlink-outside-archive"),
        ("pipe.eml", "not-a-regular-file"),
    ]


def test_a_fifo_configured_as_an_mbox_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "All mail.mbox"
    os.mkfifo(fifo)
    with terminates():
        got = drain(ArchiveConnector(ACCOUNT, [fifo], WINDOW, LIMITS), str(fifo), None, 10)
    assert got.records == []
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        ("path", "not-a-regular-file")
    ]
    assert got.errors[0].detail == "a FIFO; only regular files are read"


def test_an_mbox_that_was_a_fifo_is_read_from_its_start_once_it_is_a_file(
    tmp_path: Path,
) -> None:
    fifo = tmp_path / "All mail.mbox"
    os.mkfifo(fifo)
    connector = ArchiveConnector(ACCOUNT, [fifo], WINDOW, LIMITS)
    with terminates():
        first = drain(connector, str(fifo), None, 10)
    fifo.unlink()
    fifo.write_bytes(b"From a@b Tue Mar  3 10:15:00 2026\n" + message(1))
    again = drain(ArchiveConnector(ACCOUNT, [fifo], WINDOW, LIMITS), str(fifo), first.cursor, 10)
    assert (again.identities, again.errors) == (["msgid:m1@example.org"], [])


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # what every .msg file starts with


def test_outlook_files_saved_into_a_folder_are_errors_that_say_what_to_do(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "saved"
    (folder / "2026").mkdir(parents=True)
    (folder / "2026" / "a.eml").write_bytes(message(1))
    (folder / "2026" / "RE Pricing.msg").write_bytes(OLE_MAGIC + os.urandom(512))
    (folder / "Archive.PST").write_bytes(b"!BDN" + os.urandom(512))
    (folder / "notes.txt").write_text("call Dana back")  # not mail: passed over, as before
    connector = ArchiveConnector(ACCOUNT, [folder], WINDOW, LIMITS)
    got = drain(connector, str(folder), None, 10)
    assert got.identities == ["msgid:m1@example.org"]
    instead = "connect the mailbox itself (kind microsoft or imap)"
    assert sorted(
        (e.source.provider_id.split(":", 2)[2], e.reason, e.detail) for e in got.errors
    ) == [
        (
            "2026/RE Pricing.msg",
            "unsupported-format",
            f"an Outlook message (.msg), not read: {instead}, or save the message as .eml",
        ),
        (
            "Archive.PST",
            "unsupported-format",
            f"an Outlook data file (.pst), not read: {instead}, or convert it to mbox",
        ),
    ]
    again = drain(ArchiveConnector(ACCOUNT, [folder], WINDOW, LIMITS), str(folder), got.cursor, 10)
    assert (again.records, again.errors) == ([], [])
