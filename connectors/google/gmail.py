"""Gmail and Google Calendar through Google's APIs, on google-api-python-client.

Streams: ``mail`` (``connectors.google.gmail_mail``: a listing backfill from a
history id recorded first, then the mailbox history) and one
``calendar:<id>`` per chosen calendar (``connectors.google.gmail_calendar``:
a windowed listing, then sync tokens). Each module's docstring draws its
state machine; cursors are self-contained JSON objects, so a fresh
connector (the agent restarted, a read-ahead child) resumes any of them.

Calls go through ``connectors.google.wire`` (errors mapped to the
connector's tree), each paced in Gmail quota units and retried on
``TransientError`` honouring Retry-After (``connectors.google.session``).
A refused grant is ``AuthError`` with the command that mends it. The
calendar listing travels in every calendar cursor (``resume``), so a run
that starts a fresh connector lists the calendars at most once a day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from connectors.base import AuthError, ConfigurationError, CursorExpired, Limits, Window
from connectors.credentials import SecretSink, TokenSource
from connectors.google.gmail_calendar import PREFIX, CalendarStream, chosen_calendars
from connectors.google.gmail_mail import STREAM, MailStream
from connectors.google.session import (
    DelegatedCredentials,
    QuotaPace,
    RefreshedCredentials,
    call,
    read_only_scopes,
)
from connectors.google.wire import build_service, list_calendars
from connectors.records import Batch, Cursor, Inventory
from connectors.retry import RetryPolicy

KIND = "gmail"
RELIST_AFTER = timedelta(days=1)  # a calendar added meanwhile is found within a day
T = TypeVar("T")


class GmailConnector:
    kind = KIND

    def __init__(
        self,
        name: str,
        credentials: Any,
        window: Window,
        limits: Limits,
        *,
        api_root: str | None = None,
        calendar_api_root: str | None = None,
        calendar: bool = True,
        calendars: Sequence[str] | None = None,
        skip_labels: Sequence[str] = ("DRAFT", "CHAT"),
        pace: QuotaPace | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 60.0,
        remedy: str | None = None,
    ) -> None:
        self.name = name
        # What mends a refused grant: the rep signs in again, unless the
        # settings say otherwise (a service account: its admin must act).
        self.remedy = remedy or f"run `autocapture auth google {name}` to grant access again"
        self.policy = policy or RetryPolicy()
        self.pace = pace or QuotaPace()
        gmail = build_service("gmail", credentials, api_root, timeout)
        self.mail = MailStream(name, gmail, window, limits, self.pace, self.policy, skip_labels)
        self._calendar_api = (
            build_service("calendar", credentials, calendar_api_root, timeout) if calendar else None
        )
        self._wanted = list(calendars) if calendars is not None else None
        self._calendars: list[str] | None = None
        self._listed = ""
        self.window, self.limits = window, limits

    def resume(self, cursors: Mapping[str, Cursor]) -> None:
        """Take the calendar listing a calendar cursor keeps, if under a day old, so that
        ``streams`` asks nothing (the agent calls this before ``streams``)."""
        present = self.window.present
        for stream, cursor in cursors.items():
            listed, ids = cursor.get("listed"), cursor.get("calendars")
            if not stream.startswith(PREFIX) or not isinstance(ids, list):
                continue
            try:
                age = present - datetime.fromisoformat(str(listed))
            except ValueError:
                continue
            if timedelta(0) <= age < RELIST_AFTER:
                self._calendars, self._listed = [str(i) for i in ids], str(listed)
                return

    def streams(self) -> list[str]:
        return [STREAM, *(PREFIX + c for c in self._calendar_ids())]

    def _calendar_ids(self) -> list[str]:
        if self._calendar_api is None:
            return []
        if self._calendars is None:
            api = self._calendar_api
            entries = self._guarded(lambda: call(self.policy, lambda: list_calendars(api)))
            self._calendars = chosen_calendars(entries, self._wanted)
            self._listed = self.window.present.isoformat()
        return self._calendars

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        limit = max(1, limit)
        if stream == STREAM:
            return self._guarded(lambda: self.mail.fetch(cursor, limit))
        if stream.startswith(PREFIX) and self._calendar_api is not None:
            calendars = CalendarStream(
                self.name, self._calendar_api, self.window, self.limits, self.policy
            )
            try:
                batch = self._guarded(lambda: calendars.fetch(stream, cursor, limit))
            except CursorExpired:
                self._calendars = None  # a calendar may be gone: the resync lists them again
                raise
            # Every calendar cursor keeps the listing: a later run starts from it.
            self._calendar_ids()
            kept = {"calendars": self._calendars, "listed": self._listed}
            return replace(batch, next_cursor={**batch.next_cursor, **kept})
        raise ConfigurationError(f"account {self.name!r}: no stream {stream!r}")

    def inventory(self, stream: str) -> Inventory | None:
        """The mail stream's message ids (``MailStream.inventory``); calendars: None,
        not listed yet."""
        if stream != STREAM:
            return None
        return self._guarded(self.mail.inventory)

    def requeue(self, stream: str, cursor: Cursor, items: Sequence[str]) -> Cursor:
        return self.mail.requeue(cursor, items) if stream == STREAM else cursor

    def _guarded(self, run: Callable[[], T]) -> T:
        try:
            return run()
        except AuthError as exc:
            raise AuthError(exc.reason, exc.remedy or self.remedy) from None

    def close(self) -> None:
        # httplib2 keeps its sockets open until told (httplib2 issue 148).
        self.mail.gmail.close()
        if self._calendar_api is not None:
            self._calendar_api.close()


def from_settings(
    name: str,
    client_id: str,
    client_secret: TokenSource,
    refresh_token: TokenSource,
    token_uri: str,
    announce: SecretSink,
    window: Window,
    limits: Limits,
    **options: Any,
) -> GmailConnector:
    """A connector on a refresh-token grant; ``options`` are ``GmailConnector``'s keywords."""
    credentials = RefreshedCredentials(client_id, client_secret, refresh_token, token_uri, announce)
    return GmailConnector(name, credentials, window, limits, **options)


def from_service_account(
    name: str,
    key: TokenSource,
    subject: str,
    token_uri: str,
    announce: SecretSink,
    window: Window,
    limits: Limits,
    key_name: str = "the service account key",
    **options: Any,
) -> GmailConnector:
    """A connector acting for ``subject`` through a service account with domain-wide
    delegation; a refused grant names what the Workspace admin must check."""
    scopes = read_only_scopes(options.get("calendar", True))
    credentials = DelegatedCredentials(key, subject, scopes, token_uri, announce, key_name)
    granted = ", ".join(s.rsplit("/", 1)[-1] for s in scopes)
    remedy = (
        f"the Google Workspace admin must check that the service account's client ID is "
        f"allowed {granted} under domain-wide delegation (Admin console: Security > Access "
        f"and data control > API controls) and that {subject} is an active user"
    )
    return GmailConnector(name, credentials, window, limits, remedy=remedy, **options)
