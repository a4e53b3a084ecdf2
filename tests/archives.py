"""Archives as mail programs leave them on disk: mbox lines, exports, profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from connectors.base import Limits, Window

WINDOW = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


LIMITS = Limits()


ACCOUNT = "ann@example.com"


FROM_LINE = b"From MAILER-DAEMON Tue Mar  3 10:15:00 2026\n"


def message(n: int, date: str = "Tue, 03 Mar 2026 10:15:00 +0000", body: str = "") -> bytes:
    return (
        f"From: Sender {n} <s{n}@example.org>\nTo: Ann <ann@example.com>\n"
        f"Subject: item {n}\nDate: {date}\nMessage-ID: <m{n}@example.org>\n\n"
        f"Hello {n}\n{body}"
    ).encode()


PLIST = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict/></plist>\n'


def mbox(*numbers: int) -> bytes:
    return b"".join(FROM_LINE + message(n) + b"\n" for n in numbers)


def mozilla(n: int, status: str) -> bytes:
    """A message as Thunderbird keeps it in a local folder, with its status flags."""
    return (
        FROM_LINE
        + f"X-Mozilla-Status: {status}\nX-Mozilla-Status2: 00000000\n".encode()
        + (message(n) + b"\n")
    )


def apple_mail_export(root: Path) -> Path:
    """File > Export Mailbox in Apple Mail: one Name.mbox folder per mailbox."""
    export = root / "Mail export"
    # Junk and Drafts are exported too; no correspondence is kept in them.
    mailboxes = (("Inbox.mbox", (1, 2)), ("Clients/Acme.mbox", (3,)), ("Junk.mbox", (91,)))
    for folder, numbers in (*mailboxes, ("Drafts.mbox", (92,))):
        box = export / folder
        box.mkdir(parents=True)
        (box / "mbox").write_bytes(mbox(*numbers))
        (box / "Info.plist").write_bytes(PLIST)
        (box / "table_of_contents").write_bytes(b"\x00\x00\x00\x03toc")
    return export


def thunderbird_profile(root: Path) -> Path:
    """A profile's "Local Folders": extensionless mbox files with .msf indexes beside."""
    folders = root / "profile.default" / "Mail" / "Local Folders"
    (folders / "Inbox.sbd").mkdir(parents=True)
    # Thunderbird marks what is deleted (expunged, 0x0008) and keeps it until compaction.
    (folders / "Inbox").write_bytes(mozilla(4, "0001") + mozilla(97, "0009") + mbox(5))
    (folders / "Sent").write_bytes(mbox(6))
    (folders / "Inbox.sbd" / "Acme").write_bytes(mbox(7))
    # Thunderbird's own Trash (with a deleted folder in it), Junk and Unsent Messages.
    (folders / "Trash.sbd").mkdir()
    (folders / "Trash").write_bytes(mbox(93))
    (folders / "Trash.sbd" / "Old").write_bytes(mbox(94))
    (folders / "Junk").write_bytes(mbox(95))
    (folders / "Unsent Messages").write_bytes(mbox(96))
    for index in (
        "Inbox.msf",
        "Sent.msf",
        "Inbox.sbd/Acme.msf",
        "Trash.msf",
        "Trash.sbd/Old.msf",
        "Junk.msf",
        "Unsent Messages.msf",
    ):
        (folders / index).write_bytes(b'// <!-- <mdb:mork:z v="1.4"/> -->\n')
    (folders / "msgFilterRules.dat").write_text('version="9"\nlogging="no"\n')
    (folders / "popstate.dat").write_text("# POP3 State File\n")
    return folders


def mh_folder(root: Path) -> Path:
    """An MH folder as nmh and Claws Mail keep it: one message per numbered file,
    sequences in a dot file, subfolders as folders; numbers have gaps after deletes."""
    folder = root / "Mail" / "inbox"
    (folder / "clients").mkdir(parents=True)
    for number, n in ((1, 11), (2, 12), (10, 13)):
        (folder / str(number)).write_bytes(message(n))
    (folder / "clients" / "3").write_bytes(message(14))
    (folder / ".mh_sequences").write_text("unseen: 2 10\n")
    (folder / "clients" / ".mh_sequences").write_text("")
    (folder / ".claws_mark").write_bytes(b"\x02\x00\x00\x00")
    (folder / "2.orig").write_bytes(message(99))  # an editor's backup: not a message file
    return folder


def enron_maildir(root: Path) -> Path:
    """The Enron corpus's layout: maildir/<person>/<folder>/<n>. files (a trailing dot),
    which is no Maildir (no cur/new/tmp)."""
    top = root / "maildir"
    for path, n in (("allen-p/inbox/1.", 21), ("allen-p/inbox/2.", 22), ("allen-p/sent/1.", 23)):
        (top / path).parent.mkdir(parents=True, exist_ok=True)
        dated = message(n, date="Mon, 14 May 2001 16:39:00 -0700 (PDT)")
        (top / path).write_bytes(dated.replace(b"\n", b"\r\n"))
    return top


def takeout_mbox(*labelled: tuple[int, str]) -> bytes:
    """Google Takeout's "All mail Including Spam and Trash.mbox": Gmail's thread
    id and labels above each message's own header."""
    return b"".join(
        f"From 1869546606810630{n:03d}@xxx Wed Jul 01 21:43:02 +0000 2026\n"
        f"X-GM-THRID: 1869546606810630{n:03d}\nX-Gmail-Labels: {labels}\n".encode()
        + message(n)
        + b"\n"
        for n, labels in labelled
    )


def emlx(n: int) -> bytes:
    """An Apple Mail library message: its length, the message, Apple Mail's flags."""
    body = message(n)
    plist = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict>'
    plist += b"<key>flags</key><integer>8590195713</integer></dict></plist>\n"
    return f"{len(body)}\n".encode() + body + plist


def apple_mail_library(root: Path) -> Path:
    """~/Library/Mail/V10 as Apple Mail keeps it: .emlx files deep in each mailbox."""
    library = root / "Library" / "Mail" / "V10" / "6F1A2B3C-ACCOUNT"
    for mailbox, name, data in (
        ("INBOX.mbox", "101.emlx", emlx(101)),
        ("Sent Messages.mbox", "102.partial.emlx", emlx(102)),
        ("Junk.mbox", "103.emlx", emlx(103)),
        ("Deleted Messages.mbox", "104.emlx", emlx(104)),
        ("INBOX.mbox", "105.emlx", b"not a length\n" + message(105)),
    ):
        messages = library / mailbox / "9A8B7C6D-STORE" / "Data" / "1" / "Messages"
        messages.mkdir(parents=True, exist_ok=True)
        (messages / name).write_bytes(data)
    (library / "INBOX.mbox" / "Info.plist").write_bytes(PLIST)
    return library
