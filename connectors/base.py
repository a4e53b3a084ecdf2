"""The Connector protocol, parser limits and the connector error types.

Error hierarchy (the agent decides what to do by type, never by message)::

    ConnectorError
    ├── TransientError     retry with backoff; ``retry_after`` honours the server
    ├── AuthError          credentials revoked/invalid: account -> needs_reauth
    ├── CursorExpired      the stored cursor is no longer valid: bounded resync
    └── ConfigurationError the account's settings cannot work (no TLS offered, ...)

    InvalidInput           one item is unparseable; the parser's caller turns it
                           into an ``IngestError`` and goes on (invariant 2)

Messages of these exceptions must never contain secrets or message bodies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from connectors.records import Batch, Cursor


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
    """The server refused the credentials; retrying will not help."""


class CursorExpired(ConnectorError):
    def __init__(self, stream: str, reason: str) -> None:
        super().__init__(f"cursor for {stream!r} expired: {reason}")
        self.stream = stream
        self.reason = reason

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.stream, self.reason)


class ConfigurationError(ConnectorError):
    """The account's settings cannot work as given."""


class InvalidInput(Exception):
    """One item cannot be parsed. ``reason`` is short and stable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.reason, self.detail)


@dataclass(frozen=True, slots=True)
class Limits:
    """Guards on every parser (invariant 2). Defaults suit real mail with margin."""

    max_header_bytes: int = 256 * 1024
    max_mime_depth: int = 20
    max_mime_parts: int = 500
    max_text_bytes: int = 64 * 1024  # first text part, as read from the source
    max_message_bytes: int = 64 * 1024 * 1024  # archive files: larger is an error
    max_ical_bytes: int = 4 * 1024 * 1024
    max_vevents: int = 2000  # per calendar object
    max_attendees: int = 1000
    max_occurrences: int = 500  # recurrence expansion cap per event


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
