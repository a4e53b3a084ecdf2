"""The Gmail connector's ``mail`` stream: a listing backfill, then the mailbox history.

State machine (the cursor, a JSON object, carries all of it)::

    no cursor --users.getProfile--> history id H, recorded BEFORE the listing,
              so whatever changes while the backfill runs is in history after H
    backfill  {"history_id": H, "backfill": {"after": T, "page_token": P}}
              messages.list q="after:T -in:chats -in:drafts ..." one page of ``limit``
              ids -> bodies by batched messages.get -> next page token; a stopped
              backfill resumes from its last committed page
    history   {"history_id": H} --history.list from H--> added messages fetched,
              deleted ones (and ones moved to SPAM, TRASH or a skipped label)
              reported removed, ones moved back fetched again; H moves to the last
              record consumed, or to the mailbox's history id once all are read
    history 404 (Gmail keeps history for a week or more, not forever)
              -> CursorExpired: the agent resyncs the window
    refetch   {..., "refetch": [ids]} (``requeue``: ids ``verify`` found missing)
              -> those bodies first, then the cursor goes on as it stood

An idle poll is one history.list (2 quota units). SPAM and TRASH are never
read (``messages.list`` leaves them out by default); drafts and chats by
default (``skip_labels``), in the listing by query and in history by label.
A message whose labels say "skipped" when its body arrives is dropped too.

Every batch names the message ids it read (``Batch.held``, the completeness
ledger); ``inventory`` lists the window's ids with the backfill's own query.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import AuthError, ConnectorError, InvalidInput, Limits, TransientError, Window
from connectors.google.gmail_parse import gmail_source, parse_gmail_message
from connectors.google.session import MESSAGE_GET_UNITS, UNITS, QuotaPace, call
from connectors.google.wire import (
    BATCH_SIZE,
    current_history_id,
    get_messages,
    history_records,
    list_messages,
)
from connectors.records import Batch, Cursor, Held, IngestError, Inventory, Record, SourceRef
from connectors.retry import RetryPolicy

STREAM = "mail"
ALWAYS_SKIPPED = frozenset({"SPAM", "TRASH"})
# Gmail search names of the system labels one may skip by query.
_SEARCH_NAMES = {"DRAFT": "drafts", "CHAT": "chats", "SPAM": "spam", "TRASH": "trash"}
_SYSTEM = frozenset({*_SEARCH_NAMES, "INBOX", "SENT", "UNREAD", "STARRED", "IMPORTANT"})
MAX_PAGE = 500  # messages.list maxResults


@dataclass
class HistoryFold:
    """History records folded into what to fetch and what is gone, in record order."""

    skip: frozenset[str]
    fetch: dict[str, None] = field(default_factory=dict)
    gone: dict[str, None] = field(default_factory=dict)
    last_id: str | None = None

    def add(self, record: Mapping[str, Any]) -> None:
        for entry in record.get("messagesAdded", []):
            message = entry.get("message", {})
            self._want(message.get("id"), not self._skipped(message.get("labelIds")), False)
        for entry in record.get("messagesDeleted", []):
            self._want(entry.get("message", {}).get("id"), False, True)
        for entry in record.get("labelsAdded", []):
            if self._skipped(entry.get("labelIds")):
                self._want(entry.get("message", {}).get("id"), False, True)
        for entry in record.get("labelsRemoved", []):
            message = entry.get("message", {})
            # Moved out of SPAM or TRASH and into no other skipped label: mail again.
            if self._skipped(entry.get("labelIds")) and not self._skipped(message.get("labelIds")):
                self._want(message.get("id"), True, False)
        self.last_id = str(record.get("id", self.last_id))

    def _skipped(self, labels: Any) -> bool:
        return isinstance(labels, list) and bool(self.skip & set(labels))

    def _want(self, msg_id: Any, fetch: bool, gone: bool) -> None:
        if not isinstance(msg_id, str):
            return
        self.fetch.pop(msg_id, None)
        self.gone.pop(msg_id, None)
        if fetch:
            self.fetch[msg_id] = None
        if gone:
            self.gone[msg_id] = None


def search_query(after: int, skip_names: Iterable[str]) -> str:
    """``messages.list`` ``q`` for mail after ``after`` (epoch seconds) outside skipped labels."""
    terms = [f"after:{after}"]
    for name in skip_names:
        if name.upper() in ALWAYS_SKIPPED:
            continue  # left out of every listing already
        upper = name.upper()
        if upper in _SEARCH_NAMES:
            terms.append(f"-in:{_SEARCH_NAMES[upper]}")
        elif upper.startswith("CATEGORY_"):
            terms.append(f"-category:{upper.removeprefix('CATEGORY_').lower()}")
        else:  # Gmail search writes a label's spaces as hyphens
            terms.append(f"-label:{name.lower().replace(' ', '-')}")
    return " ".join(terms)


def _is_system(name: str) -> bool:
    return name.upper() in _SYSTEM or name.upper().startswith("CATEGORY_")


class MailStream:
    def __init__(
        self,
        account: str,
        gmail: Any,
        window: Window,
        limits: Limits,
        pace: QuotaPace,
        policy: RetryPolicy,
        skip_labels: Sequence[str],
    ) -> None:
        self.account, self.gmail, self.window, self.limits = account, gmail, window, limits
        self.pace, self.policy = pace, policy
        self.skip_names = tuple(skip_labels)
        self._skip_ids: frozenset[str] | None = None

    def _call(self, units: int, request: Any) -> Any:
        def attempt() -> Any:
            self.pace.take(units)
            return request()

        return call(self.policy, attempt)

    def skip_ids(self) -> frozenset[str]:
        """Label ids whose mail is not captured; user labels are looked up once by name."""
        if self._skip_ids is None:
            system = {n.upper() for n in self.skip_names if _is_system(n)}
            names = [n for n in self.skip_names if not _is_system(n)]
            ids = set(ALWAYS_SKIPPED | system)
            if names:
                listing = self._call(
                    UNITS["labels.list"],
                    lambda: self.gmail.users().labels().list(userId="me").execute(),
                )
                wanted = {n.lower() for n in names}
                ids |= {
                    label["id"]
                    for label in listing.get("labels", [])
                    if str(label.get("name", "")).lower() in wanted
                }
            self._skip_ids = frozenset(ids)
        return self._skip_ids

    def fetch(self, cursor: Cursor | None, limit: int) -> Batch:
        if cursor is not None and cursor.get("refetch"):
            return self._refetch(cursor, limit)
        if cursor is None:
            history_id = self._call(UNITS["getProfile"], lambda: current_history_id(self.gmail))
            after = int(self.window.since.timestamp())
            return self._backfill(history_id, after, None, limit)
        history_id = str(cursor["history_id"])
        backfill = cursor.get("backfill")
        if isinstance(backfill, Mapping):
            return self._backfill(
                history_id, int(backfill["after"]), backfill.get("page_token"), limit
            )
        return self._history(history_id, limit)

    def _backfill(self, history_id: str, after: int, page_token: str | None, limit: int) -> Batch:
        query = search_query(after, self.skip_names)
        page = self._call(
            UNITS["messages.list"],
            lambda: list_messages(
                self.gmail, query=query, page_token=page_token, max_results=min(limit, MAX_PAGE)
            ),
        )
        records, errors, held = self.bodies(page.ids)
        cursor: dict[str, Any] = {"history_id": history_id}
        if page.next_page_token:
            cursor["backfill"] = {"after": after, "page_token": page.next_page_token}
        more = page.next_page_token is not None
        return Batch(records, errors, cursor, has_more=more, held=held)

    def _history(self, history_id: str, limit: int) -> Batch:
        fold = HistoryFold(self.skip_ids())
        page_token: str | None = None
        while True:
            records, current, page_token = self._call(
                UNITS["history.list"],
                lambda t=page_token: history_records(self.gmail, history_id, STREAM, t),
            )
            for record in records:
                if len(fold.fetch) >= limit:
                    # A full batch: resume after the last record folded.
                    return self._changes(fold, str(fold.last_id), has_more=True)
                fold.add(record)
            if not page_token:
                return self._changes(fold, current, has_more=False)

    def _changes(self, fold: HistoryFold, history_id: str, has_more: bool) -> Batch:
        records, errors, held = self.bodies(list(fold.fetch))
        removed: list[SourceRef] = []
        for msg_id in fold.gone:
            try:
                removed.append(gmail_source(self.account, STREAM, msg_id))
            except InvalidInput:
                continue  # no id Gmail gives; nothing of ours to remove
        return Batch(records, errors, {"history_id": history_id}, has_more, removed, held)

    # -- the completeness ledger ---------------------------------------------------------

    def inventory(self) -> Inventory:
        """Every message id the window's listing query finds (``messages.list``, ids only,
        500 a page): no body. Deletions reach us by history, so the listing judges
        nothing gone (``present`` None)."""
        query = search_query(int(self.window.since.timestamp()), self.skip_names)
        ids: dict[str, str] = {}
        token: str | None = None
        while True:
            page = self._call(
                UNITS["messages.list"],
                lambda t=token: list_messages(
                    self.gmail, query=query, page_token=t, max_results=MAX_PAGE
                ),
            )
            ids.update((i, "") for i in page.ids)
            token = page.next_page_token
            if not token:
                return Inventory(ids, None, self.window.since)

    @staticmethod
    def requeue(cursor: Cursor, items: Sequence[str]) -> Cursor:
        """``cursor`` with the message ids ``items`` fetched by the next fetch."""
        queued = [str(i) for i in cursor.get("refetch") or ()]
        return {**cursor, "refetch": list(dict.fromkeys([*queued, *items]))}

    def _refetch(self, cursor: Cursor, limit: int) -> Batch:
        """A batch of the ids ``verify`` queued; the cursor keeps the rest queued and
        the fetch after them goes on where the cursor stood."""
        queued = [str(i) for i in cursor["refetch"]]
        records, errors, held = self.bodies(queued[:limit])
        following = {k: v for k, v in cursor.items() if k != "refetch"}
        if queued[limit:]:
            following["refetch"] = queued[limit:]
        return Batch(records, errors, following, True, held=held, remaining=len(queued[limit:]))

    # -- bodies ------------------------------------------------------------------------

    def bodies(self, ids: Sequence[str]) -> tuple[list[Record], list[IngestError], list[Held]]:
        """The messages ``ids`` as records, in order, and the ledger entry of each that
        the server still had; deleted since listed: left out."""
        found: dict[str, Any] = {}
        refused: dict[str, ConnectorError] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            self._get_chunk(list(ids[start : start + BATCH_SIZE]), found, refused)
        records: list[Record] = []
        errors: list[IngestError] = []
        held: list[Held] = []
        for msg_id in ids:
            if msg_id in refused:
                source = gmail_source(self.account, STREAM, msg_id)
                errors.append(IngestError(source, "gmail-get-refused", str(refused[msg_id])))
                held.append(Held(msg_id, "", (source.provider_id,)))
            resource = found.get(msg_id)
            if resource is not None:
                held.append(Held(msg_id, "", self._read(msg_id, resource, records, errors)))
        return records, errors, held

    def _read(
        self, msg_id: str, resource: Any, records: list[Record], errors: list[IngestError]
    ) -> tuple[str, ...]:
        """One fetched message into ``records`` or ``errors``; the provider ids it gave."""
        labels = resource.get("labelIds") if isinstance(resource, Mapping) else None
        if isinstance(labels, list) and self.skip_ids() & set(labels):
            return ()
        try:
            message, notes = parse_gmail_message(
                resource, self.account, STREAM, self.limits, self.window
            )
        except InvalidInput as exc:
            source = gmail_source(self.account, STREAM, msg_id)
            errors.append(IngestError(source, exc.reason, exc.detail))
            return (source.provider_id,)
        records.append(message)
        errors.extend(notes)
        return (message.source.provider_id,)

    def _get_chunk(
        self, ids: list[str], found: dict[str, Any], refused: dict[str, ConnectorError]
    ) -> None:
        """One batch of messages.get; parts that failed transiently are retried alone."""
        pending = ids

        def attempt() -> None:
            nonlocal pending
            self.pace.take(MESSAGE_GET_UNITS * len(pending))
            got = get_messages(self.gmail, pending)
            found.update(got.found)
            again: list[str] = []
            waits: list[float] = []
            for msg_id, error in got.failed.items():
                if isinstance(error, AuthError):
                    raise error
                if isinstance(error, TransientError):
                    again.append(msg_id)
                    waits.append(error.retry_after or 0.0)
                else:
                    refused[msg_id] = error
            pending = again
            if again:
                raise TransientError(
                    f"Gmail refused {len(again)} of {len(ids)} messages for now",
                    retry_after=max(waits) or None,
                )

        call(self.policy, attempt)
