"""Microsoft 365 (Exchange Online) mail and calendar of one mailbox, through Graph v1.0.

Streams: ``mail:<folder>`` per chosen folder (``connectors.microsoft.mail``;
default Inbox and Sent Items, by well-known name, or a folder path such as
``Inbox/Customers``) and ``calendar:<calendar>`` per chosen calendar
(``connectors.microsoft.calendar``; default the primary). Each module's
docstring draws its state machine; every cursor is a Graph delta link, so a
fresh connector resumes any of them and an idle poll is one request per
stream.

Tokens come from a ``TokenSource``: app-only client credentials
(``connectors.microsoft.identity.AppTokens``) for an admin's tenant-wide
capture, or a rep's own delegated grant (``connectors.microsoft.delegated``).
Requests go through one ``HttpClient`` whose session msal shares; 429, 503
and 504 are retried honouring Retry-After (inside ``$batch`` too), at most
four at a time per mailbox (``connectors.microsoft.wire``). Refused
credentials are ``AuthError`` naming the next step; a folder that does not
exist is a ``ConfigurationError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import quote

from connectors.base import AuthError, ConfigurationError, Limits, Window
from connectors.http import HttpClient
from connectors.microsoft.calendar import PREFIX as CALENDAR
from connectors.microsoft.calendar import PRIMARY, CalendarStream
from connectors.microsoft.folders import FolderIds
from connectors.microsoft.mail import PREFIX as MAIL
from connectors.microsoft.mail import MailFolderStream
from connectors.microsoft.wire import GraphWire
from connectors.records import Batch, Cursor
from connectors.retry import RetryPolicy

KIND = "microsoft"
DEFAULT_FOLDERS = ("inbox", "sentitems")
T = TypeVar("T")


class MicrosoftConnector:
    kind = KIND

    def __init__(
        self,
        name: str,
        client: HttpClient,
        *,
        graph_root: str,
        user: str,
        window: Window,
        limits: Limits,
        folders: Sequence[str] = DEFAULT_FOLDERS,
        calendars: Sequence[str] | None = (PRIMARY,),
        reauth: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.name, self.client, self.reauth = name, client, reauth
        self.wire = GraphWire(client, graph_root, user, policy)
        user_path = f"/users/{quote(user, safe='@')}"
        self.folders = list(folders)
        self.calendars = list(calendars or ())
        self.folder_ids = FolderIds(name, self.wire, user_path)
        self.mail = MailFolderStream(name, self.wire, window, limits, user_path)
        self.calendar = CalendarStream(name, self.wire, window, limits, user_path)

    def streams(self) -> list[str]:
        return [MAIL + f for f in self.folders] + [CALENDAR + c for c in self.calendars]

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        limit = max(1, limit)
        name = stream.partition(":")[2]
        if stream.startswith(MAIL) and name in self.folders:
            return self._guarded(
                lambda: self.mail.fetch(
                    stream, self.folder_ids.resolve(name) if cursor is None else name, cursor, limit
                )
            )
        if stream.startswith(CALENDAR) and name in self.calendars:
            return self._guarded(lambda: self.calendar.fetch(stream, name, cursor, limit))
        raise ConfigurationError(f"account {self.name!r}: no stream {stream!r}")

    def _guarded(self, run: Callable[[], T]) -> T:
        try:
            return run()
        except AuthError as exc:
            if self.reauth in str(exc):
                raise
            raise AuthError(f"{exc}; {self.reauth}") from None

    def close(self) -> None:
        self.client.close()

    @property
    def requests(self) -> int:
        """HTTP requests this connector sent to Graph (a batch is one)."""
        return self.wire.requests
