"""The Connector protocol, the sync window and the connector error types.

Every failure a connector reports to the agent is a ``ConnectorError``, and
the agent decides what to do by type, never by message::

    ConnectorError
    ├── TransientError       retry with backoff; ``retry_after`` honours the server
    │                        (429, 5xx, timeouts, a dropped connection, a rate-limit 403)
    ├── AuthError            credentials revoked/invalid (401 after one token refresh,
    │                        IMAP login refused): account -> needs_reauth
    ├── CursorExpired        the stored cursor is no longer valid: bounded resync
    ├── ConfigurationError   the account's settings cannot work (no TLS offered,
    │   │                    untrusted certificate, unreadable secret, redirect to
    │   │                    another origin): account -> error, the admin must act
    │   └── PermissionDenied the credentials are valid but lack a permission
    │                        (HTTP 403 that is no rate limit): not needs_reauth,
    │                        signing in again grants nothing
    ├── ResponseTooLarge     a response over its byte cap (a caller may ask for less)
    └── UnexpectedStatus     an HTTP status the caller cannot use

    InvalidInput             one item is unparseable; the parser's caller turns it
                             into an ``IngestError`` and goes on (docs/ARCHITECTURE.md, invariant 2)

Errors from outside this tree are translated where they enter a connector:
the agent turns an unreadable secret (``config.SecretUnavailable``) into a
``ConfigurationError`` naming the key. Storage failures are the storage
layer's (``storage.errors.StorageError``); the sync loop catches both
bases, so no connector or storage failure is reported as "unexpected".

Every error survives a pickle round trip (the read-ahead process hands them
over that way). Messages never contain secrets or message bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from connectors.records import Batch, Cursor
from connectors.records import Limits as Limits  # the leaf owns it; connectors import it here


class ConnectorError(Exception):
    """Base of every error a connector raises for the agent."""


class TransientError(ConnectorError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # The agent's read-ahead process hands errors over by pickle, which
        # rebuilds an exception from ``args`` alone.
        return type(self), (str(self), self.retry_after)


class AuthError(ConnectorError):
    """The server refused the credentials; retrying will not help.

    ``remedy`` is what mends it when the connector knows (the command a rep
    runs, what an admin checks); it ends the message, and the agent's
    generic "sign in again" is left off."""

    def __init__(self, reason: str, remedy: str | None = None) -> None:
        super().__init__(f"{reason}; {remedy}" if remedy else reason)
        self.reason = reason
        self.remedy = remedy

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.remedy)


class CursorExpired(ConnectorError):
    def __init__(self, stream: str, reason: str) -> None:
        super().__init__(f"cursor for {stream!r} expired: {reason}")
        self.stream = stream
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.stream, self.reason)


class ConfigurationError(ConnectorError):
    """The account's settings cannot work as given."""


class PermissionDenied(ConfigurationError):
    """The server knows the credentials but refuses them this resource (HTTP 403)."""


class ResponseTooLarge(ConnectorError):
    def __init__(self, what: str, limit: int) -> None:
        super().__init__(f"{what}: response larger than {limit} bytes")
        self.what = what
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.what, self.limit)


class UnexpectedStatus(ConnectorError):
    def __init__(self, what: str, status: int) -> None:
        super().__init__(f"{what}: unexpected HTTP status {status}")
        self.what = what
        self.status = status

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.what, self.status)


class InvalidInput(Exception):
    """One item cannot be parsed. ``reason`` is short and stable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.detail)


@dataclass(frozen=True, slots=True)
class Window:
    """The span a sync covers: ``since`` for backfill, ``until`` for upcoming meetings.

    ``now`` is the present the agent built the window from (connectors never
    read the clock); without it the window's end stands for the present.
    """

    since: datetime
    until: datetime
    now: datetime | None = None

    @property
    def present(self) -> datetime:
        """``now`` kept inside the window: where a capped series keeps its occurrences."""
        return min(max(self.now or self.until, self.since), self.until)


# The window of a capture with no window of its own (``inspect``, an IMAP
# connector built without one). It starts the day after the Unix epoch
# because IMAP SEARCH SINCE and some servers' date handling go no earlier,
# and a day's margin keeps every time zone on the right side of it; a
# recurring invitation expanded over it is still bounded by max_occurrences.
ALL_TIME = Window(datetime(1970, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC))


@runtime_checkable
class Connector(Protocol):
    kind: str

    def streams(self) -> list[str]:
        """Names of the independent streams, e.g. folders or calendars."""
        ...

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        """At most ``limit`` records after ``cursor`` (None: backfill the window)."""
        ...

    def close(self) -> None: ...


# A connector may also offer ``resume(cursors: Mapping[str, Cursor]) -> None``:
# the agent then hands it every stored cursor of the account before calling
# ``streams()``, so it can list its streams from what it kept there (CalDAV
# keeps its calendar discovery) instead of asking the server again.
