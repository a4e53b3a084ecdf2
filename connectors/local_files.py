"""Which files under an archive path may be read, and reading them without blocking.

Only regular files are read. A FIFO blocks ``open`` until a writer comes
(forever, for an export nobody writes to), a device may never end, a socket
cannot be read at all: each is an ingest error, decided from ``lstat``
before anything is opened. ``open_regular`` opens with O_NONBLOCK and
O_NOFOLLOW anyway, and checks the descriptor again, for a file swapped
between the check and the open.

A symbolic link is followed only when its target is a regular file inside
the configured path: a link in ``Maildir/cur/`` to ``/etc/shadow`` would
otherwise put that file's text into the database as a snippet.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from connectors.base import InvalidInput

NOT_REGULAR = "not-a-regular-file"
LINK_OUTSIDE = "symlink-outside-archive"
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


def problem_detail(reason: str) -> str:
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
