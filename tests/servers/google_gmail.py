"""The Gmail side of the Google fake: one user's mailbox, its history and the API handlers.

Messages enter as raw RFC 5322 bytes (``Mailbox.add``), so the generators
the IMAP and archive tests use feed this fake too; the API views
(``format=minimal|metadata|full|raw``) are built from those bytes the way
Gmail presents them:

- ``payload`` is the MIME tree: ``partId`` "" at the top, then "0", "1",
  "0.1" ...; ``headers`` in message order, unfolded; ``body.data`` is the
  transfer-decoded part in base64url; a part with a file name carries
  ``body.attachmentId`` and ``size`` instead of data.
- Header values are given with RFC 2047 encoded words decoded, as Gmail
  shows them.
- Message and history ids are 16 hex digits / decimal strings; history ids
  grow with gaps (the API says they are not contiguous), so a client that
  counts on ``id + 1`` fails here as it would against Gmail.
- ``messages.list`` is newest first; ``q`` understands ``after:``/``before:``
  (epoch seconds, or a date read as midnight US Pacific as Gmail documents),
  ``in:``/``label:`` (``drafts`` and ``chats`` as Gmail names them), each
  negated by ``-``. Any other term is refused with 400 rather than
  silently matched: a test must not rely on search the fake lacks.
- ``history.list`` with a ``startHistoryId`` older than the kept history is
  404, as Gmail answers once history has expired (``expire_history``).
"""

from __future__ import annotations

import base64
import email
import email.header
import email.message
import email.policy
import email.utils
import html
import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.servers.google_discovery import ApiError, first

SYSTEM_LABELS = (
    "INBOX",
    "SENT",
    "DRAFT",
    "SPAM",
    "TRASH",
    "UNREAD",
    "STARRED",
    "IMPORTANT",
    "CHAT",
    "CATEGORY_PERSONAL",
    "CATEGORY_SOCIAL",
    "CATEGORY_PROMOTIONS",
    "CATEGORY_UPDATES",
    "CATEGORY_FORUMS",
)
_PACIFIC = ZoneInfo("America/Los_Angeles")
NOT_FOUND = ApiError(404, "Requested entity was not found.", "notFound")


@dataclass
class StoredMessage:
    id: str
    thread_id: str
    raw: bytes
    labels: list[str]
    internal_ms: int
    history_id: int


@dataclass(frozen=True)
class Change:
    """One history record: messageAdded, messageDeleted, labelAdded or labelRemoved."""

    id: int
    kind: str
    message: dict[str, Any]  # id, threadId, labelIds at the time
    labels: tuple[str, ...] = ()


@dataclass
class Mailbox:
    address: str
    messages: dict[str, StoredMessage] = field(default_factory=dict)
    history: list[Change] = field(default_factory=list)
    history_id: int = 4000
    oldest_history: int = 0  # a startHistoryId below this is 404
    user_labels: dict[str, str] = field(default_factory=dict)  # id -> name
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _threads: dict[str, str] = field(default_factory=dict)  # Message-ID -> thread id

    # ------------------------------------------------------------ state changes

    def _next_history(self) -> int:
        self.history_id += 3 + self.history_id % 5  # ids grow with gaps, never by one
        return self.history_id

    def add(
        self, raw: bytes, labels: tuple[str, ...] = ("INBOX", "UNREAD"), internal_ms: int = 0
    ) -> str:
        """Deliver ``raw``; returns the message id. ``internal_ms`` defaults to the Date header."""
        n = next(self._ids)
        msg_id = f"{0x18C2A00000000000 + n * 0x1F3B:016x}"
        parsed = email.message_from_bytes(raw)
        thread = self._thread_of(parsed, msg_id)
        if not internal_ms:
            when = email.utils.parsedate_to_datetime(parsed["Date"]) if parsed["Date"] else None
            internal_ms = int(when.timestamp() * 1000) if when else 1_700_000_000_000 + n
        stored = StoredMessage(msg_id, thread, raw, list(labels), internal_ms, 0)
        stored.history_id = self._record("messageAdded", stored)
        self.messages[msg_id] = stored
        return msg_id

    def _thread_of(self, parsed: email.message.Message, msg_id: str) -> str:
        refs = (parsed.get("References", "") + " " + parsed.get("In-Reply-To", "")).split()
        thread = next((self._threads[r] for r in refs if r in self._threads), msg_id)
        if parsed.get("Message-ID"):
            self._threads[parsed["Message-ID"].strip()] = thread
        return thread

    def _record(self, kind: str, stored: StoredMessage, labels: tuple[str, ...] = ()) -> int:
        hid = self._next_history()
        brief = {"id": stored.id, "threadId": stored.thread_id, "labelIds": list(stored.labels)}
        self.history.append(Change(hid, kind, brief, labels))
        return hid

    def delete(self, msg_id: str) -> None:
        """Permanently delete (not trash): a messageDeleted record."""
        stored = self.messages.pop(msg_id)
        self._record("messageDeleted", stored)

    def relabel(self, msg_id: str, add: tuple[str, ...] = (), remove: tuple[str, ...] = ()) -> None:
        stored = self.messages[msg_id]
        added = tuple(x for x in add if x not in stored.labels)
        removed = tuple(x for x in remove if x in stored.labels)
        stored.labels = [x for x in stored.labels if x not in removed] + list(added)
        if added:
            stored.history_id = self._record("labelAdded", stored, added)
        if removed:
            stored.history_id = self._record("labelRemoved", stored, removed)

    def add_label(self, name: str) -> str:
        label_id = f"Label_{len(self.user_labels) + 1}"
        self.user_labels[label_id] = name
        return label_id

    def expire_history(self) -> None:
        """Forget all history so far: every history id issued until now becomes 404. The
        mailbox moves to a new history id, which getProfile hands out and history accepts."""
        self.oldest_history = self._next_history()
        self.history.clear()

    # ------------------------------------------------------------ API handlers

    def get_profile(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        threads = {m.thread_id for m in self.messages.values()}
        return {
            "emailAddress": self.address,
            "messagesTotal": len(self.messages),
            "threadsTotal": len(threads),
            "historyId": str(self.history_id),
        }

    def list_labels(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        labels = [{"id": x, "name": x, "type": "system"} for x in SYSTEM_LABELS]
        labels += [
            {
                "id": label_id,
                "name": name,
                "type": "user",
                "messageListVisibility": "show",
                "labelListVisibility": "labelShow",
            }
            for label_id, name in self.user_labels.items()
        ]
        return {"labels": labels}

    def list_messages(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        wanted = query.get("labelIds", [])
        hidden = set() if _flag(query, "includeSpamTrash") else {"SPAM", "TRASH"}
        test = _search(first(query, "q") or "", self)
        found = [
            m
            for m in sorted(self.messages.values(), key=lambda m: (-m.internal_ms, m.id))
            if all(x in m.labels for x in wanted)
            and not (hidden & set(m.labels) - set(wanted))
            and test(m)
        ]
        page, token = _page(found, query, default=100, most=500)
        out: dict[str, Any] = {}
        if page:
            out["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if token:
            out["nextPageToken"] = token
        out["resultSizeEstimate"] = len(found)
        return out

    def get_message(self, query: Mapping[str, list[str]], msg_id: str) -> dict[str, Any]:
        stored = self.messages.get(msg_id)
        if stored is None:
            raise NOT_FOUND
        kind = (first(query, "format") or "full").lower()
        parsed = email.message_from_bytes(stored.raw)
        out: dict[str, Any] = {
            "id": stored.id,
            "threadId": stored.thread_id,
            "labelIds": list(stored.labels),
            "snippet": _snippet(parsed),
            "sizeEstimate": len(stored.raw),
            "historyId": str(stored.history_id),
            "internalDate": str(stored.internal_ms),
        }
        if kind == "full":
            out["payload"] = _part(parsed, "")
        elif kind == "metadata":
            names = {h.lower() for h in query.get("metadataHeaders", [])}
            headers = [h for h in _headers(parsed) if not names or h["name"].lower() in names]
            out["payload"] = {
                "partId": "",
                "mimeType": parsed.get_content_type(),
                "filename": "",
                "headers": headers,
            }
        elif kind == "raw":
            out["raw"] = base64.urlsafe_b64encode(stored.raw).decode("ascii")
        return out

    def list_history(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        start_text = first(query, "startHistoryId")
        if not start_text or not start_text.isdigit():
            raise ApiError(400, "Invalid startHistoryId", "invalidArgument")
        start = int(start_text)
        if start < self.oldest_history:
            raise NOT_FOUND
        kinds = set(query.get("historyTypes", [])) or {
            "messageAdded",
            "messageDeleted",
            "labelAdded",
            "labelRemoved",
        }
        label = first(query, "labelId")
        records = [
            c
            for c in self.history
            if c.id > start
            and c.kind in kinds
            and (label is None or label in c.message["labelIds"] or label in c.labels)
        ]
        page, token = _page(records, query, default=100, most=500)
        out: dict[str, Any] = {}
        if page:
            out["history"] = [_history_record(c) for c in page]
        if token:
            out["nextPageToken"] = token
        out["historyId"] = str(self.history_id)
        return out


def _history_record(change: Change) -> dict[str, Any]:
    brief = {"id": change.message["id"], "threadId": change.message["threadId"]}
    record: dict[str, Any] = {"id": str(change.id), "messages": [brief]}
    key = {
        "messageAdded": "messagesAdded",
        "messageDeleted": "messagesDeleted",
        "labelAdded": "labelsAdded",
        "labelRemoved": "labelsRemoved",
    }[change.kind]
    entry: dict[str, Any] = {"message": dict(change.message)}
    if change.labels:
        entry["labelIds"] = list(change.labels)
    record[key] = [entry]
    return record


# ---------------------------------------------------------------- helpers


def _flag(query: Mapping[str, list[str]], name: str) -> bool:
    return first(query, name) == "true"


def _page(items: list[Any], query: Mapping[str, list[str]], default: int, most: int) -> Any:
    """One page of ``items`` and the token of the next, if any; tokens are opaque offsets."""
    size = min(int(first(query, "maxResults") or default), most)
    token = first(query, "pageToken")
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("o:"))
        except ValueError:
            raise ApiError(400, "Invalid pageToken", "invalidArgument") from None
    page = items[offset : offset + size]
    more = offset + size < len(items)
    next_token = base64.urlsafe_b64encode(f"o:{offset + size}".encode()).decode() if more else None
    return page, next_token


def _search(q: str, mailbox: Mailbox) -> Callable[[StoredMessage], bool]:
    tests: list[Callable[[StoredMessage], bool]] = []
    for term in q.split():
        key, _, value = term.partition(":")
        key = key.lower()
        if key in ("-in", "-label") and value:  # Gmail's "-" excludes a term
            tests.append(_labelled(_label_id(value, mailbox), False))
            continue
        if key in ("after", "before") and value:
            tests.append(_received(_search_time(value), after=key == "after"))
        elif key in ("in", "label") and value:
            tests.append(_labelled(_label_id(value, mailbox), True))
        else:
            raise ApiError(400, f"the fake does not implement the search term {term!r}", "fake")
    return lambda m: all(t(m) for t in tests)


def _labelled(label: str, wanted: bool) -> Callable[[StoredMessage], bool]:
    return lambda m: (label in m.labels) is wanted


def _received(bound: int, after: bool) -> Callable[[StoredMessage], bool]:
    """after: keeps the bound and later, before: only what is earlier."""
    return lambda m: (m.internal_ms >= bound) is after


def _search_time(value: str) -> int:
    """Epoch seconds as given, or a date at midnight US Pacific (Gmail's reading of dates)."""
    if value.isdigit():
        return int(value) * 1000
    match = re.fullmatch(r"(\d{4})[/-](\d{1,2})[/-](\d{1,2})", value)
    if match is None:
        raise ApiError(400, f"the fake cannot read the date {value!r}", "fake")
    year, month, day = (int(g) for g in match.groups())
    return int(datetime(year, month, day, tzinfo=_PACIFIC).timestamp() * 1000)


def _label_id(value: str, mailbox: Mailbox) -> str:
    upper = {"DRAFTS": "DRAFT", "CHATS": "CHAT"}.get(value.upper(), value.upper())
    if upper in SYSTEM_LABELS:
        return upper
    return next((k for k, v in mailbox.user_labels.items() if v.lower() == value.lower()), value)


def _decoded(value: str) -> str:
    value = " ".join(value.replace("\r\n", "\n").replace("\n", " ").split())
    if "=?" not in value:
        return value
    return str(email.header.make_header(email.header.decode_header(value)))


def _headers(part: email.message.Message) -> list[dict[str, str]]:
    return [{"name": name, "value": _decoded(str(value))} for name, value in part.items()]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _part(part: email.message.Message, part_id: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partId": part_id,
        "mimeType": part.get_content_type(),
        "filename": part.get_filename() or "",
        "headers": _headers(part),
    }
    if part.is_multipart():
        out["body"] = {"size": 0}
        children = part.get_payload()
        assert isinstance(children, list)
        prefix = f"{part_id}." if part_id else ""
        out["parts"] = [_part(child, f"{prefix}{i}") for i, child in enumerate(children)]
        return out
    data = part.get_payload(decode=True)
    data = data if isinstance(data, bytes) else b""
    if out["filename"]:
        digest = _b64url(f"{part_id}:{len(data)}".encode()).rstrip("=")
        out["body"] = {"attachmentId": "ANGjdJ" + digest, "size": len(data)}
    else:
        out["body"] = {"size": len(data), "data": _b64url(data)} if data else {"size": 0}
    return out


def _snippet(parsed: email.message.Message) -> str:
    for part in parsed.walk():
        if part.get_content_type() == "text/plain" and not part.get_filename():
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                text = data.decode(part.get_content_charset() or "utf-8", "replace")
                return html.escape(" ".join(text.split())[:200], quote=True)
    return ""
