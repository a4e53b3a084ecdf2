"""The Gmail connector's calendar streams: ``calendar:<id>``, one per chosen calendar.

State machine per calendar (the cursor carries all of it)::

    no cursor   {"range": [since, until], "page": P}: events.list singleEvents=true
                timeMin/timeMax = the window, page by page; the last page's
                nextSyncToken becomes the cursor's token, ``until`` what it covered
    token       {"sync_token": S, "until": U}: events.list syncToken=S (and
                singleEvents=true, as in the listing that issued it): what changed
                since, deletions as tombstones -> removed; pages resume by "page"
    window on   the look-ahead end moved past U by a day: a listing of
                [U, new end] (no token; the token is kept), since a meeting that
                enters the window without changing is in no sync answer
    410 Gone    -> CursorExpired: the agent resyncs the window

The API refuses timeMin and timeMax together with syncToken (its reference
for events.list: iCalUID, orderBy, privateExtendedProperty, q,
sharedExtendedProperty, timeMin, timeMax, updatedMin), so a sync answer may
hold events anywhere in time: the window is applied here, to each meeting.
A cancelled instance of a series is a meeting with status cancelled; a
deleted event (a bare tombstone) is its copy removed. An idle poll is one
events.list per calendar.

Calendars: by default the primary one and the others the user owns and shows
(``selected``); subscribed holidays and colleagues' shared calendars are left
out. ``calendars`` in the settings names them instead (id or summary).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CursorExpired, InvalidInput, Limits, Window
from connectors.google.gcal_parse import event_source, is_tombstone, parse_event
from connectors.google.session import call
from connectors.google.wire import EventPage, list_events
from connectors.records import Batch, Cursor, IngestError, Meeting, Record, SourceRef
from connectors.retry import RetryPolicy

PREFIX = "calendar:"
EXTEND_AFTER = timedelta(days=1)
MAX_PAGE = 2500  # events.list maxResults


def chosen_calendars(
    entries: Sequence[Mapping[str, Any]], wanted: Sequence[str] | None
) -> list[str]:
    """Ids of the calendars to read from a calendarList listing."""
    if wanted is not None:
        names = {w.lower() for w in wanted}
        return [
            str(e["id"])
            for e in entries
            if str(e.get("id", "")).lower() in names
            or str(e.get("summary", "")).lower() in names
            or ("primary" in names and e.get("primary") is True)
        ]
    return [
        str(e["id"])
        for e in entries
        if e.get("primary") is True
        or (e.get("accessRole") == "owner" and e.get("selected") is True)
    ]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class CalendarStream:
    def __init__(
        self, account: str, calendar: Any, window: Window, limits: Limits, policy: RetryPolicy
    ) -> None:
        self.account, self.calendar, self.window = account, calendar, window
        self.limits, self.policy = limits, policy

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        calendar_id = stream.removeprefix(PREFIX)
        until = _stamp(self.window.until)
        state: dict[str, Any] = dict(cursor) if cursor is not None else {}
        for kept in ("calendars", "listed"):  # the connector's, not this calendar's
            state.pop(kept, None)
        if cursor is None:
            state = {"range": [_stamp(self.window.since), until]}
        elif state.get("range") is None and state.get("page") is None:
            covered = datetime.fromisoformat(str(state["until"]).replace("Z", "+00:00"))
            if self.window.until - covered > EXTEND_AFTER:
                state["range"] = [state["until"], until]
        try:
            page = self._list(calendar_id, state, min(max(1, limit), MAX_PAGE))
        except CursorExpired as exc:  # google_wire names the calendar; the agent, the stream
            raise CursorExpired(stream, exc.reason) from None
        span = state.get("range")
        state["page"] = page.next_page_token
        if page.next_page_token is None:
            if span:
                state["until"] = span[1]
                state["sync_token"] = state.get("sync_token") or page.next_sync_token
            else:
                state["sync_token"] = page.next_sync_token
            state["range"] = None
        records, errors, removed = self._read(stream, calendar_id, page.items)
        next_cursor = {k: v for k, v in state.items() if v is not None}
        return Batch(records, errors, next_cursor, state["page"] is not None, removed)

    def _list(self, calendar_id: str, state: dict[str, Any], size: int) -> EventPage:
        span = state.get("range")
        page: EventPage = call(
            self.policy,
            lambda: list_events(
                self.calendar,
                calendar_id,
                sync_token=None if span else state["sync_token"],
                page_token=state.get("page"),
                time_min=span[0] if span else None,
                time_max=span[1] if span else None,
                max_results=size,
            ),
        )
        return page

    def _read(
        self, stream: str, calendar_id: str, items: list[dict[str, Any]]
    ) -> tuple[list[Record], list[IngestError], list[SourceRef]]:
        records: list[Record] = []
        errors: list[IngestError] = []
        removed: list[SourceRef] = []
        for event in items:
            try:
                source = replace(
                    event_source(self.account, calendar_id, event.get("id")), stream=stream
                )
            except InvalidInput as exc:
                errors.append(
                    IngestError(
                        SourceRef(self.account, stream, f"gcal:{calendar_id}/"),
                        exc.reason,
                        exc.detail,
                    )
                )
                continue
            if is_tombstone(event):
                removed.append(source)
                continue
            try:
                meeting = parse_event(event, self.account, calendar_id, self.limits)
            except InvalidInput as exc:
                errors.append(IngestError(source, exc.reason, exc.detail))
                continue
            if self._in_window(meeting):
                records.append(replace(meeting, source=source))
        return records, errors, removed

    def _in_window(self, meeting: Meeting) -> bool:
        end = meeting.end or meeting.start
        return end > self.window.since and meeting.start < self.window.until
