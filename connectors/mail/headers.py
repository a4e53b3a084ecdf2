"""A message's header fields, read the same way from a file and from an IMAP server.

The IMAP connector asks the server for ``BODY.PEEK[HEADER.FIELDS (...)]``
partial-fetched to ``max_header_bytes`` + 1: the server hands back only the
wanted fields, in message order, with CRLF line ends. ``field_block`` builds
the same bytes from a stored header, so both connectors cut and decode the
same bytes and the same message gives the same record wherever it is read.

Past the cap the fields are read in three groups, each capped separately
(the IMAP connector fetches just those messages' fields again by group).
Recipients come alone: a distribution list of 10,000 addresses is real
mail, and when it runs past the cap the message is captured with the
recipients read up to it (a ``header-truncated`` note says so) while From,
Date, Subject and Message-ID, in the first group, are never pushed out by
it. Received fields, many in looping mail, come alone for the same reason.
Under the cap no group can pass it, so one scan in message order, sorted
into the groups, reads the same fields (``read_stored_fields``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from connectors.mail.charsets import header_text
from connectors.records import PIPELINE_HEADERS

RECIPIENT_FIELDS: tuple[str, ...] = ("to", "cc", "bcc")
OTHER_FIELDS: tuple[str, ...] = tuple(n for n in PIPELINE_HEADERS if n not in RECIPIENT_FIELDS)
# Read for the date of mail without a usable Date, and only the first (newest)
# counts: a mail loop's 1,600 relays cut to the limit lose nothing we use.
RECEIVED_FIELDS: tuple[str, ...] = ("received",)
FIELD_GROUPS: tuple[tuple[str, ...], ...] = (OTHER_FIELDS, RECIPIENT_FIELDS, RECEIVED_FIELDS)
ADDRESS_FIELDS = frozenset({"from", "sender", "reply-to", "to", "cc", "bcc"})

# RFC 5322 section 2.2: a field name is printable US-ASCII except ":".
FIELD_LINE = re.compile(rb"([!-9;-~]+)[ \t]*:")
# A field runs to the next line that does not start with white space (2.2.3).
_FIELD_END = re.compile(rb"\n(?![ \t])")

Note = tuple[str, str]  # (reason, detail) of an ingest warning about a captured message


BLANK_LINE = re.compile(rb"\n\r?\n")  # the end of a header block (LF or CRLF)


def header_block(raw: bytes) -> bytes:
    """The header fields of a stored message: everything before its first empty
    line (LF or CRLF), found in one search; all of it when it has none."""
    blank = BLANK_LINE.search(raw)
    return raw if blank is None else raw[: blank.start()]


@lru_cache(maxsize=16)
def _field_starts(names: tuple[str, ...]) -> re.Pattern[bytes]:
    alternatives = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(rb"^(?:" + alternatives + rb")[ \t]*:", re.MULTILINE | re.IGNORECASE)


def field_block(head: bytes, names: tuple[str, ...]) -> bytes:
    """The fields ``names`` of a header block as an IMAP server returns
    ``HEADER.FIELDS``: in message order, CRLF line ends, an empty line last.

    A regular expression finds the wanted fields, so a header of millions of
    other lines costs a scan, not a Python loop over them."""
    out: list[bytes] = []
    for match in _field_starts(names).finditer(head):
        end = _FIELD_END.search(head, match.end())
        field = head[match.start() : len(head) if end is None else end.start()]
        out.append(field.replace(b"\r\n", b"\n").rstrip(b"\n").replace(b"\n", b"\r\n") + b"\r\n")
    out.append(b"\r\n")
    return b"".join(out)


def header_fields(block: bytes, wanted: frozenset[str]) -> tuple[list[tuple[str, str]], int]:
    """(lower-case name, unfolded value) for ``wanted`` names, and the count of all fields.

    Lines that are neither a field nor a continuation are skipped, as mail
    readers do; the count lets a caller tell mail from garbage.
    """
    found: list[tuple[str, list[bytes]]] = []
    current: list[bytes] | None = None
    total = 0
    for line in block.split(b"\n"):
        if line[:1] in (b" ", b"\t"):
            if current is not None:
                current.append(line.rstrip(b"\r"))  # RFC 5322 2.2.3: unfold = drop CRLF
            continue
        match = FIELD_LINE.match(line)
        if match is None:
            current = None
            continue
        total += 1
        name = match.group(1).decode("ascii").lower()
        if name in wanted:
            current = [line[match.end() :].rstrip(b"\r")]
            found.append((name, current))
        else:
            current = None
    return [(name, header_text(b"".join(parts)).strip()) for name, parts in found], total


@dataclass(frozen=True, slots=True)
class HeaderRead:
    """The fields read from a message's groups, and what reading them left out."""

    fields: tuple[tuple[str, str], ...]
    notes: tuple[Note, ...] = ()


def read_groups(blocks: Sequence[tuple[tuple[str, ...], bytes]], limit: int) -> HeaderRead:
    """The fields of each (names, ``HEADER.FIELDS`` block) pair, each block cut to ``limit``."""
    fields: list[tuple[str, str]] = []
    notes: list[Note] = []
    for names, block in blocks:
        if len(block) > limit:
            block = _cut(block, limit)
            if names == RECEIVED_FIELDS:
                continue
            shown = "/".join(n.title() for n in names) if len(names) < 4 else "header fields"
            notes.append(("header-truncated", f"{shown} over {limit} bytes: read up to the limit"))
        fields.extend(header_fields(block, frozenset(names))[0])
    return HeaderRead(tuple(fields), tuple(notes))


def read_stored_header(head: bytes, limit: int) -> HeaderRead:
    """``read_groups`` for a header block as stored (a file, an mbox message)."""
    return read_stored_fields(head, limit)[0]


def read_stored_fields(
    head: bytes, limit: int, also: tuple[str, ...] = ()
) -> tuple[HeaderRead, tuple[tuple[str, str], ...]]:
    """``read_stored_header``, and the fields ``also`` (a group of their own, in
    message order) from the same scan: a MIME reader's Content-Type with the
    pipeline's fields, for one pass over the header rather than two."""
    if len(head) <= limit:
        # No group can pass the limit: one scan gives the same fields.
        fields, _ = header_fields(head, _ALL_FIELDS.union(also) if also else _ALL_FIELDS)
        extra = tuple(f for f in fields if f[0] in also) if also else ()
        return HeaderRead(in_group_order(fields)), extra
    read = read_groups([(names, field_block(head, names)) for names in FIELD_GROUPS], limit)
    extra = read_groups([(also, field_block(head, also))], limit).fields if also else ()
    return read, extra


_GROUP_OF = {name: i for i, group in enumerate(FIELD_GROUPS) for name in group}
_ALL_FIELDS = frozenset(_GROUP_OF)


def in_group_order(fields: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The groups' fields of ``fields``, group by group and in message order within
    each: the order ``read_groups`` gives, for fields read some other way."""
    groups: list[list[tuple[str, str]]] = [[] for _ in FIELD_GROUPS]
    for field in fields:
        group = _GROUP_OF.get(field[0])
        if group is not None:
            groups[group].append(field)
    return tuple(field for group in groups for field in group)


def _cut(block: bytes, limit: int) -> bytes:
    """``block`` cut to ``limit`` bytes at the last line end or comma, so the last
    field read ends on a whole address rather than half of one."""
    head = block[:limit]
    at = max(head.rfind(b"\n"), head.rfind(b","))
    if at < 0:
        return b""
    return head[: at + 1] if head[at] == 0x0A else head[:at] + b"\r\n"


def address_notes(fields: Iterable[tuple[str, str]]) -> list[Note]:
    """A note for addresses that hold control characters (``header_text`` made each
    one U+FFFD). Such an address prints like a real one and is left out
    (``normalize_email`` refuses it); the note says why it is missing."""
    bad: list[str] = []
    for name, value in fields:
        if name not in ADDRESS_FIELDS or "\ufffd" not in value:
            continue
        for piece in value.split(","):
            start, end = piece.find("<"), piece.find(">")
            spec = piece[start + 1 : end] if 0 <= start < end else piece
            if "\ufffd" in spec and "@" in spec:
                bad.append(f"{name}: {spec.strip().replace(chr(0xFFFD), '?')}")
    if not bad:
        return []
    shown = "; ".join(bad)[:150]
    return [("bad-address", f"control characters in an address, left out ({shown})")]
