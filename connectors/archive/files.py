"""Which files under an archive path may be read, and reading them without blocking.

Only regular files are read. A FIFO blocks ``open`` until a writer comes
(forever, for an export nobody writes to), a device may never end, a socket
cannot be read at all: each is an ingest error, decided from ``lstat``
before anything is opened. ``open_regular`` opens with O_NONBLOCK and
O_NOFOLLOW anyway, and checks the descriptor again, for a file swapped
between the check and the open.

Folder exports hold mbox files under names of their own: Apple Mail writes
``Name.mbox/mbox`` (with ``Info.plist`` and ``table_of_contents`` beside
it), Thunderbird keeps each folder as an extensionless mbox file with its
``.msf`` index beside it (``Inbox``, ``Inbox.msf``, subfolders in
``Inbox.sbd/``), and an unpacked Takeout has ``*.mbox`` files.
``mbox_members`` finds them so each is read as an mbox of its own, except
the mailboxes no correspondence is kept in (trash, junk, drafts, outbox,
templates), which the IMAP connector never reads either: an export holds
them under the clients' own names (Thunderbird's "Trash", "Junk", "Unsent
Messages"; Apple Mail's "Deleted Messages.mbox").

An MH folder (nmh, Claws Mail, Sylpheed; Python's ``mailbox.MH``) holds one
message per file, named by its number; the Enron corpus writes the same
layout with a trailing dot ("1.", "2."). Such files are read as .eml files
are (``listed_in_folder``), unless a Thunderbird index marks one an mbox.

A symbolic link is followed only when its target is a regular file inside
the configured path: a link in ``Maildir/cur/`` to ``/etc/shadow`` would
otherwise put that file's text into the database as a snippet.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from connectors.base import InvalidInput

MESSAGE_SUFFIXES = (".eml", ".emlx")  # .emlx: Apple Mail's library (``emlx``)
CALENDAR_SUFFIXES = (".ics",)
MBOX_SUFFIXES = (".mbox", ".mbx")
NOT_REGULAR = "not-a-regular-file"
LINK_OUTSIDE = "symlink-outside-archive"
# Outlook's own formats (MAPI properties in OLE or PST containers, no MIME
# inside) are not read. Saved into an archive folder, they must not vanish
# without a word: each is an ingest error that says what to do instead.
UNREAD_FORMAT = "unsupported-format"
_INSTEAD = "connect the mailbox itself (kind microsoft or imap)"
UNREAD_SUFFIXES = {
    ".msg": f"an Outlook message (.msg), not read: {_INSTEAD}, or save the message as .eml",
    ".pst": f"an Outlook data file (.pst), not read: {_INSTEAD}, or convert it to mbox",
    ".ost": f"an Outlook offline cache (.ost), not read: {_INSTEAD}",
    ".olm": f"an Outlook for Mac archive (.olm), not read: {_INSTEAD}, or export to mbox",
}
_NUMBERED = re.compile(r"[0-9]+\.?")
# Mailboxes of an export that hold no correspondence, by the clients' names.
SKIPPED_MAILBOXES = frozenset(
    {
        "trash", "deleted messages", "deleted items", "bin",
        "junk", "junk e-mail", "junk email", "spam", "bulk mail",
        "drafts", "templates", "outbox", "unsent messages",
    }
)  # fmt: skip
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class Entry:
    """A directory entry as listed: the file to open (a link's target) or why not."""

    target: Path
    key: int  # max(mtime_ns, ctime_ns) of the entry itself
    problem: str | None = None  # an ingest error reason; None: a regular file to read


def kind_of(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISLNK, "a symbolic link"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def entry(path: Path, root: Path) -> Entry:
    """What ``path`` (inside the resolved ``root``) is; raises OSError if it vanished."""
    st = os.lstat(path)
    key = max(st.st_mtime_ns, st.st_ctime_ns)
    if stat.S_ISREG(st.st_mode):
        return Entry(path, key)
    if not stat.S_ISLNK(st.st_mode):
        return Entry(path, key, NOT_REGULAR)
    target = Path(os.path.realpath(path))
    if not target.is_relative_to(root):
        return Entry(target, key, LINK_OUTSIDE)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return Entry(target, key, "unreadable")  # a dangling link
    return Entry(target, key, None if stat.S_ISREG(mode) else NOT_REGULAR)


def unread_format(name: str) -> str | None:
    """Why a file named ``name`` is not read for its format, or None."""
    return UNREAD_SUFFIXES.get(os.path.splitext(name)[1].lower())


def problem_detail(reason: str, name: str = "") -> str:
    if reason == UNREAD_FORMAT:
        return unread_format(name) or "a format that is not read"
    if reason == LINK_OUTSIDE:
        return "a symbolic link to a file outside the archive path; not followed"
    if reason == NOT_REGULAR:
        return "not a regular file (a FIFO, device, socket or link to one); not read"
    return "a symbolic link whose target is missing"


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading if it is a regular file; ``InvalidInput`` otherwise."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise InvalidInput("unreadable", exc.strerror or type(exc).__name__) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInput(NOT_REGULAR, f"{kind_of(st.st_mode)}; only regular files are read")
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InvalidInput("unreadable", exc.strerror or type(exc).__name__) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # replaced since the lstat
        os.close(fd)
        raise InvalidInput(NOT_REGULAR, f"{kind_of(mode)}; only regular files are read")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_regular(path: Path, cap: int, too_large: str) -> tuple[bytes, datetime]:
    """The bytes of a regular file of at most ``cap`` bytes and its modification
    time; ``InvalidInput`` otherwise."""
    with open_regular(path) as f:
        st = os.fstat(f.fileno())
        if st.st_size > cap:
            raise InvalidInput(too_large, f"over {cap} bytes")
        data = f.read(cap + 1)
    if len(data) > cap:  # grew since the fstat
        raise InvalidInput(too_large, f"over {cap} bytes")
    return data, modified(st)


def modified(st: os.stat_result) -> datetime:
    return datetime.fromtimestamp(st.st_mtime, UTC)


def walk(top: Path) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk`` as every archive listing prunes it: hidden folders and the
    mailboxes that hold no correspondence (``skipped_mailbox``) are not entered.
    A caller may prune ``dirnames`` further."""
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(
            d for d in dirnames if not d.startswith(".") and not skipped_mailbox(d)
        )
        yield dirpath, dirnames, filenames


def mbox_members(root: Path) -> list[Path]:
    """The mbox files of a folder export (see the module docstring), in path order;
    only regular files inside ``root`` (a link out of it is never a member)."""
    real_root = Path(os.path.realpath(root))
    found: list[Path] = []
    for dirpath, _, filenames in walk(root):
        names = set(filenames)
        for name in sorted(filenames):
            if name.startswith(".") or not _is_mbox_member(name, dirpath, names):
                continue
            if skipped_mailbox(os.path.basename(dirpath) if name == "mbox" else name):
                continue
            try:
                if entry(Path(dirpath) / name, real_root).problem is None:
                    found.append(Path(dirpath) / name)
            except OSError:
                continue  # vanished while listed
    return found


def listed_in_folder(name: str, siblings: Collection[str]) -> bool:
    """Whether a folder's listing reads the file ``name`` (beside ``siblings``) as
    one item: an .eml or .ics file, or a numbered message of an MH folder."""
    if name.lower().endswith(MESSAGE_SUFFIXES + CALENDAR_SUFFIXES):
        return True
    return _NUMBERED.fullmatch(name) is not None and f"{name}.msf" not in siblings


def skipped_mailbox(name: str) -> bool:
    """A trash, junk, drafts... mailbox: "Trash", "Junk.mbox", "Trash.sbd" (its subfolders)."""
    stem = name
    for suffix in (*MBOX_SUFFIXES, ".sbd"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem.strip().lower() in SKIPPED_MAILBOXES


def _is_mbox_member(name: str, folder: str, siblings: set[str]) -> bool:
    if name == "mbox" and folder.lower().endswith(".mbox"):
        return True  # Apple Mail
    return name.lower().endswith(MBOX_SUFFIXES) or f"{name}.msf" in siblings  # Takeout, Thunderbird


def no_mail_reason(path: Path) -> str | None:
    """Why a configured archive path gives no mail at all, or None when it holds some.

    Cheap: it stops at the first file it would read and never parses one.
    A path that does not exist is not judged here (config says so itself).
    """
    try:
        st = os.stat(path)  # the configured path itself: a link to it is what was configured
    except OSError:
        return None
    if stat.S_ISDIR(st.st_mode):
        if _folder_holds_mail(path):
            return None
        outlook = _unread_suffixes(path)
        if outlook:
            return (
                f"holds only Outlook files ({', '.join(outlook)}), which are not read: {_INSTEAD}"
            )
        return (
            "holds no .eml, .ics or mbox file, Maildir, MH folder, Apple Mail or Thunderbird export"
        )
    if not stat.S_ISREG(st.st_mode):
        return f"is {kind_of(st.st_mode)}: only regular files and folders are read"
    if st.st_size == 0:
        return "is empty"
    if path.suffix.lower() in MESSAGE_SUFFIXES + CALENDAR_SUFFIXES:
        return None
    try:
        with open_regular(Path(os.path.realpath(path))) as f:
            start = f.read(5)
    except InvalidInput as exc:
        return exc.detail
    return None if start == b"From " else 'is no mbox file: it does not start with "From "'


def _unread_suffixes(path: Path) -> list[str]:
    """The Outlook suffixes (".msg", ...) of the files a folder listing would report."""
    found: set[str] = set()
    for _, _, filenames in walk(path):  # as the listing walks
        found.update(
            os.path.splitext(n)[1].lower()
            for n in filenames
            if not n.startswith(".") and unread_format(n) is not None
        )
    return sorted(found)


def _folder_holds_mail(path: Path) -> bool:
    if all((path / d).is_dir() for d in ("cur", "new", "tmp")):  # a Maildir
        return any(any(not n.startswith(".") for n in os.listdir(path / d)) for d in ("cur", "new"))
    for _, _, filenames in walk(path):
        if any(listed_in_folder(n, filenames) and not n.startswith(".") for n in filenames):
            return True
    return bool(mbox_members(path))
