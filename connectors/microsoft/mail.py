"""One mail folder as a stream: ``messages/delta``, with invitations expanded by ``$batch``.

State machine (the cursor, a JSON object, carries all of it)::

    no cursor  GET /users/{u}/mailFolders/{folder}/messages/delta
               ?$select=<what the pipeline reads>&$filter=receivedDateTime ge <window start>
               (the filter is allowed on the first round only; Graph keeps it in the tokens)
    paging     {"link": @odata.nextLink, "skip": k}: the page's first k items are
               committed already (a page larger than the batch is consumed in parts)
    caught up  {"link": @odata.deltaLink}: an idle poll is ONE request, answered
               with no items and a new deltaLink
    changes    new and changed messages come back whole; deleted ones (and ones
               moved to another folder, which get a new id there) as
               {"id", "@removed"} -> ``Batch.removed``
    410 Gone   (syncStateNotFound, resyncRequired): the delta token expired
               -> ``CursorExpired``; the agent resyncs the window, and the
               idempotent writes make that free of duplicates

Every request says ``Prefer: odata.maxpagesize=<batch>`` and
``outlook.body-content-type="text"`` (Exchange converts HTML to text, so
no HTML is read here); the parser caps the text at ``max_text_bytes``.

An invitation (an ``eventMessage``) lists without its meeting; the meeting
comes from ``GET messages/{id}?$expand=microsoft.graph.eventMessage/event``,
up to 20 per ``$batch`` (``connectors.microsoft.wire``), so it becomes the
same ``ical:`` interaction the calendar stream and any CalDAV or
invitation-mail copy produce.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from connectors.base import InvalidInput, Limits, Window
from connectors.microsoft.delta import Collected, delta_batch
from connectors.microsoft.graph_parse import graph_source, is_removed, parse_graph_message
from connectors.microsoft.wire import GraphWire
from connectors.records import Batch, Cursor, IngestError, SourceRef

PREFIX = "mail:"
MAX_PAGE = 200  # items per delta page; a batch of the agent's size fits in a few pages
# What the pipeline reads. internetMessageHeaders carries what the properties
# lack (In-Reply-To, References, List-Id, Auto-Submitted: threads and automated
# senders); the properties fill in what Exchange keeps out of the headers (Bcc).
SELECT = (
    "id,subject,from,sender,toRecipients,ccRecipients,bccRecipients,replyTo,"
    "sentDateTime,receivedDateTime,internetMessageId,conversationId,body,"
    "internetMessageHeaders"
)
TEXT_BODY = 'outlook.body-content-type="text"'
EXPAND_EVENT = "microsoft.graph.eventMessage/event"
_EVENT_MESSAGE = "#microsoft.graph.eventMessage"


@dataclass
class MailFolderStream:
    account: str
    wire: GraphWire
    window: Window
    limits: Limits
    user_path: str  # "/users/{upn}"

    def fetch(self, stream: str, folder: str, cursor: Cursor | None, limit: int) -> Batch:
        start = cursor or {"link": self._first_link(folder)}
        read = partial(self._read, stream)
        return delta_batch(
            self.wire, stream, start, limit, min(limit, MAX_PAGE), (TEXT_BODY,), read
        )

    def _first_link(self, folder: str) -> str:
        since = self.window.since.strftime("%Y-%m-%dT%H:%M:%SZ")
        query = urlencode(
            {"$select": SELECT, "$filter": f"receivedDateTime ge {since}"}, quote_via=quote
        )
        path = f"{self.user_path}/mailFolders/{quote(folder, safe='')}/messages/delta"
        return f"{self.wire.base}{path}?{query}"

    def _read(
        self,
        stream: str,
        items: list[Any],
        out: Collected,
    ) -> None:
        expanded = self._invitations(items)
        for item in items:
            try:
                if is_removed(item):
                    out.removed.append(graph_source(self.account, stream, item.get("id")))
                    continue
                resource = expanded.get(str(item.get("id")), item)
                message, notes = parse_graph_message(resource, self.account, stream, self.limits)
            except InvalidInput as exc:
                out.errors.append(IngestError(self._source(stream, item), exc.reason, exc.detail))
                continue
            out.records.append(message)
            out.errors.extend(notes)

    def _source(self, stream: str, item: Any) -> SourceRef:
        item_id = item.get("id") if isinstance(item, Mapping) else None
        try:
            return graph_source(self.account, stream, item_id)
        except InvalidInput:
            return SourceRef(self.account, stream, "graph:unknown")

    def _invitations(self, items: list[Any]) -> dict[str, Any]:
        """Each listed eventMessage again, with its event expanded: one ``$batch`` per 20."""
        ids = [
            str(item["id"])
            for item in items
            if isinstance(item, Mapping)
            and not is_removed(item)
            and str(item.get("@odata.type", "")).startswith(_EVENT_MESSAGE)
            and isinstance(item.get("id"), str)
        ]
        if not ids:
            return {}
        query = urlencode(
            {"$select": SELECT + ",meetingMessageType", "$expand": EXPAND_EVENT}, quote_via=quote
        )
        requests = [
            {
                "id": str(n),
                "method": "GET",
                "url": f"{self.user_path}/messages/{quote(msg_id, safe='')}?{query}",
                "headers": {"Prefer": TEXT_BODY},
            }
            for n, msg_id in enumerate(ids)
        ]
        answers = self.wire.batch(requests)
        found: dict[str, Any] = {}
        for n, msg_id in enumerate(ids):
            answer = answers.get(str(n))
            # Deleted since it was listed (404): the listing's copy stands, without a meeting.
            if answer is not None and answer.status == 200 and isinstance(answer.body, Mapping):
                found[msg_id] = answer.body
        return found
