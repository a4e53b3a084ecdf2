"""Folder exports of desktop mail clients (Apple Mail, Thunderbird, MH), as they lay out files."""

from __future__ import annotations

import mailbox
from datetime import UTC, datetime
from pathlib import Path

from connectors.archive.connector import ArchiveConnector
from connectors.archive.files import no_mail_reason
from connectors.base import Window
from tests.archives import (
    ACCOUNT,
    LIMITS,
    WINDOW,
    apple_mail_export,
    apple_mail_library,
    enron_maildir,
    mbox,
    mh_folder,
    takeout_mbox,
    thunderbird_profile,
)
from tests.contract import drain


def capture(path: Path, window: Window = WINDOW) -> dict[str, list[str]]:
    connector = ArchiveConnector(ACCOUNT, [path], window, LIMITS)
    found = {}
    for stream in connector.streams():
        got = drain(connector, stream, None, 10)
        assert got.errors == []
        found[str(Path(stream).relative_to(path)) if stream != str(path) else "."] = [
            r.identity for r in got.records
        ]
    return found


def test_apple_mail_export_folder_is_read_mailbox_by_mailbox(tmp_path: Path) -> None:
    export = apple_mail_export(tmp_path)
    assert capture(export) == {
        ".": [],
        "Clients/Acme.mbox/mbox": ["msgid:m3@example.org"],
        "Inbox.mbox/mbox": ["msgid:m1@example.org", "msgid:m2@example.org"],
    }
    # A single exported mailbox configured on its own reads the same way.
    assert capture(export / "Inbox.mbox") == {
        ".": [],
        "mbox": ["msgid:m1@example.org", "msgid:m2@example.org"],
    }
    assert no_mail_reason(export) is None


def test_thunderbird_folders_are_read_and_resumed_by_a_fresh_connector(tmp_path: Path) -> None:
    folders = thunderbird_profile(tmp_path)
    assert capture(folders) == {
        ".": [],
        "Inbox": ["msgid:m4@example.org", "msgid:m5@example.org"],
        "Inbox.sbd/Acme": ["msgid:m7@example.org"],
        "Sent": ["msgid:m6@example.org"],
    }
    inbox = str(folders / "Inbox")
    first = drain(ArchiveConnector(ACCOUNT, [folders], WINDOW, LIMITS), inbox, None, 10)
    with (folders / "Inbox").open("ab") as f:
        f.write(mbox(8))
    # The agent restarts between polls: a new connector resumes the found stream.
    again = drain(ArchiveConnector(ACCOUNT, [folders], WINDOW, LIMITS), inbox, first.cursor, 10)
    assert again.identities == ["msgid:m8@example.org"]


def test_mh_folders_are_read_message_by_message_as_the_stdlib_reads_them(tmp_path: Path) -> None:
    folder = mh_folder(tmp_path)
    assert capture(folder) == {
        ".": [
            "msgid:m11@example.org",
            "msgid:m12@example.org",
            "msgid:m13@example.org",
            "msgid:m14@example.org",
        ]
    }
    # The standard library's reader sees the same messages in the folder and its subfolder.
    box = mailbox.MH(folder, create=False)
    stdlib = [m["Message-ID"] for m in box]
    stdlib += [m["Message-ID"] for m in box.get_folder("clients")]
    assert sorted(stdlib) == [f"<m{n}@example.org>" for n in (11, 12, 13, 14)]
    assert no_mail_reason(folder) is None


def test_the_enron_corpus_layout_is_read(tmp_path: Path) -> None:
    top = enron_maildir(tmp_path)
    since_2000 = Window(datetime(2000, 1, 1, tzinfo=UTC), WINDOW.until)
    assert sorted(capture(top, since_2000)["."]) == [
        f"msgid:m{n}@example.org" for n in (21, 22, 23)
    ]
    assert no_mail_reason(top) is None


def test_a_numbered_thunderbird_folder_is_an_mbox_not_a_message(tmp_path: Path) -> None:
    folders = tmp_path / "Local Folders"
    folders.mkdir()
    (folders / "2024").write_bytes(mbox(31, 32))
    (folders / "2024.msf").write_bytes(b'// <!-- <mdb:mork:z v="1.4"/> -->\n')
    assert capture(folders) == {
        ".": [],
        "2024": ["msgid:m31@example.org", "msgid:m32@example.org"],
    }


def test_paths_that_give_no_mail_say_why(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("call Renee\n")
    (notes / "Inbox").write_bytes(mbox(1))  # no .msf beside it: not known to be mail
    empty = tmp_path / "All mail.mbox"
    empty.write_bytes(b"")
    text = tmp_path / "export.mbox"
    text.write_text("Subject: not an mbox\n")
    outlook = tmp_path / "Outlook saves"
    (outlook / "2026").mkdir(parents=True)
    (outlook / "2026" / "RE Pricing.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    (outlook / "backup.pst").write_bytes(b"!BDN")
    assert {p.name: no_mail_reason(p) for p in (notes, empty, text, outlook)} == {
        "notes": "holds no .eml, .ics or mbox file, Maildir, MH folder, Apple Mail or "
        "Thunderbird export",
        "All mail.mbox": "is empty",
        "export.mbox": 'is no mbox file: it does not start with "From "',
        "Outlook saves": "holds only Outlook files (.msg, .pst), which are not read: "
        "connect the mailbox itself (kind microsoft or imap)",
    }
    assert no_mail_reason(thunderbird_profile(tmp_path)) is None


def test_takeout_spam_trash_chats_and_drafts_stay_out_as_over_the_gmail_api(
    tmp_path: Path,
) -> None:
    mbox_path = tmp_path / "All mail Including Spam and Trash.mbox"
    mbox_path.write_bytes(
        takeout_mbox(
            (41, "Inbox,Important,Opened"),
            (42, "Spam,Category Promotions,Unread"),
            (43, "Sent,Opened"),
            (44, "Trash"),
            (45, "Chat,Family/Jessica"),
            (46, "Drafts"),
            (47, "Archived,\n Category Updates,Opened"),  # a folded field
            (48, "Opened,Clients/Spam filters"),  # a label of the user's own
        )
    )
    assert capture(mbox_path) == {
        ".": [f"msgid:m{n}@example.org" for n in (41, 43, 47, 48)],
    }


def test_apple_mails_library_is_read_from_its_emlx_files(tmp_path: Path) -> None:
    library = apple_mail_library(tmp_path)
    got = drain(ArchiveConnector(ACCOUNT, [library], WINDOW, LIMITS), str(library), None, 10)
    # Junk and Deleted Messages hold no correspondence; a broken file is an ingest error.
    assert sorted(got.identities) == ["msgid:m101@example.org", "msgid:m102@example.org"]
    assert [(e.reason, e.detail) for e in got.errors] == [
        ("bad-emlx", "the first line is no byte count")
    ]
    assert no_mail_reason(library) is None
