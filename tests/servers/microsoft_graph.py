"""A stateful, wire-faithful fake of Microsoft Graph v1.0: mail and calendar delta, ``$batch``.

It shares the loopback HTTPS server of the identity fake
(``microsoft_identity``): one host stands in for login.microsoftonline.com
and graph.microsoft.com, so a client trusts one CA; the paths never meet
(``/{tenant}/...`` there, ``/v1.0/...`` here). State lives per user in
``microsoft_mail.Mailbox`` and ``microsoft_calendar.Calendar``.

Routes (``/users/{upn or object id}`` or ``/me``):

- ``GET .../mailFolders/{id or well-known name}/messages/delta``, also in
  the key form Graph's own links use (``mailFolders('inbox')``). The first
  round takes ``$select`` and ``$filter=receivedDateTime ge|gt <UTC>``;
  they are kept in the tokens, and later rounds report every change.
- ``GET .../calendarView/delta?startDateTime=..&endDateTime=..`` (both
  required on the first call; ``$select`` and ``$filter`` are refused, as
  Graph does for this delta).
- ``GET .../messages/{id}`` with ``$select`` and
  ``$expand=microsoft.graph.eventMessage/event``.
- ``POST /v1.0/$batch``: at most 20 requests with unique ids; each is
  answered through the same path as a plain request (bearer check, faults,
  request log: a batch item is logged with a ``graph-batch-id`` header),
  with its own status and headers (a 429 keeps its ``Retry-After``), and
  the answers come back in reverse order, since Graph promises none.

Pages link by ``@odata.nextLink`` (``$skiptoken``), the last carries
``@odata.deltaLink`` (``$deltatoken``); ``Prefer: odata.maxpagesize=N``
sets the page size (default 10), ``Prefer: outlook.body-content-type="text"``
the body type, and the answer says what it applied in ``Preference-Applied``.
A fifth concurrent request to one mailbox is 429 ``ApplicationThrottled``
(``MailboxConcurrency``), as Exchange Online answers; ``hold_until``
keeps answers waiting so that tests can make requests overlap, and
``peak_in_flight`` says how many did. ``expire_delta_tokens`` makes every token issued so far 410 Gone
(``syncStateNotFound``). Unknown query options and unknown ``$select``
properties are 400. A missing, unknown or expired bearer token is 401
``InvalidAuthenticationToken``; a delegated token opens only its own user's
mailbox (403 ``ErrorAccessDenied`` otherwise), an app-only token any
user's in the tenant.

Faults go through the harness (``server.fail``): ``microsoft_graph_wire.throttled`` (429 with
Retry-After), ``unavailable`` (503) or ``Fault.drop()``; a fault whose path
matches a batch item's answers that item, and a dropped connection there
becomes a 503 item (a batch cannot drop one item's connection).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlencode

import pytest

from tests.servers.fake_http import FakeHttpServer, Request, Response
from tests.servers.microsoft_calendar import Calendar, in_window
from tests.servers.microsoft_graph_wire import (
    MAILBOX_CONCURRENCY,
    GraphError,
    allowed,
    answer_batch,
    applied,
    folder_param,
    graph_error,
    page_size,
    prefers_text,
    received_filter,
    received_ok,
    refuse_unknown,
    removed,
    select,
    throttled,
    utc,
)
from tests.servers.microsoft_identity import IdentityPlatform
from tests.servers.microsoft_mail import Mailbox, message_view

_MESSAGE_OPTIONS = frozenset({"$select", "$filter", "$skiptoken", "$deltatoken"})
_EVENT_OPTIONS = frozenset({"startDateTime", "endDateTime", "$skiptoken", "$deltatoken"})
_EXPAND_EVENT = "microsoft.graph.eventMessage/event"


@dataclass
class DeltaRound:
    """What a delta token stands for: whose collection, which changes, and how to show them."""

    user: str
    folder: str | None  # None: the calendar view
    since: int  # changes after this number (0: the initial round)
    select: frozenset[str] | None = None
    received_from: tuple[str, datetime] | None = None  # ("ge" | "gt", moment)
    window: tuple[datetime, datetime] | None = None
    calendar: str | None = None  # None: the default calendar
    pending: list[tuple[str, bool]] = field(default_factory=list)  # (id, removed) of this round
    upto: int = 0
    offset: int = 0


@dataclass
class Graph:
    server: FakeHttpServer
    identity: IdentityPlatform
    mailboxes: dict[str, Mailbox] = field(default_factory=dict)  # by upn
    calendars: dict[str, Calendar] = field(default_factory=dict)  # by upn
    other_calendars: dict[tuple[str, str], Calendar] = field(default_factory=dict)  # (upn, id)
    rounds: dict[str, DeltaRound] = field(default_factory=dict)  # token -> round
    gone: set[str] = field(default_factory=set)  # expired tokens
    # Pages of this size whatever the client prefers: Graph treats
    # odata.maxpagesize as a wish and may answer with more.
    page_size: int | None = None
    # RBAC for Applications (or an application access policy): client id -> the
    # mailboxes its app-only tokens may open; an app not listed opens every one.
    app_scopes: dict[str, set[str]] = field(default_factory=dict)
    # Answers wait until this many requests to their mailbox are in flight, or
    # hold_seconds passed (0: never wait): makes concurrent requests overlap.
    hold_until: int = 0
    hold_seconds: float = 2.0
    in_flight: dict[str, int] = field(default_factory=dict)  # by mailbox (upn or "me")
    peak_in_flight: dict[str, int] = field(default_factory=dict)
    _busy: threading.Condition = field(default_factory=threading.Condition)

    def __post_init__(self) -> None:
        for who in ("/v1.0/users/{user}", "/v1.0/me"):
            self.server.route("GET", who + "/mailFolders/{folder}/messages/delta", self._mail_delta)
            self.server.route("GET", who + "/{keyed}/messages/delta", self._mail_delta)
            self.server.route("GET", who + "/calendarView/delta", self._event_delta)
            self.server.route(
                "GET", who + "/calendars/{calendar}/calendarView/delta", self._event_delta
            )
            self.server.route("GET", who + "/mailFolders", self._folders)
            self.server.route("GET", who + "/mailFolders/{folder}/childFolders", self._folders)
            self.server.route("GET", who + "/messages/{id}", self._message)
        self.server.route("POST", "/v1.0/$batch", lambda r: answer_batch(self.server, r))

    @property
    def root(self) -> str:
        return self.server.url + "/v1.0"

    # ------------------------------------------------------------ test controls

    def add_user(self, upn: str) -> Mailbox:
        self.identity.add_user(upn)
        self.calendars[upn] = Calendar()
        return self.mailboxes.setdefault(upn, Mailbox(upn))

    def add_calendar(self, upn: str, calendar_id: str) -> Calendar:
        """Another calendar of the user's (a shared team calendar, say), by its id."""
        return self.other_calendars.setdefault((upn, calendar_id), Calendar())

    def expire_delta_tokens(self) -> None:
        self.gone |= set(self.rounds)
        self.rounds.clear()

    # ------------------------------------------------------------ routes

    def _mail_delta(self, request: Request) -> Response:
        return self._answer(request, self._mail_page)

    def _event_delta(self, request: Request) -> Response:
        return self._answer(request, self._event_page)

    def _message(self, request: Request) -> Response:
        return self._answer(request, self._get_message)

    def _answer(self, request: Request, handler: Any) -> Response:
        mailbox = unquote(request.params.get("user", "me")).lower()
        with self._busy:
            self.in_flight[mailbox] = self.in_flight.get(mailbox, 0) + 1
            crowded = self.in_flight[mailbox] > MAILBOX_CONCURRENCY
            self.peak_in_flight[mailbox] = max(
                self.peak_in_flight.get(mailbox, 0), self.in_flight[mailbox]
            )
            self._busy.notify_all()
            if self.hold_until and not crowded:
                self._busy.wait_for(
                    lambda: self.in_flight[mailbox] >= self.hold_until, self.hold_seconds
                )
        try:
            if crowded:  # Exchange: at most four concurrent requests per app and mailbox
                return throttled(1).response or Response(429)
            body, headers = handler(request)
        except GraphError as error:
            return graph_error(error.status, error.code, error.message, error.headers)
        finally:
            with self._busy:
                self.in_flight[mailbox] -= 1
        return Response.json(body, headers=headers)

    def _user(self, request: Request, scope: str) -> str:
        principal = self.identity.principal_of(request.header("authorization"))
        if principal is None:
            empty = not (request.header("authorization") or "").removeprefix("Bearer").strip()
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token is empty."
                if empty
                else "Access token has expired or is not yet valid.",
                {
                    "WWW-Authenticate": 'Bearer realm="", authorization_uri='
                    '"https://login.microsoftonline.com/common/oauth2/authorize", '
                    'client_id="00000003-0000-0000-c000-000000000000"'
                },
            )
        if "user" not in request.params and principal.user is None:
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        wanted = unquote(request.params.get("user") or principal.user or "")
        upn = next(
            (u for u, oid in self.identity.users.items() if wanted.lower() in (u.lower(), oid)),
            None,
        )
        if upn is None or upn not in self.mailboxes:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{wanted}' is invalid.")
        scoped = self.app_scopes.get(principal.client_id)
        if not allowed(principal, upn, scope) or (
            principal.user is None and scoped is not None and upn not in scoped
        ):
            raise GraphError(
                403, "ErrorAccessDenied", "Access is denied. Check credentials and try again."
            )
        return upn

    def _mail_page(self, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        user = self._user(request, "Mail.Read")
        refuse_unknown(request, _MESSAGE_OPTIONS)
        state = self._resume(request)
        mailbox = self.mailboxes[user]
        if state is None:
            folder = mailbox.folder_id(folder_param(request))
            if folder is None:
                raise GraphError(
                    404, "ErrorItemNotFound", "The specified object was not found in the store."
                )
            state = DeltaRound(user, folder, 0, select(request), received_filter(request))
        text = prefers_text(request)
        page = self._page(request, state, self._mail_pending)
        views = [
            removed("message", i)
            if gone or i not in mailbox.messages
            else message_view(mailbox.messages[i], mailbox, state.select, text)
            for i, gone in page["value"]
        ]
        taken = ['outlook.body-content-type="text"'] if text else []
        return self._linked(request, "message", views, page), applied(request, taken)

    def _mail_pending(self, state: DeltaRound) -> tuple[list[tuple[str, bool]], int]:
        mailbox = self.mailboxes[state.user]
        if state.since == 0:
            found = [
                (m.id, False)
                for m in mailbox.messages.values()
                if m.folder == state.folder and received_ok(m.received, state.received_from)
            ]
            return found, mailbox.last_seq
        last: dict[str, bool] = {}
        for change in mailbox.changes:
            if change.seq > state.since and change.folder == state.folder:
                last.pop(change.id, None)
                last[change.id] = change.removed
        return list(last.items()), mailbox.last_seq

    def _event_page(self, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        user = self._user(request, "Calendars.Read")
        refuse_unknown(request, _EVENT_OPTIONS)
        state = self._resume(request)
        if state is None:
            start, end = request.arg("startDateTime"), request.arg("endDateTime")
            if not start or not end:
                raise GraphError(
                    400,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string parameters "
                    "StartDateTime and EndDateTime.",
                )
            calendar_id = unquote(request.params.get("calendar", "")) or None
            state = DeltaRound(user, None, 0, window=(utc(start), utc(end)), calendar=calendar_id)
        calendar = self._calendar(state)
        page = self._page(request, state, self._event_pending)
        views = [
            removed("event", i)
            if gone or i not in calendar.events
            else {"@odata.type": "#microsoft.graph.event", **calendar.events[i]}
            for i, gone in page["value"]
        ]
        return self._linked(request, "event", views, page), {}

    def _event_pending(self, state: DeltaRound) -> tuple[list[tuple[str, bool]], int]:
        calendar = self._calendar(state)
        assert state.window is not None
        start, end = state.window
        if state.since == 0:
            return [
                (i, False) for i, e in calendar.events.items() if in_window(e, start, end)
            ], calendar.last_seq
        last: dict[str, bool] = {}
        for change in calendar.changes:
            if change.seq <= state.since:
                continue
            event = calendar.events.get(change.id)
            if change.removed or (event is not None and in_window(event, start, end)):
                last.pop(change.id, None)
                last[change.id] = change.removed
        return list(last.items()), calendar.last_seq

    def _calendar(self, state: DeltaRound) -> Calendar:
        if state.calendar is None:
            return self.calendars[state.user]
        found = self.other_calendars.get((state.user, state.calendar))
        if found is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        return found

    def _folders(self, request: Request) -> Response:
        return self._answer(request, self._folder_page)

    def _folder_page(self, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        user = self._user(request, "Mail.Read")
        refuse_unknown(request, frozenset({"$select", "$top"}))
        mailbox = self.mailboxes[user]
        parent = request.params.get("folder")
        parent_id = mailbox.folder_id(unquote(parent)) if parent else None
        if parent and parent_id is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        views = [
            {"id": i, "displayName": mailbox.display_name(i), "parentFolderId": parent_id}
            for i in mailbox.children(parent_id)
        ]
        return {"value": views}, {}

    def _get_message(self, request: Request) -> tuple[dict[str, Any], dict[str, str]]:
        user = self._user(request, "Mail.Read")
        refuse_unknown(request, frozenset({"$select", "$expand"}))
        mailbox = self.mailboxes[user]
        stored = mailbox.messages.get(unquote(request.params["id"]))  # ids end in "=", sent as %3D
        if stored is None:
            raise GraphError(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        text = prefers_text(request)
        view = message_view(stored, mailbox, select(request), text)
        expand = request.arg("$expand")
        if expand not in (None, _EXPAND_EVENT):
            raise GraphError(
                400, "BadRequest", f"Parsing OData Select and Expand failed: '{expand}'."
            )
        if expand and "meetingMessageType" in view and stored.event_id:
            event = self.calendars[user].events.get(stored.event_id)
            view["event"] = {"@odata.type": "#microsoft.graph.event", **event} if event else None
        return view, applied(request, ['outlook.body-content-type="text"'] if text else [])

    # ------------------------------------------------------------ delta paging

    def _resume(self, request: Request) -> DeltaRound | None:
        token = request.arg("$skiptoken") or request.arg("$deltatoken")
        if token is None:
            return None
        if token in self.gone:
            raise GraphError(410, "syncStateNotFound", "The sync state generation is not found.")
        state = self.rounds.get(token)
        if state is None:
            raise GraphError(400, "ErrorInvalidSyncStateData", "The sync state data is invalid.")
        return state

    def _page(self, request: Request, state: DeltaRound, pending: Any) -> dict[str, Any]:
        if state.offset == 0:
            # A round's first page: the changes as they are now. A deltaLink may be
            # followed more than once and reports what changed since it each time.
            state = replace(state)
            state.pending, state.upto = pending(state)
        size = self.page_size or page_size(request)
        part = state.pending[state.offset : state.offset + size]
        if state.offset + size < len(state.pending):
            nxt = replace(state, offset=state.offset + size)
            return {"value": part, "$skiptoken": self._keep(nxt)}
        after = replace(state, since=state.upto, received_from=None, pending=[], offset=0)
        return {"value": part, "$deltatoken": self._keep(after)}

    def _keep(self, state: DeltaRound) -> str:
        token = secrets.token_urlsafe(36)
        self.rounds[token] = state
        return token

    def _linked(
        self, request: Request, kind: str, views: list[Any], page: Mapping[str, Any]
    ) -> dict[str, Any]:
        link = "@odata.nextLink" if "$skiptoken" in page else "@odata.deltaLink"
        name = "$skiptoken" if "$skiptoken" in page else "$deltatoken"
        url = f"{self.server.url}{request.path}?{urlencode({name: page[name]})}"
        return {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#Collection({kind})",
            "value": views,
            link: url,
        }


@pytest.fixture
def microsoft_graph(microsoft_identity: IdentityPlatform) -> Iterator[Graph]:
    """Graph on the identity fake's server; trust ``server.ca_file``."""
    yield Graph(microsoft_identity.server, microsoft_identity)
