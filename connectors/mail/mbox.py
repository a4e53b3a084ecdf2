"""Reading an mbox file incrementally, by streaming, with a cursor that detects rewrites.

Messages are separated by a "From " line that follows an empty line (or
opens the file). mboxrd and mboxo writers escape body lines starting with
"From " as ">From "; the empty-line rule also keeps mboxcl files whose
bodies carry unescaped "From " lines mostly intact. The ">From " escapes
are left in the text: signatures and participants do not depend on them.

The file is read in chunks: a message larger than ``max_message_bytes`` is
reported (``None`` body) and skipped without being held in memory, so a
5 GB export costs one chunk plus one message of memory.

Cursor: ``offset`` of the next unread message, plus digests of the file's
first bytes and of the bytes just before ``offset``. Mail clients rewrite
mbox files when they compact or expunge; then the offset means nothing and
the cursor is expired (the agent re-reads; upserts prevent duplicates).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from connectors.base import CursorExpired
from connectors.mail.dates import Dated, mail_date
from connectors.mail.headers import header_block

CHUNK = 1 << 20
HEAD_BYTES = 4096
MARK_BYTES = 1024
_SEPARATORS = (b"\n\nFrom ", b"\n\r\nFrom ")


@dataclass(frozen=True, slots=True)
class MboxEntry:
    """One message of an mbox: its byte span and bytes (None when too large to hold)."""

    start: int
    end: int  # offset of the next message's "From " line, or the end of the file
    raw: bytes | None

    def dated(self, file_time: datetime) -> Dated:
        """The message's own date for mail without a usable Date field: the
        delivery date on its "From " line (asctime, no zone: read as UTC),
        else the mbox file's time."""
        line = b""
        if self.raw is not None and self.raw.startswith(b"From "):
            line = self.raw[: self.raw.find(b"\n")]
        parts = line.decode("latin-1").split(None, 2)
        envelope = mail_date(parts[2].strip()) if len(parts) == 3 else None
        return Dated(envelope, "mbox-envelope") if envelope else Dated(file_time, "file")

    @property
    def locator(self) -> str:
        """Where a person finds this message: the byte offset of its "From " line,
        then its Message-ID and Date when its header holds them."""
        found = [f"byte {self.start}"]
        if self.raw is not None:
            header = header_block(self.raw)
            for name, pattern in _LOCATING_FIELDS:
                match = pattern.search(header)
                value = " ".join(match.group(1).decode("ascii", "replace").split()) if match else ""
                if value and value.isprintable():
                    found.append(f"{name} {value[:MAX_LOCATOR_VALUE]}")
        return "; ".join(found)

    @property
    def provider_id(self) -> str:
        """A digest of the message without its "From " line: stable across re-reads."""
        assert self.raw is not None
        body = self.raw.split(b"\n", 1)[1] if self.raw.startswith(b"From ") else self.raw
        return "mbox:" + hashlib.sha256(body).hexdigest()[:40]


# Fields that identify a message to a person searching a mail client or a
# file; a folded value (RFC 5322 section 2.2.3) is read with its continuations.
_LOCATING_FIELDS = tuple(
    (name, re.compile(rb"(?im)^" + name.encode() + rb":[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)"))
    for name in ("Message-ID", "Date")
)
MAX_LOCATOR_VALUE = 200


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:32]


def _read_at(f: BinaryIO, offset: int, size: int) -> bytes:
    f.seek(offset)
    return f.read(size)


def mbox_cursor(f: BinaryIO, offset: int) -> dict[str, object]:
    head = _read_at(f, 0, HEAD_BYTES)
    mark_start = max(0, offset - MARK_BYTES)
    return {
        "kind": "mbox",
        "offset": offset,
        "head": _digest(head[: min(len(head), offset)]),
        "mark": _digest(_read_at(f, mark_start, offset - mark_start)),
    }


def check_mbox_cursor(f: BinaryIO, size: int, cursor: dict[str, object], stream: str) -> int:
    """The offset to resume from; ``CursorExpired`` if the file is not the one it was."""
    offset = cursor.get("offset")
    if cursor.get("kind") != "mbox" or not isinstance(offset, int) or offset < 0:
        raise CursorExpired(stream, "not an mbox cursor")
    if offset > size:
        raise CursorExpired(stream, "mbox file was truncated")
    if mbox_cursor(f, offset) != cursor:
        raise CursorExpired(stream, "mbox file was rewritten")
    if offset < size and _read_at(f, offset, 5) != b"From ":
        raise CursorExpired(stream, "mbox cursor no longer at a message boundary")
    return offset


def _separator(buf: bytearray, start: int) -> tuple[int, int]:
    """(end of the message before, start of the next "From " line) or (-1, -1).

    One scan for "\nFrom ", then a look at the byte(s) before it: searching
    for the LF and the CRLF separator separately rescanned the rest of the
    buffer for the one a file never has, for every message.
    """
    at = buf.find(b"\nFrom ", start)
    while at >= 0:
        if at >= 1 and buf[at - 1] == 0x0A:  # "\n\nFrom "
            return at, at + 1
        if at >= 2 and buf[at - 2 : at] == b"\n\r":  # "\n\r\nFrom "
            return at - 1, at + 1
        at = buf.find(b"\nFrom ", at + 1)
    return -1, -1


def read_mbox(f: BinaryIO, offset: int, max_bytes: int) -> Iterator[MboxEntry]:
    """The messages from ``offset`` (a "From " line) on, streamed.

    One growing bytearray, compacted once per chunk: slicing it per message
    would copy the rest of the chunk for every small message.
    """
    f.seek(offset)
    buf = bytearray()
    buf_at = offset  # file offset of buf[0]
    msg_at = offset  # file offset of the current message (before buf_at once oversized)
    oversize = False
    search = 0  # where in buf to look for the next separator
    keep = max(len(s) for s in _SEPARATORS)
    while True:
        chunk = f.read(CHUNK)
        cut = min(msg_at - buf_at, search) if not oversize else len(buf) - keep
        if cut > 0:
            del buf[:cut]
            buf_at, search = buf_at + cut, search - cut
        buf += chunk
        while (found := _separator(buf, search))[0] >= 0:
            end, nxt = found
            raw = None if oversize else bytes(buf[msg_at - buf_at : end])
            yield MboxEntry(msg_at, buf_at + nxt, raw)
            msg_at, search, oversize = buf_at + nxt, nxt, False
        if not chunk:
            break
        # Too large to hold: report it, keep only enough to see the next separator.
        oversize = oversize or buf_at + len(buf) - msg_at > max_bytes
        search = max(search, len(buf) - keep)
    if msg_at < buf_at + len(buf) or oversize:
        rest = None if oversize else bytes(buf[msg_at - buf_at :])
        if rest is None or rest.strip():
            yield MboxEntry(msg_at, buf_at + len(buf), _without_final_blank(rest))


def _without_final_blank(raw: bytes | None) -> bytes | None:
    # The last message keeps the empty line mbox writers put after every
    # message; drop it so its digest matches the one it has mid-file.
    if raw is None:
        return None
    for tail in (b"\n\n", b"\n\r\n"):
        if raw.endswith(tail):
            return raw[: len(raw) - len(tail) + 1]
    return raw
