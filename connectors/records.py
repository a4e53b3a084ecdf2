"""The contract between layers: what a connector hands to the matcher.

This module is the project's leaf: the record and value types every layer
shares (records, ``Limits``, the policy words ``When`` and ``Privacy``). It
imports nothing of the project, so ``config`` can use these types without
pulling in a connector or the matcher (docs/ARCHITECTURE.md, "Layers";
checked by import-linter).

Records are frozen and carry no behaviour beyond normalization, so a
connector can build them from any wire format and the matcher can be tested
on literals. Everything here is pure: no I/O, no clock.

Address *parsing* of raw header text (RFC 5322 groups, RFC 2047 encoded
words, garbage) belongs to ``matcher.addresses``; a ``Message`` therefore
keeps the raw header values it was given. Calendar attendees arrive already
split (``mailto:`` URI + CN) and become ``Address`` values directly.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Literal, TypeVar

# A cursor is an opaque JSON value only its connector understands; the agent
# stores it in the same transaction as the data it produced (docs/ARCHITECTURE.md, invariant 1).
Cursor = Mapping[str, Any]

# Header fields the pipeline reads. Connectors that can ask for a subset
# (IMAP BODY.PEEK[HEADER.FIELDS ...], Gmail format=metadata) ask for these.
PIPELINE_HEADERS: tuple[str, ...] = (
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "date",
    "subject",
    "message-id",
    "in-reply-to",
    "references",
    "list-id",
    "list-unsubscribe",
    "list-post",
    "list-help",
    "list-subscribe",
    "precedence",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "return-path",
    "content-type",
    # RFC 2156 (Outlook's "Sensitivity" flag): private mail is captured without its text.
    "sensitivity",
    # The Enron corpus keeps display names here (``matcher.x_names``).
    "x-from",
    "x-to",
    "x-cc",
)

MeetingStatus = Literal["confirmed", "tentative", "cancelled"]

# When a participant of a class may become a new contact, and how much of an
# interaction is stored: words of the contact-creation policy that the YAML
# settings and the matcher both speak.
When = Literal["never", "on_sent", "on_exchange", "always"]
Privacy = Literal["metadata", "subject", "full"]

# When a participant of each class may become a new contact, unless the
# account's policy says otherwise; the config file's defaults are these.
DEFAULT_CREATION: Mapping[str, When] = MappingProxyType(
    {
        "person": "on_exchange",
        "role": "never",
        "automated": "never",
        "internal": "never",
        "room": "never",
        "quoted": "never",
    }
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Guards on every parser; defaults suit real mail with margin.

    Bad input never stops an account (docs/ARCHITECTURE.md, invariant 2): past a limit, an
    item becomes an ``IngestError``.
    """

    max_header_bytes: int = 256 * 1024
    max_mime_depth: int = 20
    max_mime_parts: int = 500
    max_text_bytes: int = 64 * 1024  # first text part, as read from the source
    max_message_bytes: int = 64 * 1024 * 1024  # archive files: larger is an error
    max_ical_bytes: int = 4 * 1024 * 1024
    max_vevents: int = 2000  # per calendar object
    max_attendees: int = 1000
    max_occurrences: int = 500  # recurrence expansion cap per event


T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle a frozen slots dataclass as ``cls(*fields)``.

    Records and drafts cross from the agent's read-ahead process by pickle.
    By default a slots dataclass is rebuilt through ``__setstate__``, which
    looks its fields up again for every object; a constructor call with the
    values taken in C (attrgetter) is two to three times cheaper each way.
    Only for classes of two or more fields, all ``__init__`` parameters.
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    if len(names) < 2 or not all(f.init for f in fields(cls)):  # type: ignore[arg-type]
        raise TypeError(f"{cls.__name__}: needs two or more fields, all __init__ parameters")
    values = attrgetter(*names)  # with two or more names, a tuple

    def __reduce__(self: T) -> tuple[Any, ...]:
        return cls, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[assignment,method-assign]
    return cls


def normalize_email(addr: str) -> str:
    """Lower-case the address, NFC its local part and IDNA-encode its domain.

    Local parts are case-sensitive by RFC 5321 but no mail system in use
    treats them so, and CRMs compare addresses case-insensitively; folding
    both halves is what keeps "Ann@X.com" and "ann@x.com" one contact.
    Returns "" for text that has no usable "local@domain" shape.
    """
    # The same addresses recur in every message, and the IDNA codec is slow;
    # text longer than an address may be (RFC 5321: 254) is not remembered.
    if len(addr) <= _CACHED_ADDRESS_CHARS:
        return _normalized_cached(addr)
    return _normalized(addr)


def _normalized(addr: str) -> str:
    addr = addr.strip().strip("<>").strip()
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    local, sep, domain = addr.rpartition("@")
    if not sep or not local or not domain or _NOT_IN_ADDRESSES.search(addr):
        return ""
    if local.startswith("."):
        # RFC 5322 3.4.1: a dot-atom never starts with a dot. Converted
        # archives hold such husks of addresses ("pr <.palmer@enron.com>",
        # a Notes name cut to its last word) that no mail reaches. Trailing
        # and doubled dots are left alone: Japanese carriers issued those.
        return ""
    domain = domain.rstrip(".").lower()
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        if not domain.isascii():
            return ""
    if "." not in domain and domain != "localhost":
        return ""
    local = local.lower()
    if not local.isascii():
        # RFC 6532 section 3.1 recommends NFC for UTF-8 in mail: "é" typed as
        # e + combining accent must be the same mailbox as the single "é".
        local = unicodedata.normalize("NFC", local)
    return f"{local}@{domain}"


# White space, control characters and U+FFFD (which connectors put for a
# control byte): an address holding one prints like another, real one.
_NOT_IN_ADDRESSES = re.compile(r"[\s\x00-\x1f\x7f-\x9f\ufffd]")
_CACHED_ADDRESS_CHARS = 320
_normalized_cached = functools.lru_cache(maxsize=8192)(_normalized)


def normalize_message_id(value: str | None) -> str | None:
    """The bare id of a Message-ID header: first "<...>" token, or the trimmed text."""
    if not value:
        return None
    value = value.strip()
    start = value.find("<")
    end = value.find(">", start + 1)
    if start != -1 and end != -1:
        value = value[start + 1 : end]
    value = value.strip()
    if not value or len(value) > 998 or _WHITESPACE.search(value):
        return None
    return value


# \s of a str pattern is str.isspace(), in C rather than a generator per character.
_WHITESPACE = re.compile(r"\s")


def recurrence_key(recurrence_id: datetime | None) -> str:
    """RECURRENCE-ID as it appears in identities: UTC, basic format; "" for a single event."""
    return recurrence_id.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") if recurrence_id else ""


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Address:
    """A mailbox: normalized ``email`` for matching, display ``name``, ``raw`` as seen."""

    email: str
    name: str | None = None
    raw: str = ""

    @classmethod
    def of(cls, email: str, name: str | None = None, raw: str | None = None) -> Address | None:
        norm = normalize_email(email)
        if not norm:
            return None
        clean = " ".join(name.split()) if name else None
        return cls(norm, clean or None, raw if raw is not None else email)

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2]

    @property
    def local(self) -> str:
        return self.email.rpartition("@")[0]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a copy of an item lives: unique per (account, provider_id)."""

    account: str
    stream: str
    provider_id: str


@dataclass(frozen=True, slots=True)
class Attendee:
    address: Address
    role: str = "REQ-PARTICIPANT"  # RFC 5545 ROLE
    partstat: str = "NEEDS-ACTION"  # RFC 5545 PARTSTAT
    cutype: str = "INDIVIDUAL"  # RFC 5545 CUTYPE; ROOM/RESOURCE never become contacts


@dataclass(frozen=True, slots=True)
class Meeting:
    """One occurrence of a calendar event (recurring events arrive expanded)."""

    source: SourceRef
    uid: str
    recurrence_id: datetime | None  # UTC; None for a non-recurring event
    start: datetime  # UTC
    end: datetime | None  # UTC
    all_day: bool = False
    status: MeetingStatus = "confirmed"
    sequence: int = 0
    summary: str | None = None
    location: str | None = None
    organizer: Attendee | None = None
    attendees: tuple[Attendee, ...] = ()
    method: str | None = None  # iTIP METHOD of the carrying object (REQUEST, CANCEL, ...)
    # Marked private or confidential where it was written (iCalendar CLASS,
    # Graph sensitivity, Google visibility): captured without its summary.
    private: bool = False

    @property
    def identity(self) -> str:
        """Global identity: iCalendar UID + RECURRENCE-ID (docs/ARCHITECTURE.md, invariant 1)."""
        return f"ical:{self.uid}|{recurrence_key(self.recurrence_id)}"


@dataclass(frozen=True, slots=True)
class Message:
    """One mail message: the header fields the pipeline reads plus the first text part.

    ``headers`` holds (lower-cased name, unfolded raw value) pairs in order,
    still RFC 2047-encoded, for the names in ``PIPELINE_HEADERS``.
    """

    source: SourceRef
    message_id: str | None
    date: datetime | None  # UTC
    subject: str | None  # decoded
    headers: tuple[tuple[str, str], ...]
    thread_key: str | None = None
    text: str | None = None  # first text part, decoded, capped
    text_is_html: bool = False  # ``text`` is HTML (the message had no text/plain part)
    size: int = 0  # bytes of the whole message as stored at the source
    meetings: tuple[Meeting, ...] = ()  # text/calendar invitations carried inside
    labels: tuple[str, ...] = field(default=())  # provider folders/labels, informative
    # The message/delivery-status part of a delivery report (RFC 3464), decoded
    # and capped like ``text``: which recipients failed, with their status codes.
    delivery_status: str | None = None

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> Iterator[str]:
        name = name.lower()
        return (value for key, value in self.headers if key == name)

    @property
    def identity(self) -> str:
        """Global identity: the normalized Message-ID, else a digest of stable headers."""
        if self.message_id:
            return f"msgid:{self.message_id}"
        basis = "\n".join(
            [
                self.header("from") or "",
                self.header("date") or "",
                self.header("to") or "",
                self.subject or "",
            ]
        )
        return "digest:" + hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:32]


Record = Message | Meeting


@dataclass(frozen=True, slots=True)
class IngestError:
    """An item that could not be captured: recorded, never raised.

    See docs/ARCHITECTURE.md, invariant 2.
    """

    source: SourceRef
    reason: str  # short, stable, machine-readable: "header-too-large", "bad-ical", ...
    detail: str = ""  # human text; never message bodies or secrets
    # Where a person finds the item when the provider id is opaque (an mbox
    # digest): "byte 91435; Message-ID <...>; Date ...". Never the subject,
    # which an account's privacy setting may forbid storing.
    locator: str = ""


@pickled_by_fields  # one per message crosses from the read-ahead process
@dataclass(frozen=True, slots=True)
class Held:
    """One item as the provider names it in a listing, and the copies it gave.

    The completeness ledger keeps one row per (item, copy): ``Connector.inventory``
    lists items by the same names, so comparing the two needs no body.
    """

    item: str  # IMAP: the UID; CalDAV: the object's path
    version: str  # IMAP: UIDVALIDITY; CalDAV: the ETag (a change is a new version)
    provider_ids: tuple[str, ...] = ()  # copies (or ingest errors) it produced; may be none


@dataclass(frozen=True, slots=True)
class Inventory:
    """What the provider holds in one stream, listed without fetching a body.

    ``items`` ({item: version}) is what a complete capture must have seen
    (IMAP: the window's UIDs); ``present`` every item still there, of any
    date, so an item that merely slid out of the window is not taken for one
    deleted (None: the listing cannot tell; nothing is judged gone, as for
    Gmail, whose history reports deletions).
    """

    items: Mapping[str, str]
    present: frozenset[str] | None = None
    since: datetime | None = None  # the window start the listing covers


@dataclass(frozen=True, slots=True)
class Batch:
    records: list[Record]
    errors: list[IngestError]
    next_cursor: Cursor
    has_more: bool
    removed: list[SourceRef] = field(default_factory=list)  # deleted at the source
    # The items this batch accounts for (the completeness ledger), from
    # connectors that offer ``inventory``; empty from the others.
    held: list[Held] = field(default_factory=list)
    # Items the connector knows are still to come in this stream (None: unknown):
    # the estimate behind an account's backfill progress.
    remaining: int | None = None
