"""Gmail API message resources (``users.messages.get``, ``format=full``) -> ``Message``.

Pure: the resource as JSON in, a record out; the same helpers the IMAP and
archive paths use (``connectors.mail.mime``: header selection, ids, date,
subject, carried invitations) make the record, so one message reads the same
whichever way it arrived.

What Gmail hands over, and how it is read:

- ``payload.headers`` is the top-level header block, unfolded; the
  ``PIPELINE_HEADERS`` are kept in order. Their total size is bounded by
  ``max_header_bytes`` like a raw header block.
- ``payload.parts`` is the MIME tree. The walk is ``mime``'s: the first
  text/plain part is the text (else the first text/html), attachments never
  are, ``message/rfc822`` is not entered (a forwarded message's text and
  invitations belong to someone else's exchange), text/calendar parts are
  kept, even as attachments; beyond ``max_mime_depth`` or
  ``max_mime_parts`` the walk stops and the message keeps what was found.
- ``body.data`` is the part already transfer-decoded, in base64url. Only
  the first ``max_text_bytes`` are decoded. A part Gmail moved out of line
  (``body.attachmentId``, no ``data``) is not fetched: attachments are
  never read (invariant 6), so such a text part gives no text and such a
  calendar part no meeting.
- Part bodies are read as UTF-8 when they are valid UTF-8, else in the
  part's declared charset: Gmail serves some parts transcoded to UTF-8
  while the part header still names the original charset.
- ``internalDate`` dates a message whose Date header is missing or
  unreadable: Gmail's own receipt time is closer to the truth than none.

Ids: the copy is ``gm:<decimal>``, the Gmail message id read as the number
it is (the API id is the hex form of IMAP's X-GM-MSGID), so a mailbox read
over IMAP and later over the API names its copies the same way.
"""

from __future__ import annotations

import base64
import codecs
import email.message
import re
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connectors.base import InvalidInput, Limits, Window
from connectors.mail.charsets import decode_body
from connectors.mail.dates import Dated
from connectors.mail.headers import HeaderRead, in_group_order
from connectors.mail.mime import CalendarPart, calendar_cap, carried_meetings, message_from_parts
from connectors.records import PIPELINE_HEADERS, IngestError, Message, SourceRef

_PIPELINE = frozenset(PIPELINE_HEADERS)
_CALENDAR_TYPES = frozenset({"text/calendar", "application/ics"})
_GMAIL_ID = re.compile(r"[0-9a-f]{1,16}")


def gmail_source(account: str, stream: str, message_id: object) -> SourceRef:
    """The copy a Gmail message id names; raises ``InvalidInput`` for an id Gmail never gives."""
    if not isinstance(message_id, str) or not _GMAIL_ID.fullmatch(message_id):
        raise InvalidInput("bad-gmail-message", "message id is not a Gmail id")
    return SourceRef(account, stream, f"gm:{int(message_id, 16)}")


def parse_gmail_message(
    resource: Any, account: str, stream: str, limits: Limits, window: Window | None = None
) -> tuple[Message, list[IngestError]]:
    """One message resource as a ``Message``, plus the errors of invitations inside it.

    Raises ``InvalidInput`` for a resource that is not a readable message.
    """
    if not isinstance(resource, Mapping):
        raise InvalidInput("bad-gmail-message", "not an object")
    source = gmail_source(account, stream, resource.get("id"))
    payload = resource.get("payload")
    if not isinstance(payload, Mapping):
        raise InvalidInput("bad-gmail-message", "no payload")
    headers = _pipeline_headers(payload.get("headers"), limits)
    walk = _Walk(limits)
    walk.visit(payload, 0)
    text, is_html = _first_text(walk, limits)
    meetings, errors = carried_meetings(_calendar_parts(walk, limits), source, window, limits)
    arrived = _internal_date(resource.get("internalDate"))
    message, notes = message_from_parts(
        source,
        HeaderRead(headers),
        text,
        is_html,
        _size(resource),
        meetings,
        # Gmail's internalDate is its arrival time, the same fallback as
        # IMAP's INTERNALDATE for mail without a usable Date.
        Dated(arrived, "server") if arrived is not None else None,
    )
    labels = resource.get("labelIds")
    if isinstance(labels, list):
        message = replace(message, labels=tuple(x for x in labels if isinstance(x, str)))
    return message, [*errors, *notes]


def _pipeline_headers(value: Any, limits: Limits) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise InvalidInput("bad-gmail-message", "no header list")
    total = 0
    out: list[tuple[str, str]] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise InvalidInput("bad-gmail-message", "header is not an object")
        name, text = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(text, str):
            raise InvalidInput("bad-gmail-message", "header without name or value")
        total += len(name) + len(text) + 4  # as "Name: value\r\n" on the wire
        if total > limits.max_header_bytes:
            raise InvalidInput("header-too-large", f"more than {limits.max_header_bytes} bytes")
        if name.lower() in _PIPELINE or name.lower() == "received":
            out.append((name.lower(), text.replace("\x00", "\ufffd").strip()))
    # In the order the raw path reads them (field group by group), so both
    # views of one message give the same record.
    return in_group_order(out)


class _Walk:
    """The text and calendar parts of a payload tree, within the limits."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.parts = 0
        self.plain: Mapping[str, Any] | None = None
        self.html: Mapping[str, Any] | None = None
        self.calendars: list[Mapping[str, Any]] = []

    def visit(self, part: Mapping[str, Any], depth: int) -> None:
        kind = str(part.get("mimeType") or "").lower()
        children = part.get("parts")
        if kind == "message/rfc822":
            return
        if kind.startswith("multipart/") or isinstance(children, list):
            if depth < self.limits.max_mime_depth and isinstance(children, list):
                for child in children:
                    self.parts += 1
                    if self.parts > self.limits.max_mime_parts:
                        return
                    if isinstance(child, Mapping):
                        self.visit(child, depth + 1)
            return
        if kind in _CALENDAR_TYPES:
            self.calendars.append(part)
        elif _is_attachment(part):
            return
        elif kind == "text/plain" and self.plain is None:
            self.plain = part
        elif kind == "text/html" and self.html is None:
            self.html = part


def _is_attachment(part: Mapping[str, Any]) -> bool:
    if part.get("filename"):
        return True
    disposition = _header(part, "content-disposition") or ""
    return disposition.strip().lower().startswith("attachment")


def _header(part: Mapping[str, Any], name: str) -> str | None:
    headers = part.get("headers")
    for item in headers if isinstance(headers, list) else ():
        if isinstance(item, Mapping) and str(item.get("name", "")).lower() == name:
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


def _charset(part: Mapping[str, Any]) -> str | None:
    holder = email.message.Message()
    holder["content-type"] = _header(part, "content-type") or "text/plain"
    value = holder.get_param("charset")
    return value if isinstance(value, str) and value else None


def _data(part: Mapping[str, Any], limit: int) -> bytes | None:
    """The first ``limit`` bytes of a part's inline body; None when Gmail left it out of line."""
    body = part.get("body")
    data = body.get("data") if isinstance(body, Mapping) else None
    if not isinstance(data, str):
        return None
    chars = (limit // 3 + 1) * 4  # base64 quanta that hold ``limit`` bytes
    text = "".join(data[:chars].split()).rstrip("=")
    text = text[: len(text) - (len(text) % 4 == 1)]  # a lone final character holds no byte
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))[:limit]
    except ValueError:  # binascii.Error, or text that is not ASCII
        return b""  # broken base64 costs the text, never the message


def _first_text(walk: _Walk, limits: Limits) -> tuple[str | None, bool]:
    part = walk.plain or walk.html
    if part is None:
        return None, False
    data = _data(part, limits.max_text_bytes)
    if data is None:
        return None, False
    charset = "utf-8" if _is_utf8(data) else _charset(part)
    return decode_body(data, None, charset, limits.max_text_bytes), part is walk.html


def _is_utf8(data: bytes) -> bool:
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _calendar_parts(walk: _Walk, limits: Limits) -> Iterator[CalendarPart]:
    """The inline calendar parts; one too large is passed on unread, for its size to refuse it."""
    cap = calendar_cap(limits)
    for part in walk.calendars:
        body = part.get("body")
        size = body.get("size") if isinstance(body, Mapping) else None
        declared = size if isinstance(size, int) and size >= 0 else None
        if declared is not None and declared > cap:
            yield CalendarPart(b"", None, None, declared)
            continue
        data = _data(part, cap + 1)
        if data is None:
            continue  # out of line: an attachment, never fetched
        charset = "utf-8" if _is_utf8(data) else _charset(part)
        yield CalendarPart(data, None, charset, len(data))


def _size(resource: Mapping[str, Any]) -> int:
    size = resource.get("sizeEstimate")
    return size if isinstance(size, int) and size >= 0 else 0


def _internal_date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.isdigit() or len(value) > 15:
        return None
    try:
        return datetime.fromtimestamp(int(value) / 1000, UTC)
    except (ValueError, OverflowError, OSError):  # past year 9999
        return None
