"""One calendar as a stream: ``calendarView/delta`` over the window, one interaction per instance.

State machine (the cursor carries all of it, as for mail)::

    no cursor  GET /users/{u}/calendarView/delta?startDateTime=<since>&endDateTime=<until>
               (the primary calendar; another: /users/{u}/calendars/{id}/calendarView/delta)
               The view expands series: each occurrence and exception is its own
               instance with its own id; a seriesMaster is never listed.
    paging     {"link": @odata.nextLink, "skip": k}
    caught up  {"link": @odata.deltaLink}: an idle poll is one request
    changes    a changed instance comes back whole (a cancelled one with
               isCancelled -> status cancelled); a deleted one as @removed
    410 Gone   -> CursorExpired -> the agent resyncs the window

The window is fixed in the delta token, and the cursor keeps its end
(``until``): once the agent's window (rebuilt every six hours) ends a day
or more later, the drained round is followed at once by a new first round
over the present window, so meetings booked further ahead keep coming in
(the relisting writes nothing new: upserts). Meetings that have left the
window stay stored. Graph refuses ``$select`` on this delta, so events come whole.
Rooms and equipment (``resource`` attendees) never become participants, and
the meeting identity is ``iCalUId`` (read as the UID the invitations carry)
plus the original start of an occurrence (``connectors.microsoft.graph_event``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote, urlencode

from connectors.base import InvalidInput, Limits, Window
from connectors.microsoft.delta import Collected, delta_batch
from connectors.microsoft.graph_parse import event_source, is_removed, parse_graph_event
from connectors.microsoft.wire import GraphWire
from connectors.records import Batch, Cursor, IngestError, SourceRef

PREFIX = "calendar:"
PRIMARY = "primary"
MAX_PAGE = 200
RENEW_AFTER = timedelta(days=1)
_SILENT = frozenset({"unexpanded-series"})  # not a meeting, and not an error either


@dataclass
class CalendarStream:
    account: str
    wire: GraphWire
    window: Window
    limits: Limits
    user_path: str

    def fetch(self, stream: str, calendar: str, cursor: Cursor | None, limit: int) -> Batch:
        start = cursor or {"link": self._first_link(calendar)}
        until = str(start.get("until") or self._until())
        read = partial(self._read, stream)
        batch = delta_batch(self.wire, stream, start, limit, min(limit, MAX_PAGE), (), read)
        following: Cursor = {**batch.next_cursor, "until": until}
        if not batch.has_more and self._moved_on(until):
            # The round is drained (removals included): a new one over today's window.
            following = {"link": self._first_link(calendar), "until": self._until()}
            return replace(batch, next_cursor=following, has_more=True)
        return replace(batch, next_cursor=following)

    def _until(self) -> str:
        return self.window.until.isoformat()

    def _moved_on(self, until: str) -> bool:
        """Whether the window's end moved a day or more past the one the round lists."""
        try:
            listed = datetime.fromisoformat(until)
        except ValueError:
            return True
        return self.window.until - listed >= RENEW_AFTER

    def _first_link(self, calendar: str) -> str:
        query = urlencode(
            {
                "startDateTime": self.window.since.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": self.window.until.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
        owner = (
            self.user_path
            if calendar == PRIMARY
            else f"{self.user_path}/calendars/{quote(calendar, safe='')}"
        )
        return f"{self.wire.base}{owner}/calendarView/delta?{query}"

    def _read(
        self,
        stream: str,
        items: list[Any],
        out: Collected,
    ) -> None:
        for item in items:
            item_id = item.get("id") if isinstance(item, Mapping) else None
            try:
                if is_removed(item):
                    out.removed.append(event_source(self.account, stream, item_id))
                    continue
                out.records.append(parse_graph_event(item, self.account, stream, self.limits))
            except InvalidInput as exc:
                if exc.reason in _SILENT:
                    continue
                source = SourceRef(self.account, stream, f"graph:{str(item_id)[:200]}")
                out.errors.append(IngestError(source, exc.reason, exc.detail))
