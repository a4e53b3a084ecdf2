"""Microsoft Graph v1.0 ``message`` and ``event`` resources -> ``Message`` and ``Meeting``.

Pure: JSON in, records out, in the same terms the IMAP, archive, Gmail and
iCalendar paths use, so one message or meeting reads the same whichever
way it arrived.

Messages. The header fields come from ``internetMessageHeaders`` when the
request selected them: they are written back into a header block and read
by ``connectors.mail.headers`` exactly as a stored message's header is (same
groups, same caps, same notes). Exchange keeps no Bcc field in a sent
item's headers, and a listing without ``internetMessageHeaders`` has none
at all, so any address, subject, Message-ID or date field the block lacks
is written from the resource's own properties (``from``, ``sender``,
``toRecipients``, ``ccRecipients``, ``bccRecipients``, ``replyTo``,
``subject``, ``internetMessageId``, ``sentDateTime``). Ids, thread key and
date then come from ``connectors.mail.mime.message_from_parts``;
``receivedDateTime`` is the fallback date, as INTERNALDATE is for IMAP.
The text is ``body.content`` (ask for ``outlook.body-content-type="text"``;
an HTML body is kept as HTML and flagged), its first ``max_text_bytes``.
An ``eventMessage`` (an invitation, cancellation or reply in the mailbox)
keeps its meeting when the request expanded its ``event``: that meeting is
the one the calendar holds, with the iTIP method its ``meetingMessageType``
names.

Events, as ``calendarView/delta`` lists instances:

- identity: ``iCalUId`` is Exchange's encoded global object id (MS-OXCICAL
  2.1.3.1.1.20.26), hex. Exchange writes the instance date into bytes 16-19
  of an occurrence's id, so each occurrence of a series has its own
  ``iCalUId``; with those bytes zeroed it is the UID Exchange puts in the
  invitations it sends. An id that wraps a third-party UID (data starting
  ``vCal-Uid``, an invitation Exchange received from another system) is
  that UID. Any other value is taken as the UID itself. An ``occurrence``
  or ``exception`` takes its ``originalStart`` (UTC) as RECURRENCE-ID,
  exactly as ``connectors.calendar.ical`` names each occurrence of a series.
- times: ``{dateTime, timeZone}`` with an IANA or Windows zone name (Graph
  answers in UTC unless asked otherwise); ``isAllDay`` gives the date at
  00:00 UTC with ``all_day``, as ``ical`` reads a DATE.
- ``isCancelled`` -> cancelled; attendees ``required``/``optional`` ->
  REQ-/OPT-PARTICIPANT, ``resource`` (rooms, equipment) left out, and
  ``status.response`` mapped to PARTSTAT.
- a ``seriesMaster`` is not a meeting (``unexpanded-series``); a deleted
  item (``@removed``) is told apart by ``is_removed``.
"""

from __future__ import annotations

import email.utils
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from connectors.base import InvalidInput, Limits
from connectors.mail.charsets import decode_body
from connectors.mail.dates import Dated
from connectors.mail.headers import read_stored_header
from connectors.mail.mime import calendar_source, message_from_parts
from connectors.microsoft.graph_event import event_source, parse_graph_event
from connectors.records import IngestError, Meeting, Message, SourceRef

# Graph ids are URL-safe base64 of an EntryID (about 150 characters); 1 KiB
# is far past any real one.
_GRAPH_ID = re.compile(r"[A-Za-z0-9+/=_-]{1,1024}")
_ADDRESS_PROPERTIES = (
    ("from", "from"),
    ("sender", "sender"),
    ("replyTo", "reply-to"),
    ("toRecipients", "to"),
    ("ccRecipients", "cc"),
    ("bccRecipients", "bcc"),
)
# iTIP METHOD (RFC 5546) of each kind of meeting message.
_METHODS = {
    "meetingRequest": "REQUEST",
    "meetingCancelled": "CANCEL",
    "meetingAccepted": "REPLY",
    "meetingTenativelyAccepted": "REPLY",  # sic: Graph's own spelling
    "meetingTentativelyAccepted": "REPLY",
    "meetingDeclined": "REPLY",
}

__all__ = ["event_source", "graph_source", "is_removed", "parse_graph_event", "parse_graph_message"]


def graph_source(account: str, stream: str, item_id: object) -> SourceRef:
    """The copy a Graph message id names; ``InvalidInput`` for an id Graph never gives."""
    if not isinstance(item_id, str) or not _GRAPH_ID.fullmatch(item_id):
        raise InvalidInput("bad-graph-message", "message id is not a Graph id")
    return SourceRef(account, stream, f"graph:{item_id}")


def is_removed(item: Any) -> bool:
    """A delta listing's deleted (or moved-away) item: ``{"id", "@removed": {...}}``."""
    return isinstance(item, Mapping) and isinstance(item.get("@removed"), Mapping)


def parse_graph_message(
    resource: Any, account: str, stream: str, limits: Limits
) -> tuple[Message, list[IngestError]]:
    """One message resource as a ``Message``, plus notes on what reading it left out.

    Raises ``InvalidInput`` for a resource that is not a readable message.
    """
    if not isinstance(resource, Mapping):
        raise InvalidInput("bad-graph-message", "not an object")
    source = graph_source(account, stream, resource.get("id"))
    if is_removed(resource):
        raise InvalidInput("bad-graph-message", "a removed item has no content")
    read = read_stored_header(_header_block(resource), limits.max_header_bytes)
    text, is_html = _text(resource.get("body"), limits)
    received = _utc_stamp(resource.get("receivedDateTime"))
    meetings, errors = _carried(resource, source, limits)
    message, notes = message_from_parts(
        source,
        read,
        text,
        is_html,
        0,  # Graph reports no message size without an extended property
        meetings,
        Dated(received, "server") if received is not None else None,
    )
    return message, [*errors, *notes]


def _header_block(resource: Mapping[str, Any]) -> bytes:
    """The message's header fields as a stored header block, for ``read_stored_header``."""
    lines: list[str] = []
    names: set[str] = set()
    given = resource.get("internetMessageHeaders")
    if given is not None and not isinstance(given, list):
        raise InvalidInput("bad-graph-message", "internetMessageHeaders is not a list")
    # No cap here: the list is already in memory as JSON, and the groups'
    # caps (with their header-truncated notes) apply when the block is read.
    for item in given or ():
        if not isinstance(item, Mapping):
            raise InvalidInput("bad-graph-message", "header is not an object")
        name, value = item.get("name"), item.get("value")
        if not isinstance(name, str) or not isinstance(value, str) or not _field_name(name):
            raise InvalidInput("bad-graph-message", "header without name or value")
        lines.append(f"{name}: {_one_line(value)}")
        names.add(name.lower())
    lines.extend(_property_fields(resource, names))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8", "replace")


def _property_fields(resource: Mapping[str, Any], present: set[str]) -> list[str]:
    """Header lines for what the resource's properties say and the headers did not."""
    out: list[str] = []
    for prop, name in _ADDRESS_PROPERTIES:
        if name in present:
            continue
        value = _address_list(resource.get(prop), prop)
        if value:
            out.append(f"{name.title()}: {value}")
    simple: tuple[tuple[str, str, Any], ...] = (
        ("subject", "Subject", resource.get("subject")),
        ("message-id", "Message-ID", resource.get("internetMessageId")),
        ("date", "Date", _rfc5322_date(resource.get("sentDateTime"))),
    )
    for name, title, text in simple:
        if name not in present and isinstance(text, str) and text:
            out.append(f"{title}: {_one_line(text)}")
    return out


def _address_list(value: Any, prop: str) -> str:
    items = [value] if isinstance(value, Mapping) else value
    if items is None:
        return ""
    if not isinstance(items, list):
        raise InvalidInput("bad-graph-message", f"{prop} is not a recipient list")
    shown: list[str] = []
    for item in items:
        box = item.get("emailAddress") if isinstance(item, Mapping) else None
        address = box.get("address") if isinstance(box, Mapping) else None
        if not isinstance(address, str) or not address.strip():
            continue  # Exchange lists unresolved recipients without an address
        name = box.get("name") if isinstance(box, Mapping) else None
        # Exchange repeats the address as the name when it knows none.
        shown_name = name if isinstance(name, str) and name != address else ""
        shown.append(_one_line(email.utils.formataddr((shown_name, address.strip()))))
    return ", ".join(shown)


def _field_name(name: str) -> bool:
    return bool(name) and all(33 <= ord(c) <= 126 and c != ":" for c in name)


def _one_line(value: str) -> str:
    """A value as one header line: line breaks would start a forged field."""
    return " ".join(value.replace("\x00", "\ufffd").split())


def _rfc5322_date(value: Any) -> str | None:
    moment = _utc_stamp(value)
    return email.utils.format_datetime(moment) if moment is not None else None


def _utc_stamp(value: Any) -> datetime | None:
    """A Graph DateTimeOffset (``2026-11-12T08:12:00Z``) as UTC; None when unreadable."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _text(body: Any, limits: Limits) -> tuple[str | None, bool]:
    if body is None:
        return None, False
    if not isinstance(body, Mapping):
        raise InvalidInput("bad-graph-message", "body is not an object")
    content = body.get("content")
    if not isinstance(content, str):
        return None, False
    data = content[: limits.max_text_bytes].encode("utf-8", "replace")
    # The same cap the other sources put on a text part's bytes.
    text = decode_body(data, None, "utf-8", limits.max_text_bytes)
    return text, str(body.get("contentType", "")).lower() == "html"


def _carried(
    resource: Mapping[str, Any], source: SourceRef, limits: Limits
) -> tuple[list[Meeting], list[IngestError]]:
    """The meeting an expanded eventMessage carries, with its iTIP method."""
    kind = resource.get("meetingMessageType")
    event = resource.get("event")
    if not isinstance(kind, str) or not isinstance(event, Mapping):
        return [], []
    carried = calendar_source(source)
    try:
        meeting = parse_graph_event(event, carried.account, carried.stream, limits)
    except InvalidInput as error:
        return [], [IngestError(carried, error.reason, error.detail)]
    method = _METHODS.get(kind)
    # As connectors.calendar.ical reads an iTIP CANCEL: the meeting it names is cancelled.
    status = "cancelled" if method == "CANCEL" else meeting.status
    return [replace(meeting, method=method, source=carried, status=status)], []
