"""Local archives: mbox files, Maildirs, folders of .eml/.ics files, single files.

Each configured path is one stream. Sync state machine per stream::

    cursor None --fetch--> read from the start --has_more--> ... --> caught up
    caught up  --fetch--> only what is new or changed since the cursor
    file rewritten / folder replaced --> CursorExpired (agent re-reads; upserts dedupe)

mbox (``connectors.mail.mbox``): the cursor is a byte offset plus digests that
detect a rewrite. Folders, Maildirs and single files: the cursor is a
watermark over files ordered by (key, relative path), where key is
max(mtime, ctime) in ns, plus the paths already read at the watermark's key
and, when a file's records did not fit one batch, how many were returned.
ctime is in the key because copies and unpacked archives keep an old mtime
but always get a fresh ctime: such files are never missed. The price is
that a file whose ctime changes without new content (chmod, a Maildir flag
rename) is read again, which is harmless: every write downstream is an
upsert. A changed .ics file is thus read again as a whole.

The mbox files of a folder export inside a configured folder (Apple Mail's
``Name.mbox/mbox``, Thunderbird's folder files, unpacked ``*.mbox``) are
streams of their own, listed after the folder. Only regular files inside
the configured path are read; what else lies there (FIFOs, devices, links
out of it) is an ingest error (``connectors.archive.files``).

Items dated before ``window.since`` are skipped silently: they lie outside
the backfill window and are not errors. Meetings are limited to the window
by the calendar parser.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from connectors.archive.emlx import stored_message
from connectors.archive.files import (
    CALENDAR_SUFFIXES,
    MESSAGE_SUFFIXES,
    UNREAD_FORMAT,
    entry,
    listed_in_folder,
    mbox_members,
    modified,
    open_regular,
    problem_detail,
    read_regular,
    unread_format,
    walk,
)
from connectors.archive.marks import left_out
from connectors.base import ConfigurationError, CursorExpired, InvalidInput, Limits, Window
from connectors.calendar.ical import parse_calendar
from connectors.mail.dates import Dated, DateFallback
from connectors.mail.mbox import check_mbox_cursor, mbox_cursor, read_mbox
from connectors.mail.mime import parse_message_and_errors
from connectors.records import Batch, Cursor, IngestError, Message, Record, SourceRef

# Items examined per batch beyond ``limit`` records: a stretch of old or
# broken items must not turn one fetch into a read of the whole archive.
SCAN_FACTOR = 20


@dataclass(frozen=True, slots=True)
class ArchiveFile:
    key: int  # max(mtime_ns, ctime_ns)
    name: str  # path relative to the stream root, "/"-separated
    path: Path  # what is opened: a symbolic link's target
    problem: str | None = None  # why it is not read (an ingest error reason)


@dataclass
class _Read:
    """What one file yielded: its records and errors."""

    records: list[Record]
    errors: list[IngestError]


def flavour_of(path: Path) -> str:
    """ "mbox", "maildir", "folder" or "file" (a single .eml or .ics)."""
    if not path.exists():
        raise ConfigurationError(f"archive path {str(path)!r} does not exist")
    if path.is_dir():
        return "maildir" if all((path / d).is_dir() for d in ("cur", "new", "tmp")) else "folder"
    if path.suffix.lower() in MESSAGE_SUFFIXES + CALENDAR_SUFFIXES:
        return "file"
    return "mbox"


class ArchiveConnector:
    kind = "archive"

    def __init__(self, account: str, paths: Sequence[Path], window: Window, limits: Limits) -> None:
        self.account = account
        self.paths = {str(p): Path(p) for p in paths}
        self.window = window
        self.limits = limits
        for path in self.paths.values():
            flavour_of(path)
        # The listing of a stream, kept while a drain pages through it.
        self._listing: dict[str, tuple[Cursor, list[ArchiveFile]]] = {}
        # mbox files found inside configured folders: each a stream of its own.
        self._members: dict[str, Path] = {}

    def streams(self) -> list[str]:
        """Each configured path, and after a folder the mbox files of a folder
        export inside it (Apple Mail, Thunderbird, unpacked Takeout)."""
        found: list[str] = []
        for stream, path in self.paths.items():
            found.append(stream)
            if flavour_of(path) == "folder":
                for member in mbox_members(path):
                    self._members[str(member)] = member
                    found.append(str(member))
        return list(dict.fromkeys(found))

    def close(self) -> None:
        self._listing.clear()

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        path = self.paths.get(stream) or self._member(stream)
        if path is None:
            raise ConfigurationError(f"no archive path {stream!r} in this account")
        limit = max(1, limit)
        if flavour_of(path) == "mbox":
            return self._fetch_mbox(stream, path, cursor, limit)
        return self._fetch_files(stream, path, cursor, limit)

    def _member(self, stream: str) -> Path | None:
        if stream not in self._members:
            self.streams()  # a fresh connector resuming a stream found by an earlier one
        return self._members.get(stream)

    # ------------------------------------------------------------ mbox

    def _fetch_mbox(self, stream: str, path: Path, cursor: Cursor | None, limit: int) -> Batch:
        records: list[Record] = []
        errors: list[IngestError] = []
        try:
            f = open_regular(Path(os.path.realpath(path)))
            file_time = modified(os.fstat(f.fileno()))
        except InvalidInput as exc:  # a FIFO or device where an mbox was configured
            error = IngestError(SourceRef(self.account, stream, "path"), exc.reason, exc.detail)
            # The cursor of an empty mbox: once a file is there, it is read from its start.
            start = dict(cursor) if cursor else mbox_cursor(io.BytesIO(), 0)
            return Batch([], [error], start, False)
        with f:
            size = os.fstat(f.fileno()).st_size
            offset = 0 if cursor is None else check_mbox_cursor(f, size, dict(cursor), stream)
            examined = 0
            for entry in read_mbox(f, offset, self.limits.max_message_bytes):
                if len(records) >= limit or examined >= limit * SCAN_FACTOR:
                    break
                examined += 1
                offset = entry.end
                if entry.raw is None:
                    ref = SourceRef(self.account, stream, f"mbox:@{entry.start}")
                    errors.append(
                        IngestError(
                            ref, "message-too-large", f"at byte {entry.start}", entry.locator
                        )
                    )
                    continue
                source = SourceRef(self.account, stream, entry.provider_id)
                read = self._message(entry.raw, source, partial(entry.dated, file_time))
                records.extend(read.records)
                errors.extend(replace(e, locator=entry.locator) for e in read.errors)
            return Batch(records, errors, mbox_cursor(f, offset), offset < size)

    def _message(self, raw: bytes, source: SourceRef, dated: DateFallback) -> _Read:
        if left_out(raw) is not None:
            return _Read([], [])  # Takeout's spam, trash..., Thunderbird's deleted (``marks``)
        messages, errors = read_message(raw, source, self.limits, self.window, dated)
        if any(_before_window(message, self.window) for message in messages):
            return _Read([], [])
        return _Read(list(messages), errors)

    # ------------------------------------------------------------ files

    def _fetch_files(self, stream: str, path: Path, cursor: Cursor | None, limit: int) -> Batch:
        flavour = flavour_of(path)
        root = _root_identity(path)
        mark = (
            _FileMark.start(flavour, root)
            if cursor is None
            else _FileMark.of(cursor, flavour, root, stream)
        )
        pending = [f for f in self._files(stream, path, flavour, cursor) if mark.unread(f)]
        records: list[Record] = []
        errors: list[IngestError] = []
        for examined, item in enumerate(pending):
            if len(records) >= limit or examined >= limit * SCAN_FACTOR:
                break
            read = self._read_file(stream, flavour, item)
            skip = mark.skip_count(item)
            room = limit - len(records)
            records.extend(read.records[skip : skip + room])
            if skip == 0:
                errors.extend(read.errors)
            if len(read.records) - skip > room:
                mark = mark.partly(item, skip + room)
                break
            mark = mark.done(item)
        else:
            pending = []
        next_cursor = mark.as_cursor()
        has_more = any(mark.unread(f) for f in pending)
        if has_more:
            self._listing[stream] = (next_cursor, pending)
        else:
            self._listing.pop(stream, None)
        return Batch(records, errors, next_cursor, has_more)

    def _files(
        self, stream: str, path: Path, flavour: str, cursor: Cursor | None
    ) -> list[ArchiveFile]:
        kept = self._listing.get(stream)
        if kept is not None and cursor is not None and dict(kept[0]) == dict(cursor):
            return kept[1]  # the next page of the same drain: the listing is still good
        return sorted(_list_files(path, flavour), key=lambda f: (f.key, f.name))

    def _read_file(self, stream: str, flavour: str, item: ArchiveFile) -> _Read:
        is_calendar = item.name.lower().endswith(CALENDAR_SUFFIXES)
        source = SourceRef(self.account, stream, self._provider_id(stream, flavour, item))
        cap = self.limits.max_ical_bytes if is_calendar else self.limits.max_message_bytes
        if item.problem is not None:
            detail = problem_detail(item.problem, item.name)
            return _Read([], [IngestError(source, item.problem, detail)])
        try:
            reason = "ical-too-large" if is_calendar else "message-too-large"
            data, file_time = read_regular(item.path, cap, reason)
        except InvalidInput as exc:  # vanished, replaced or too large since the listing
            return _Read([], [IngestError(source, exc.reason, exc.detail)])
        if is_calendar:
            meetings, errors = parse_calendar(data, source, self.window, self.limits)
            return _Read(list(meetings), errors)
        try:
            data = stored_message(item.name, data)
        except InvalidInput as exc:
            return _Read([], [IngestError(source, exc.reason, exc.detail)])
        return self._message(data, source, Dated(file_time, "file"))

    @staticmethod
    def _provider_id(stream: str, flavour: str, item: ArchiveFile) -> str:
        if flavour == "maildir":
            # Maildir unique names are unique by construction; flags after
            # ":2," change as mail is read and must not change the id.
            return "maildir:" + item.name.rpartition("/")[2].split(":2,", 1)[0]
        # Relative paths repeat across configured folders; the stream tag
        # keeps the id unique per account, as SourceRef requires.
        tag = hashlib.sha256(stream.encode("utf-8", "surrogateescape")).hexdigest()[:8]
        return f"file:{tag}:{item.name}"


def read_message(
    raw: bytes, source: SourceRef, limits: Limits, window: Window, dated: DateFallback
) -> tuple[list[Message], list[IngestError]]:
    """One stored message: the Message with the errors it carries (a broken
    invitation inside), or no Message and the one error that stopped it."""
    try:
        message, errors = parse_message_and_errors(raw, source, limits, window, dated)
    except InvalidInput as exc:
        return [], [IngestError(source, exc.reason, exc.detail[:200])]
    return [message], list(errors)


def _before_window(message: Message, window: Window) -> bool:
    return message.date is not None and message.date < window.since


def _root_identity(path: Path) -> list[int]:
    # A single file is replaced when it changes; its folder is what must stay.
    st = (path if path.is_dir() else path.parent).stat()
    return [st.st_dev, st.st_ino]


def _list_files(path: Path, flavour: str) -> Iterator[ArchiveFile]:
    if flavour == "file":  # the configured file itself: a link to it is what was configured
        target = Path(os.path.realpath(path))
        st = target.stat()
        yield ArchiveFile(max(st.st_mtime_ns, st.st_ctime_ns), path.name, target)
        return
    root = Path(os.path.realpath(path))
    maildir = flavour == "maildir"  # every file in a Maildir is a message
    dirs = [path / "new", path / "cur"] if maildir else [path]
    for top in dirs:
        for dirpath, dirnames, filenames in walk(top):
            if maildir:
                dirnames.clear()  # Maildir++ subfolders are their own configured paths
            # os.walk lists a link to a folder among the folders and never enters it.
            linked = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
            for filename in linked + filenames:
                unread = not maildir and unread_format(filename) is not None
                if filename.startswith(".") or (
                    not maildir
                    and filename not in linked
                    and not listed_in_folder(filename, filenames)
                    and not unread
                ):
                    continue
                full = Path(dirpath) / filename
                try:
                    found = _archive_file(full, full.relative_to(path).as_posix(), root)
                except OSError:
                    continue  # vanished between listing and stat: not there, not lost
                yield replace(found, problem=found.problem or UNREAD_FORMAT) if unread else found


def _archive_file(path: Path, name: str, root: Path) -> ArchiveFile:
    found = entry(path, root)
    return ArchiveFile(found.key, name, found.target, found.problem)


@dataclass(frozen=True, slots=True)
class _FileMark:
    """The watermark cursor of a folder, Maildir or single-file stream."""

    flavour: str
    root: list[int]
    key: int = -1
    names: tuple[str, ...] = ()  # read completely, with key == self.key
    # A file (name, key) whose first ``partial_count`` records were returned.
    partial: tuple[str, int] | None = None
    partial_count: int = 0

    @classmethod
    def start(cls, flavour: str, root: list[int]) -> _FileMark:
        return cls(flavour, root)

    @classmethod
    def of(cls, cursor: Cursor, flavour: str, root: list[int], stream: str) -> _FileMark:
        if cursor.get("kind") != flavour:
            raise CursorExpired(
                stream, f"path is now a {flavour}, cursor was for {cursor.get('kind')}"
            )
        if cursor.get("root") != root:
            raise CursorExpired(stream, "archive folder was replaced")
        try:
            partial = cursor.get("partial")
            return cls(
                flavour,
                root,
                int(cursor["key"]),
                tuple(str(n) for n in cursor["names"]),
                (str(partial[0]), int(partial[2])) if partial else None,
                int(partial[1]) if partial else 0,
            )
        except (KeyError, TypeError, ValueError, IndexError):
            raise CursorExpired(stream, "unreadable archive cursor") from None

    def unread(self, item: ArchiveFile) -> bool:
        if item.key != self.key:
            return item.key > self.key
        return item.name not in self.names

    def skip_count(self, item: ArchiveFile) -> int:
        return self.partial_count if (item.name, item.key) == self.partial else 0

    def partly(self, item: ArchiveFile, count: int) -> _FileMark:
        return _FileMark(
            self.flavour, self.root, self.key, self.names, (item.name, item.key), count
        )

    def done(self, item: ArchiveFile) -> _FileMark:
        names = (*self.names, item.name) if item.key == self.key else (item.name,)
        return _FileMark(self.flavour, self.root, item.key, names)

    def as_cursor(self) -> Cursor:
        partial = [self.partial[0], self.partial_count, self.partial[1]] if self.partial else None
        return {
            "kind": self.flavour,
            "root": self.root,
            "key": self.key,
            "names": list(self.names),
            "partial": partial,
        }
