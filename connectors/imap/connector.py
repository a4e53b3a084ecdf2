"""IMAP connector (RFC 3501, CONDSTORE RFC 7162, SPECIAL-USE RFC 6154) on imapclient.

Streams are folders: by default INBOX and the folder SPECIAL-USE marks
\\Sent (else a common sent-folder name); never Trash, Junk or Drafts.

Sync state machine, per folder::

    no cursor ──SELECT (read-only), UID SEARCH SINCE window──> backfill
    backfill  ──UID FETCH in chunks, oldest first, `limit` per batch──> cursor
    cursor    ──STATUS (UIDVALIDITY UIDNEXT HIGHESTMODSEQ)──┬─ UIDNEXT unchanged: done, no FETCH
                                                           ├─ UIDVALIDITY changed: CursorExpired
                                                           └─ new UIDs: SELECT, SEARCH, FETCH

The cursor is ``{"uidvalidity", "last_uid", "highestmodseq"}``: everything
up to ``last_uid`` is captured. Backfill runs oldest-first so that this one
high-water mark is the whole state: a crash between batches resumes at the
next UID, mail arriving during a long backfill is simply the next UIDs, and
a bookmark that only moves forward cannot skip anything. (Newest-first
would show recent contacts sooner but needs a low- and a high-water mark
and a second pass to close the gap.)

What is fetched (docs/ARCHITECTURE.md, invariant 6) is ``connectors.imap.fetch``'s business:
per chunk of UIDs, one FETCH of BODYSTRUCTURE and the pipeline's header
fields, then one FETCH per distinct set of text/calendar sections, all
``BODY.PEEK`` from a read-only EXAMINE, so ``\\Seen`` is never set and
attachments are never downloaded. A copy is named (folder, message
identity), so a resync after a UIDVALIDITY change finds the same copies; on
Gmail (X-GM-EXT-1) by X-GM-MSGID, the same in every folder.

With ``fetch_ahead``, while the agent stores a batch the next one of the
same backlog is fetched ahead in a thread (``imap.fetch.Prefetch``) on the
same connection; any other use of the connection waits for it first. A
batch fetched ahead is handed over only for exactly the cursor it follows.
The agent turns it off when its read-ahead process (agent.readahead) owns
the backlog: both would fetch the same batch, and a thread running while
the agent forks that process can leave the child waiting on an import lock.
Without it the backlog's UIDs are kept (``imap.fetch.Deferred``), so the
next batch still needs no second SEARCH.

Errors: TLS and login are ``connectors.imap.session``'s (a refused login is
``AuthError``, no TLS where TLS was asked is ``ConfigurationError``); a
dropped connection or timeout reconnects and retries the whole fetch with
backoff (safe: nothing moves until the agent stores the returned cursor),
then ``TransientError``.
"""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from imapclient import IMAPClient
from tenacity import RetryCallState

from connectors.base import (
    ALL_TIME,
    ConfigurationError,
    CursorExpired,
    Limits,
    TransientError,
    Window,
)
from connectors.credentials import TokenSource
from connectors.imap.cursor import ImapCursor
from connectors.imap.fetch import Deferred, FolderCapture, Prefetch
from connectors.imap.inventory import folder_inventory
from connectors.imap.parse import default_folders
from connectors.imap.session import ImapEndpoint, TlsMode, open_session
from connectors.records import Batch, Cursor, Held, IngestError, Inventory, Record
from connectors.retry import RetryPolicy, retrying

__all__ = ["ImapConnector", "ImapCursor", "TlsMode"]

log = logging.getLogger(__name__)
T = TypeVar("T")

# A connection that died under us: reconnect and fetch again.
_DROPPED = (OSError, imaplib.IMAP4.abort, EOFError)


@dataclass(frozen=True, slots=True)
class _Backlog:
    """UIDs a backfill or poll found still to capture, with what SELECT said."""

    stream: str
    uidvalidity: int
    uidnext: int
    highestmodseq: int | None
    last_uid: int
    uids: list[int]


# The backlog's next batch: fetching in a thread, or waiting to be asked for.
_Ahead = Prefetch[tuple[Batch, _Backlog | None]] | Deferred[tuple[Batch, _Backlog | None]]


class ImapConnector:
    kind = "imap"

    def __init__(
        self,
        *,
        account: str,
        host: str,
        port: int,
        username: str,
        timeout: float,
        text_bytes: int,
        tls: TlsMode = "implicit",
        allow_plaintext: bool = False,
        verify_tls: bool = True,
        ca_file: str | None = None,
        password_provider: Callable[[], str] | None = None,
        token_source: TokenSource | None = None,
        folders: Sequence[str] | None = None,
        window: Window | None = None,
        limits: Limits | None = None,
        chunk_size: int = 500,
        attempts: int = 3,
        fetch_ahead: bool = True,
    ) -> None:
        if password_provider is None and token_source is None:
            raise ConfigurationError(f"IMAP account {account!r}: no password and no OAuth token")
        self.account = account
        self.endpoint = ImapEndpoint(
            account=account,
            host=host,
            port=port,
            username=username,
            tls=tls,
            allow_plaintext=allow_plaintext,
            verify_tls=verify_tls,
            ca_file=ca_file,
            timeout=timeout,
        )
        # Callables, never the secret: the password or token is read at login
        # and kept nowhere, so no repr, log line or traceback can show it.
        self._password = password_provider
        self._token = token_source
        self.folders = list(folders) if folders is not None else None
        self.limits = limits or Limits()
        self.text_bytes = min(text_bytes, self.limits.max_text_bytes)
        self.window = window
        self.chunk_size = chunk_size
        self.attempts = attempts
        self.fetch_ahead = fetch_ahead
        self._client: IMAPClient | None = None
        self._selected: str | None = None
        self._prefetch: _Ahead | None = None
        self._gmail = False
        self._condstore = False  # ENABLE CONDSTORE sent on this connection

    def __repr__(self) -> str:
        return (
            f"ImapConnector(account={self.account!r}, host={self.endpoint.host!r}, "
            f"user={self.endpoint.username!r})"
        )

    # ------------------------------------------------------------ protocol

    def streams(self) -> list[str]:
        self._settle()
        if self.folders is None:
            self.folders = self._retrying(lambda: default_folders(self._connected().list_folders()))
        return list(self.folders)

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        state = ImapCursor.of(cursor, stream) if cursor is not None else None
        limit = max(1, limit)
        ahead = self._settle()
        # The agent asks for the batch after the one it just stored, which
        # may already have been fetched ahead (never a batch of UIDs to refetch).
        wanted = (stream, state.uidvalidity, state.last_uid, limit) if state else None
        if state is not None and state.refetch:
            return self._retrying(lambda: self._refetch(stream, state, limit))
        # One that failed has dropped its connection (``_settle``): fetch afresh.
        if ahead is not None and ahead.key == wanted and self._client is not None:
            client, batch_ahead = self._client, ahead
            return self._retrying(lambda: self._take(client, batch_ahead, stream, state, limit))
        return self._retrying(lambda: self._fetch_once(stream, state, limit))

    def inventory(self, stream: str) -> Inventory:
        """The folder's UIDs in the window (``UID SEARCH SINCE``) and all its UIDs
        (``UID SEARCH ALL``), under its UIDVALIDITY: two SEARCHes, no FETCH."""
        self._settle()
        return self._retrying(lambda: self._list(stream))

    def requeue(self, stream: str, cursor: Cursor, items: Sequence[str]) -> Cursor:
        """``cursor`` with ``items`` (UIDs) to be captured by the next fetch."""
        state = ImapCursor.of(cursor, stream)
        uids = {int(i) for i in items if i.isdigit()}
        return replace(state, refetch=tuple(sorted(uids | set(state.refetch)))).to_cursor()

    def close(self) -> None:
        self._settle()
        client, self._client, self._selected = self._client, None, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:  # the connection may be dead already; closing must not fail
            try:
                client.shutdown()
            except Exception:
                log.debug("IMAP connection of %s already closed", self.account)

    # ---------------------------------------------------------- connection

    def _retrying(self, work: Callable[[], T]) -> T:
        def drop(state: RetryCallState) -> None:
            failure = state.outcome.exception() if state.outcome else None
            # The type only: an abort's text may quote message bytes.
            log.info(
                "IMAP connection of %s dropped (%s); reconnecting",
                self.account,
                type(failure).__name__,
            )
            self._discard()

        policy = RetryPolicy(attempts=self.attempts, backoff=0.2, max_wait=5.0)
        try:
            return retrying(policy, _DROPPED, before_sleep=drop)(work)
        except _DROPPED as exc:
            self._discard()
            raise TransientError(
                f"IMAP connection to {self.endpoint.host}:{self.endpoint.port} failed "
                f"{self.attempts} times "
                f"({type(exc).__name__})"
            ) from None
        except imaplib.IMAP4.error as exc:
            # A NO or BAD to a command that cannot be wrong (SEARCH, FETCH):
            # the server's trouble, which a later pass may not meet. Logins
            # never get here (AuthError), so the text names no credential.
            self._discard()
            raise TransientError(
                f"IMAP server {self.endpoint.host} refused a command: {str(exc)[:200]}"
            ) from None

    def _discard(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.shutdown()
            except Exception:
                log.debug("IMAP socket of %s already closed", self.account)

    def _connected(self) -> IMAPClient:
        if self._client is None:
            client = open_session(self.endpoint, self._password, self._token)
            self._gmail = client.has_capability("X-GM-EXT-1")
            self._condstore = False
            self._client = client
        return self._client

    # --------------------------------------------------------------- fetch

    def _fetch_once(self, stream: str, state: ImapCursor | None, limit: int) -> Batch:
        client = self._connected()
        if state is not None and self._selected != stream:
            quiet = self._unchanged(client, stream, state)
            if quiet is not None:
                return Batch([], [], quiet.to_cursor(), has_more=False)
        info = self._select(client, stream)
        uidvalidity = int(info[b"UIDVALIDITY"])
        if state is not None and uidvalidity != state.uidvalidity:
            raise CursorExpired(stream, "UIDVALIDITY changed")
        last = state.last_uid if state is not None else 0
        backlog = _Backlog(
            stream,
            uidvalidity,
            int(info.get(b"UIDNEXT", 1)),
            int(info[b"HIGHESTMODSEQ"]) if b"HIGHESTMODSEQ" in info else None,
            last,
            self._new_uids(client, last),
        )
        return self._hand_over(client, *self._next_batch(client, backlog, limit), limit)

    def _list(self, stream: str) -> Inventory:
        client = self._connected()
        info = self._select(client, stream)
        listing = folder_inventory(client, int(info[b"UIDVALIDITY"]), self.window or ALL_TIME)
        self._release(client)
        return listing

    def _refetch(self, stream: str, state: ImapCursor, limit: int) -> Batch:
        """A batch of the UIDs ``verify`` queued; the cursor keeps the rest queued."""
        client = self._connected()
        info = self._select(client, stream)
        if int(info[b"UIDVALIDITY"]) != state.uidvalidity:
            raise CursorExpired(stream, "UIDVALIDITY changed")
        taken, rest = state.refetch[:limit], state.refetch[limit:]
        records, errors, held = self._capture(client, stream, state.uidvalidity, list(taken))
        cursor = replace(state, refetch=rest).to_cursor()
        # has_more: the fetch after the queued UIDs looks for new mail as usual.
        return Batch(records, errors, cursor, True, held=held, remaining=len(rest))

    def _take(
        self,
        client: IMAPClient,
        ahead: _Ahead,
        stream: str,
        state: ImapCursor | None,
        limit: int,
    ) -> Batch:
        """The batch ``ahead`` holds; fetched afresh once its connection dropped."""
        if self._client is not client:  # reconnected by a retry: the backlog's session is gone
            return self._fetch_once(stream, state, limit)
        batch, following = ahead.take()
        return self._hand_over(client, batch, following, limit)

    def _hand_over(
        self, client: IMAPClient, batch: Batch, following: _Backlog | None, limit: int
    ) -> Batch:
        """Returns ``batch``; the one after it, if any, is fetched ahead or kept for later."""
        if following is not None:
            kind = Prefetch if self.fetch_ahead else Deferred
            self._prefetch = kind(
                (following.stream, following.uidvalidity, following.last_uid, limit),
                lambda: self._next_batch(client, following, limit),
            )
        return batch

    def _next_batch(
        self, client: IMAPClient, backlog: _Backlog, limit: int
    ) -> tuple[Batch, _Backlog | None]:
        """Captures up to ``limit`` UIDs of ``backlog``; the backlog left after them."""
        taken, rest = backlog.uids[:limit], backlog.uids[limit:]
        records, errors, held = self._capture(client, backlog.stream, backlog.uidvalidity, taken)
        following = None
        if rest:
            last = taken[-1]
            following = replace(backlog, last_uid=last, uids=rest)
        else:
            # Past every UID the server had assigned when we selected: mail
            # outside the window must not bring the next poll back here.
            last = max([backlog.last_uid, backlog.uidnext - 1, *taken[-1:]])
            self._release(client)
        cursor = ImapCursor(backlog.uidvalidity, last, backlog.highestmodseq)
        batch = Batch(
            records, errors, cursor.to_cursor(), bool(rest), held=held, remaining=len(rest)
        )
        return batch, following

    def _settle(self) -> _Ahead | None:
        """Waits for a fetch running ahead, so the connection is ours again."""
        ahead, self._prefetch = self._prefetch, None
        if ahead is not None:
            ahead.join()
            if ahead.failed:  # it may have died mid-response: the connection is unusable
                log.info("IMAP fetch ahead for %s failed; fetching again", self.account)
                self._discard()
        return ahead

    def _unchanged(self, client: IMAPClient, stream: str, state: ImapCursor) -> ImapCursor | None:
        """The idle check: one STATUS; the cursor to keep if there is no new mail."""
        what = ["UIDVALIDITY", "UIDNEXT"]
        if client.has_capability("CONDSTORE"):
            what.append("HIGHESTMODSEQ")
        try:
            status = client.folder_status(stream, what)
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise ConfigurationError(f"IMAP folder {stream!r} cannot be opened") from None
        uidvalidity, uidnext = status.get(b"UIDVALIDITY"), status.get(b"UIDNEXT")
        if uidvalidity is None or uidnext is None:
            return None  # a server that leaves them out: SELECT will tell
        if int(uidvalidity) != state.uidvalidity:
            raise CursorExpired(stream, "UIDVALIDITY changed")
        if int(uidnext) > state.last_uid + 1:
            return None
        modseq = status.get(b"HIGHESTMODSEQ")
        return replace(state, highestmodseq=int(modseq) if modseq else state.highestmodseq)

    def _select(self, client: IMAPClient, stream: str) -> dict[bytes, Any]:
        if not self._condstore and client.has_capability("CONDSTORE"):
            # SELECT reports HIGHESTMODSEQ only once CONDSTORE is enabled (RFC
            # 7162 3.1). Enabled here, not at login, so an idle poll (STATUS
            # only) does not pay for it.
            client.enable("CONDSTORE")
            self._condstore = True
        try:
            # EXAMINE: read-only, so the server cannot set \Seen or expunge.
            info: dict[bytes, Any] = client.select_folder(stream, readonly=True)
        except imaplib.IMAP4.error as exc:
            if isinstance(exc, imaplib.IMAP4.abort):
                raise
            raise ConfigurationError(f"IMAP folder {stream!r} cannot be opened") from None
        self._selected = stream
        return info

    def _release(self, client: IMAPClient) -> None:
        # Idle polls use STATUS, which RFC 3501 6.3.10 says not to send for
        # the selected folder; leave it once the folder is caught up.
        if client.has_capability("UNSELECT"):
            client.unselect_folder()
        else:
            client.close_folder()
        self._selected = None

    def _new_uids(self, client: IMAPClient, last: int) -> list[int]:
        since = (self.window or ALL_TIME).since.date()
        found = client.search(["UID", f"{last + 1}:*", "SINCE", since])
        # "n:*" always matches the highest UID, even when it is below n (RFC 3501 6.4.8).
        return sorted(uid for uid in found if uid > last)

    def _capture(
        self, client: IMAPClient, stream: str, uidvalidity: int, uids: list[int]
    ) -> tuple[list[Record], list[IngestError], list[Held]]:
        folder = FolderCapture(
            account=self.account,
            stream=stream,
            uidvalidity=uidvalidity,
            gmail=self._gmail,
            text_bytes=self.text_bytes,
            limits=self.limits,
            window=self.window,
        )
        return folder.capture_held(client._imap, uids, self.chunk_size)
