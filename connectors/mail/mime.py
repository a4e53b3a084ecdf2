"""Raw RFC 5322 / MIME bytes -> ``Message``, without building an email tree.

The pipeline needs a handful of header fields and the first text part
(docs/ARCHITECTURE.md, invariant 6), so this module never builds an
``email.message.Message`` for the whole message: it splits the header block
with bytes operations, walks multipart boundaries itself and skips attachment
bodies with ``bytes.find`` instead of splitting them into lines. Only the
small per-part header blocks go through ``email.message.Message`` (for RFC
2045/2231 parameter parsing).

How far the walk goes: the first ``text/plain`` part ends the search for
text, but invitations put their ``text/calendar`` part *after* the text parts
(Outlook: inside multipart/alternative; Gmail: alternative plus an .ics
attachment), so the walk continues over part headers until it has a
text/plain part and a calendar part, or the tree ends. Skipping a body costs
one ``bytes.find`` for the next boundary, so the full walk stays cheap.
``message/rfc822`` parts are not entered: a forwarded message's invitation is
not an invitation to this message's recipients.

Limits: beyond ``max_mime_depth`` nesting or ``max_mime_parts`` parts the
walk stops descending and the message is still captured with what was found
so far; hostile structure costs us text, never the message's participants.
"""

from __future__ import annotations

import email.message
import email.utils
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from connectors.base import ALL_TIME, InvalidInput, Limits, Window

# Imported with this module, not on first use: the agent forks its read-ahead
# process, and a child forked while any thread is inside its first import of
# a module waits for that import lock forever. (With read-ahead on, the
# agent's connectors run no thread of their own; this keeps it true anyway.)
from connectors.calendar.ical import parse_calendar
from connectors.mail.charsets import decode_body, decode_words
from connectors.mail.dates import DateFallback, message_date
from connectors.mail.headers import (
    BLANK_LINE,
    FIELD_LINE,
    HeaderRead,
    address_notes,
    header_fields,
    read_stored_fields,
)
from connectors.records import (
    PIPELINE_HEADERS,
    IngestError,
    Meeting,
    Message,
    SourceRef,
    normalize_message_id,
)

# decode_body and decode_words live in connectors.mail.charsets; they are part of
# this module's interface because the IMAP connector decodes fetched parts.
__all__ = [
    "CalendarPart",
    "calendar_cap",
    "calendar_source",
    "carried_meetings",
    "decode_body",
    "decode_words",
    "message_from_parts",
    "parse_message",
    "parse_message_and_errors",
]

_PIPELINE = frozenset(PIPELINE_HEADERS)
# Part-level fields the walk needs besides Content-Type.
_PART_NAMES = ("content-type", "content-transfer-encoding", "content-disposition")
_PART_FIELDS = frozenset(_PART_NAMES)
# What a digest identity covers (``Message.identity``) when there is no Message-ID.
DIGEST_FIELDS = ("from", "to", "date", "subject")


# ---------------------------------------------------------------- headers


def _split_head(
    raw: bytes, max_bytes: int | None, start: int = 0, end: int = -1
) -> tuple[bytes, int]:
    """The header block of ``raw[start:end]`` and the offset where its body starts.

    A block that opens with an empty line has no fields (RFC 2046 5.1: a
    part without headers is text/plain); one without an empty line is all
    header and has no body. ``max_bytes`` None: a message's own header,
    read whole (the message is within ``max_message_bytes``) and capped
    field group by field group, as IMAP reads it.
    """
    end = len(raw) if end < 0 else end
    if raw.startswith(b"\n", start) or raw.startswith(b"\r\n", start):
        return b"", min(end, start + (1 if raw[start] == 0x0A else 2))
    scan_end = end if max_bytes is None else min(end, start + max_bytes + 4)
    # One search for the first blank line, LF or CRLF: two finds, one per
    # line end, would scan the whole message for the kind it lacks.
    blank = BLANK_LINE.search(raw, start, scan_end)
    if blank is not None:
        return raw[start : blank.start() + 1], blank.end()
    if max_bytes is not None and end - start > max_bytes:
        raise InvalidInput("header-too-large", f"no end of header within {max_bytes} bytes")
    return raw[start:end], end


def message_from_parts(
    source: SourceRef,
    read: HeaderRead,
    text: str | None,
    text_is_html: bool,
    size: int,
    meetings: Iterable[Meeting] = (),
    fallback: DateFallback = None,
) -> tuple[Message, list[IngestError]]:
    """A ``Message`` from already-split pieces, and notes on what reading it left out:
    the one place ids, date and subject are derived, for every connector.

    ``fallback`` is the source's own date of the item (IMAP INTERNALDATE, a
    file's time), for mail without a usable Date. Mail without a Message-ID
    nor any field its digest identity covers is not mail we can tell apart
    from other mail: ``InvalidInput``, rather than one identity for all of it.
    """
    first = dict(reversed(read.fields)).get  # the first occurrence of each name
    message_id = normalize_message_id(first("message-id"))
    if message_id is None and not any(first(n) for n in DIGEST_FIELDS):
        raise InvalidInput("not-a-message", "no Message-ID, From, To, Date or Subject field")
    thread_key = (
        normalize_message_id(first("references"))
        or normalize_message_id(first("in-reply-to"))
        or message_id
    )
    subject = first("subject")
    date, date_note = message_date(read.fields, fallback)
    notes = [*read.notes, *address_notes(read.fields), *date_note]
    message = Message(
        source=source,
        message_id=message_id,
        date=date,
        subject=decode_words(subject) if subject is not None else None,
        headers=tuple((name, value) for name, value in read.fields if name in _PIPELINE),
        thread_key=thread_key,
        text=text,
        text_is_html=text_is_html,
        size=size,
        meetings=tuple(meetings),
    )
    return message, [IngestError(source, reason, detail) for reason, detail in notes]


# ---------------------------------------------------------------- MIME walk


@dataclass(frozen=True, slots=True)
class PartRef:
    """A leaf part found by the walk: where its body lies and how to decode it."""

    start: int
    end: int
    transfer_encoding: str | None
    charset: str | None


@dataclass
class _Walk:
    raw: bytes
    limits: Limits
    parts: int = 0
    plain: PartRef | None = None
    html: PartRef | None = None
    calendars: list[PartRef] = field(default_factory=list)
    delivery_status: PartRef | None = None  # RFC 3464 section 2.1

    @property
    def done(self) -> bool:
        return self.plain is not None and bool(self.calendars)


def _content_type(value: str | None) -> email.message.Message:
    holder = email.message.Message()
    if value:
        holder["content-type"] = value
    return holder


def _param(ctype: email.message.Message, name: str) -> str | None:
    # RFC 2231 parameters (boundary*=..., charset*0=...) come back as tuples.
    value = ctype.get_param(name)
    if value is None or isinstance(value, str):
        return value or None
    return email.utils.collapse_rfc2231_value(value) or None


def _visit(walk: _Walk, fields: dict[str, str], start: int, end: int, depth: int) -> None:
    ctype = _content_type(fields.get("content-type"))
    kind = ctype.get_content_type()
    if kind.startswith("multipart/"):
        boundary = _param(ctype, "boundary")
        if boundary and depth < walk.limits.max_mime_depth:
            _walk_multipart(walk, boundary.encode("utf-8", "replace"), start, end, depth + 1)
        return
    if "attachment" in fields.get("content-disposition", "").lower() and kind != "text/calendar":
        return
    ref = PartRef(start, end, fields.get("content-transfer-encoding"), _param(ctype, "charset"))
    if kind == "text/plain" and walk.plain is None:
        walk.plain = ref
    elif kind == "text/html" and walk.html is None:
        walk.html = ref
    elif kind == "text/calendar":
        walk.calendars.append(ref)
    elif kind in _DELIVERY_STATUS and walk.delivery_status is None:
        walk.delivery_status = ref


# RFC 3464 section 2.1 and its UTF-8 form, RFC 6533 section 6.
_DELIVERY_STATUS = frozenset({"message/delivery-status", "message/global-delivery-status"})


def _delimiters(raw: bytes, dash: bytes, start: int, end: int) -> Iterable[tuple[int, int, bool]]:
    """(delimiter start, next line start, is_close) of each boundary line of a multipart body."""
    pos = start
    while pos < end:
        at = raw.find(dash, pos, end)
        if at < 0:
            return
        after = at + len(dash)
        tail = raw[after : after + 2]
        closing = tail == b"--"
        # RFC 2046 5.1.1: a delimiter starts a line, and may be followed only
        # by "--" or whitespace; anything else is body text or a longer
        # boundary that merely starts with ours.
        at_line_start = at == start or raw[at - 1 : at] == b"\n"
        if not at_line_start or not (closing or tail[:1] in (b"", b"\r", b"\n", b" ", b"\t")):
            pos = after
            continue
        eol = raw.find(b"\n", after, end)
        next_line = end if eol < 0 else eol + 1
        yield at, next_line, closing
        if closing:
            return
        pos = next_line


def _walk_multipart(walk: _Walk, boundary: bytes, start: int, end: int, depth: int) -> None:
    raw = walk.raw
    part_start: int | None = None
    for at, next_line, closing in _delimiters(raw, b"--" + boundary, start, end):
        if part_start is not None:
            # The line break before a delimiter belongs to the delimiter.
            part_end = at - 2 if raw[at - 2 : at] == b"\r\n" else at - 1
            _visit_part(walk, part_start, max(part_start, part_end), depth)
            if walk.done or walk.parts >= walk.limits.max_mime_parts:
                return
        part_start = next_line
        if closing:
            return
    if part_start is not None and part_start < end:  # no close delimiter: the part runs to the end
        _visit_part(walk, part_start, end, depth)


def _visit_part(walk: _Walk, start: int, end: int, depth: int) -> None:
    walk.parts += 1
    if walk.parts > walk.limits.max_mime_parts:
        return
    try:
        head, body = _split_head(walk.raw, walk.limits.max_header_bytes, start, end)
    except InvalidInput:
        return  # an oversized part header: skip the part, keep the message
    fields = dict(reversed(header_fields(head, _PART_FIELDS)[0]))  # first occurrence wins
    _visit(walk, fields, body, end, depth)


# ---------------------------------------------------------------- whole messages


def parse_message(
    raw: bytes, source: SourceRef, limits: Limits, window: Window | None = None
) -> Message:
    """One stored message as a ``Message``; raises ``InvalidInput`` for what is not mail.

    ``window`` bounds the expansion of a recurring invitation carried inside;
    without one, only ``limits.max_occurrences`` does.
    """
    return parse_message_and_errors(raw, source, limits, window)[0]


def parse_message_and_errors(
    raw: bytes,
    source: SourceRef,
    limits: Limits,
    window: Window | None = None,
    fallback: DateFallback = None,
) -> tuple[Message, list[IngestError]]:
    """``parse_message`` plus the errors of invitations inside it and the notes
    of ``message_from_parts`` (``fallback``: see there).

    A broken text/calendar part never costs the message (docs/ARCHITECTURE.md, invariant 2); the
    errors let a connector record it.
    """
    if len(raw) > limits.max_message_bytes:
        raise InvalidInput("message-too-large", f"{len(raw)} bytes")
    # An mbox "From " envelope line is not a header field; tolerate it.
    start = raw.find(b"\n") + 1 if raw.startswith(b"From ") else 0
    head, body = _split_head(raw, None, start)
    if not FIELD_LINE.match(head):
        raise InvalidInput("not-a-message", "no header fields")
    read, part_fields = read_stored_fields(head, limits.max_header_bytes, _PART_NAMES)
    walk = _Walk(raw, limits)
    _visit(walk, dict(reversed(part_fields)), body, len(raw), 0)
    text, is_html = _first_text(walk, limits)
    calendars = (
        CalendarPart(raw[p.start : p.end], p.transfer_encoding, p.charset) for p in walk.calendars
    )
    meetings, errors = carried_meetings(calendars, source, window, limits)
    message, notes = message_from_parts(source, read, text, is_html, len(raw), meetings, fallback)
    if walk.delivery_status is not None:
        report = walk.delivery_status
        status = decode_body(
            walk.raw[report.start : report.end],
            report.transfer_encoding,
            report.charset,
            limits.max_text_bytes,
        )
        message = replace(message, delivery_status=status)
    return message, notes + errors


def _first_text(walk: _Walk, limits: Limits) -> tuple[str | None, bool]:
    part = walk.plain or walk.html
    if part is None:
        return None, False
    payload = walk.raw[part.start : part.end]
    text = decode_body(payload, part.transfer_encoding, part.charset, limits.max_text_bytes)
    return text, part is walk.html


@dataclass(frozen=True, slots=True)
class CalendarPart:
    """A text/calendar body as stored: still transfer-encoded.

    ``size`` is the part's size as the server declared it, for a source that
    did not fetch a part too large to parse (IMAP reads BODYSTRUCTURE first);
    None means ``payload`` is the whole part.
    """

    payload: bytes
    transfer_encoding: str | None
    charset: str | None
    size: int | None = None


def calendar_cap(limits: Limits) -> int:
    """Encoded bytes a calendar part may have: base64 inflates by 4/3, so a
    larger part cannot decode within ``max_ical_bytes``."""
    return limits.max_ical_bytes * 4 // 3 + 4096


def calendar_source(message_source: SourceRef) -> SourceRef:
    """Where a message's carried meetings live: storage keys a source copy by
    (account, provider_id), and the message already owns its own id."""
    return SourceRef(
        message_source.account, message_source.stream, message_source.provider_id + "#calendar"
    )


def carried_meetings(
    parts: Iterable[CalendarPart], message_source: SourceRef, window: Window | None, limits: Limits
) -> tuple[list[Meeting], list[IngestError]]:
    """The meetings of the text/calendar parts one message carries, once each.

    The same invitation often comes twice (inline and as invite.ics); the
    first copy of each occurrence wins.
    """
    source = calendar_source(message_source)
    meetings: dict[str, Meeting] = {}
    errors: list[IngestError] = []
    for part in parts:
        size = len(part.payload) if part.size is None else part.size
        if size > calendar_cap(limits):
            errors.append(IngestError(source, "ical-too-large", f"{size} bytes"))
            continue
        text = decode_body(part.payload, part.transfer_encoding, part.charset, len(part.payload))
        found, failed = parse_calendar(text.encode("utf-8"), source, window or ALL_TIME, limits)
        errors.extend(failed)
        for meeting in found:
            meetings.setdefault(meeting.identity, meeting)
    return list(meetings.values()), errors
