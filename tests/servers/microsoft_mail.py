"""The mail side of the Graph fake: one user's folders, messages as Graph shows them, and changes.

Messages enter as raw RFC 5322 bytes (``Mailbox.add``), so the generators
the IMAP, archive and Gmail tests use feed this fake too; ``message_view``
builds Graph's ``message`` resource from those bytes the way Exchange
presents them:

- addresses as ``{"emailAddress": {"name", "address"}}`` (``from``,
  ``sender`` (the Sender field, else From), ``toRecipients``,
  ``ccRecipients``, ``bccRecipients``, ``replyTo``), names decoded;
- ``sentDateTime`` is the Date field, ``receivedDateTime`` the delivery
  time, both UTC with a ``Z``; ``internetMessageId`` keeps its brackets;
  ``conversationId`` is one id per thread (References, else In-Reply-To,
  else the message itself);
- ``body`` is HTML unless the request prefers text
  (``Prefer: outlook.body-content-type="text"``); Exchange converts a
  text-only message to HTML and an HTML-only one to text on the way out;
- ``internetMessageHeaders`` only when ``$select`` names it, in message
  order, values unfolded;
- a message that carries a text/calendar invitation is an
  ``eventMessage``: ``@odata.type`` ``#microsoft.graph.eventMessageRequest``
  with ``meetingMessageType`` ``meetingRequest`` (METHOD:REQUEST),
  ``meetingCancelled`` for CANCEL, the REPLY kinds for replies; its
  ``event`` appears only through ``$expand=microsoft.graph.eventMessage/event``.

Every change (add, update, move, delete) is one entry in the mailbox's
change log, numbered; the delta machinery in ``microsoft_graph`` reads a
folder's changes after a number. A moved message gets a new id in the
target folder and is ``@removed`` from the old one, as Exchange does
without the ImmutableId preference.
"""

from __future__ import annotations

import email
import email.message
import email.policy
import email.utils
import hashlib
import html
import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from typing import Any

from inscriptis import get_text

WELL_KNOWN = ("inbox", "sentitems", "drafts", "deleteditems", "archive", "junkemail")
DISPLAY_NAMES = {
    "inbox": "Inbox",
    "sentitems": "Sent Items",
    "drafts": "Drafts",
    "deleteditems": "Deleted Items",
    "archive": "Archive",
    "junkemail": "Junk Email",
}
MESSAGE_PROPERTIES = frozenset(
    {
        "id",
        "createdDateTime",
        "lastModifiedDateTime",
        "changeKey",
        "categories",
        "receivedDateTime",
        "sentDateTime",
        "hasAttachments",
        "internetMessageId",
        "internetMessageHeaders",
        "subject",
        "bodyPreview",
        "importance",
        "parentFolderId",
        "conversationId",
        "conversationIndex",
        "isDeliveryReceiptRequested",
        "isReadReceiptRequested",
        "isRead",
        "isDraft",
        "webLink",
        "inferenceClassification",
        "body",
        "uniqueBody",
        "sender",
        "from",
        "toRecipients",
        "ccRecipients",
        "bccRecipients",
        "replyTo",
        "flag",
        "meetingMessageType",
    }
)
_METHOD_KINDS = {
    "REQUEST": ("#microsoft.graph.eventMessageRequest", "meetingRequest"),
    "CANCEL": ("#microsoft.graph.eventMessage", "meetingCancelled"),
    "REPLY": ("#microsoft.graph.eventMessageResponse", "meetingAccepted"),
}


@dataclass
class Stored:
    id: str
    folder: str
    raw: bytes
    received: datetime
    is_draft: bool = False
    event_id: str | None = None  # the calendar event an invitation belongs to
    # Properties this item shows in place of the ones built from its bytes: a
    # store item Exchange serves damaged (a test of the client's refusals).
    damage: dict[str, Any] | None = None
    # The resource as built from the bytes, by whether the body is text (a cache:
    # building it parses the message, which a benchmark must not measure twice).
    rendered: dict[bool, dict[str, Any]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Change:
    seq: int
    folder: str
    id: str
    removed: bool


@dataclass
class Mailbox:
    address: str
    folders: dict[str, str] = field(default_factory=dict)  # folder id -> well-known name
    # Folders the user made: id -> (display name, parent id; None at the top).
    user_folders: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    messages: dict[str, Stored] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _threads: dict[str, str] = field(default_factory=dict)  # Message-ID -> conversation id

    def __post_init__(self) -> None:
        for name in WELL_KNOWN:
            digest = hashlib.sha256(f"{self.address}/{name}".encode()).hexdigest()
            self.folders["AAMkAGI2TG93AAA" + digest[:40] + "AAA="] = name

    # ------------------------------------------------------------ state changes

    def add_folder(self, display_name: str, parent: str | None = "inbox") -> str:
        """A folder the user made, under ``parent`` (a well-known name or id; None: the top)."""
        parent_id = self.folder_id(parent) if parent is not None else None
        digest = hashlib.sha256(f"{self.address}/{parent_id}/{display_name}".encode()).hexdigest()
        folder_id = "AAMkAGI2TG93AAE" + digest[:40] + "AAA="
        self.user_folders[folder_id] = (display_name, parent_id)
        return folder_id

    def children(self, parent_id: str | None) -> list[str]:
        """Folder ids under ``parent_id`` (None: the top of the mailbox, as /mailFolders lists)."""
        top = list(self.folders) if parent_id is None else []
        return top + [i for i, (_, p) in self.user_folders.items() if p == parent_id]

    def display_name(self, folder_id: str) -> str:
        if folder_id in self.folders:
            return DISPLAY_NAMES[self.folders[folder_id]]
        return self.user_folders[folder_id][0]

    def folder_id(self, name_or_id: str) -> str | None:
        """A folder's id from its well-known name (any case) or its id."""
        if name_or_id in self.folders or name_or_id in self.user_folders:
            return name_or_id
        wanted = name_or_id.lower()
        return next((k for k, v in self.folders.items() if v == wanted), None)

    def add(
        self,
        raw: bytes,
        folder: str = "inbox",
        received: datetime | None = None,
        event_id: str | None = None,
        damage: dict[str, Any] | None = None,
    ) -> str:
        """Deliver ``raw`` into ``folder``; ``received`` defaults to the Date field."""
        parsed = email.message_from_bytes(raw)
        if received is None:
            received = email.utils.parsedate_to_datetime(parsed["Date"]).astimezone(UTC)
        folder_id = self.folder_id(folder)
        assert folder_id is not None, f"no folder {folder}"
        stored = Stored(self._new_id(), folder_id, raw, received, event_id=event_id, damage=damage)
        self.messages[stored.id] = stored
        self._change(stored, removed=False)
        return stored.id

    def touch(self, message_id: str) -> None:
        """An update the user made (read, flagged): the message shows up in delta again."""
        self._change(self.messages[message_id], removed=False)

    def move(self, message_id: str, folder: str) -> str:
        old = self.messages.pop(message_id)
        self._change(old, removed=True)
        target = self.folder_id(folder)
        assert target is not None
        moved = Stored(self._new_id(), target, old.raw, old.received, old.is_draft, old.event_id)
        self.messages[moved.id] = moved
        self._change(moved, removed=False)
        return moved.id

    def delete(self, message_id: str) -> None:
        self._change(self.messages.pop(message_id), removed=True)

    def _new_id(self) -> str:
        digest = hashlib.sha256(f"{self.address}#{next(self._ids)}".encode()).hexdigest()
        return f"AAMkAGI2TG93AGAAA{digest[:48]}AAA="

    def _change(self, stored: Stored, removed: bool) -> None:
        self.changes.append(Change(next(self._seq), stored.folder, stored.id, removed))

    @property
    def last_seq(self) -> int:
        return self.changes[-1].seq if self.changes else 0

    def conversation_of(self, parsed: email.message.Message) -> str:
        refs = (
            str(parsed.get("References", "")) + " " + str(parsed.get("In-Reply-To", ""))
        ).split()
        own = str(parsed.get("Message-ID", "")).strip()
        known = next((self._threads[r] for r in refs if r in self._threads), None)
        root = known or (refs[0] if refs else own)
        conversation = "AAQkAGI2TG93" + hashlib.sha256(root.encode()).hexdigest()[:32] + "="
        if own:
            self._threads.setdefault(own, conversation)
        return conversation


# ---------------------------------------------------------------- the resource


def message_view(
    stored: Stored, mailbox: Mailbox, select: frozenset[str] | None, text_body: bool
) -> dict[str, Any]:
    """The message resource; ``select`` None means Graph's default property set."""
    if text_body not in stored.rendered:  # a stored message's bytes never change
        parsed = email.message_from_bytes(stored.raw, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        stored.rendered[text_body] = _full(stored, parsed, mailbox, text_body)
    full = dict(stored.rendered[text_body])
    wanted = select if select is not None else MESSAGE_PROPERTIES - {"internetMessageHeaders"}
    full.update(stored.damage or {})
    view = {k: v for k, v in full.items() if k in wanted or k.startswith("@odata")}
    if "meetingMessageType" not in full:
        view.pop("meetingMessageType", None)
    view["id"] = stored.id
    return view


def _full(
    stored: Stored, parsed: email.message.EmailMessage, mailbox: Mailbox, text_body: bool
) -> dict[str, Any]:
    sender = _addresses(parsed, "Sender") or _addresses(parsed, "From")
    text, is_html = _body(parsed)
    plain = get_text(text) if is_html else text
    html_body = text if is_html else _as_html(text)
    content = plain if text_body else html_body
    stamp = stored.received.strftime("%Y-%m-%dT%H:%M:%SZ")
    date = parsed["Date"]
    sent = email.utils.parsedate_to_datetime(str(date)).astimezone(UTC) if date else stored.received
    resource: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.message",
        "@odata.etag": 'W/"CQAAABYAAAC' + hashlib.sha1(stored.id.encode()).hexdigest()[:20] + '"',
        "createdDateTime": stamp,
        "lastModifiedDateTime": stamp,
        "changeKey": "CQAAABYAAAC" + stored.id[-12:],
        "categories": [],
        "receivedDateTime": stamp,
        "sentDateTime": sent.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "hasAttachments": any(p.is_attachment() for p in parsed.walk()),
        "internetMessageId": str(parsed.get("Message-ID", "")).strip() or None,
        "subject": str(parsed.get("Subject", "")),
        "bodyPreview": " ".join(plain.split())[:255],
        "importance": "normal",
        "parentFolderId": stored.folder,
        "conversationId": mailbox.conversation_of(parsed),
        "isRead": False,
        "isDraft": stored.is_draft,
        "webLink": f"https://outlook.office365.com/owa/?ItemID={stored.id}&exvsurl=1",
        "inferenceClassification": "focused",
        "body": {"contentType": "text" if text_body else "html", "content": content},
        "sender": sender[0] if sender else None,
        "from": next(iter(_addresses(parsed, "From")), None),
        "toRecipients": _addresses(parsed, "To"),
        "ccRecipients": _addresses(parsed, "Cc"),
        "bccRecipients": _addresses(parsed, "Bcc"),
        "replyTo": _addresses(parsed, "Reply-To"),
        "flag": {"flagStatus": "notFlagged"},
        "internetMessageHeaders": [
            {"name": name, "value": " ".join(str(value).split())}
            for name, value in BytesHeaderParser().parsebytes(stored.raw).items()
        ],
    }
    method = _calendar_method(parsed)
    if method in _METHOD_KINDS:
        resource["@odata.type"], resource["meetingMessageType"] = _METHOD_KINDS[method]
    return resource


def _addresses(parsed: email.message.Message, name: str) -> list[dict[str, Any]]:
    header = parsed.get(name)
    if header is None:
        return []
    out = []
    for address in getattr(header, "addresses", ()):
        out.append(
            {
                "emailAddress": {
                    "name": address.display_name or address.addr_spec,
                    "address": address.addr_spec,
                }
            }
        )
    return out


def _body(parsed: email.message.EmailMessage) -> tuple[str, bool]:
    plain = html_part = None
    for part in parsed.walk():
        assert isinstance(part, email.message.EmailMessage)
        if part.is_multipart() or part.is_attachment():
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part.get_content()
        elif kind == "text/html" and html_part is None:
            html_part = part.get_content()
    if html_part is not None:
        return str(html_part), True
    return str(plain or ""), False


def _as_html(text: str) -> str:
    """Exchange's rendering of a text-only message when HTML is asked for."""
    lines = "<br>\r\n".join(html.escape(line) for line in text.splitlines())
    return (
        '<html>\r\n<head>\r\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
        f"\r\n</head>\r\n<body>\r\n<div>{lines}</div>\r\n</body>\r\n</html>\r\n"
    )


def _calendar_method(parsed: email.message.EmailMessage) -> str | None:
    for part in parsed.walk():
        assert isinstance(part, email.message.EmailMessage)
        if part.get_content_type() == "text/calendar":
            match = re.search(r"^METHOD:(\w+)", str(part.get_content()), re.MULTILINE)
            return match[1].upper() if match else None
    return None
