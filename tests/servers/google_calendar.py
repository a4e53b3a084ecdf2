"""The Calendar side of the Google fake: one user's calendars, events and sync tokens.

Tests put events in the API's own JSON shape (``Calendars.put``); the fake
fills what the server owns (``id``, ``iCalUID``, ``etag``, ``updated``,
``kind``, ``htmlLink``) and keeps a change sequence per calendar, so
``events.list`` can answer both a full listing and an incremental one:

- ``syncToken``: the events changed since the token was issued, deletions
  included (as ``status: cancelled``); ``nextSyncToken`` only on the last
  page. The parameters the API forbids with a sync token (its discovery
  document lists them) and ``showDeleted=false`` are 400; a token the
  server no longer honours (``expire_sync_tokens``) is 410
  ``fullSyncRequired``.
- ``singleEvents=true`` expands ``recurrence`` (RRULE/EXDATE via dateutil)
  into instances ``{id}_{start}`` with ``recurringEventId`` and
  ``originalStartTime``; stored exceptions (events that carry those two
  fields) replace the generated instance they name.
- ``timeMin``/``timeMax`` filter by end > timeMin and start < timeMax, RFC
  3339 with a mandatory offset; ``orderBy=startTime`` needs
  ``singleEvents=true``, as the API says.
- Parameters the fake does not implement (``q``, ``iCalUID``, ``updatedMin``,
  ``timeZone``, ...) are refused with 400 rather than ignored.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from tests.servers.google_discovery import ApiError, first

# Parameters the API refuses together with syncToken (its discovery document, events.list).
SYNC_FORBIDDEN = (
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
)
MAX_INSTANCES = 1000
GONE = ApiError(
    410,
    "Sync token is no longer valid, a full sync is required.",
    "fullSyncRequired",
    domain="calendar",
    location="syncToken",
)


@dataclass
class Stored:
    event: dict[str, Any]
    seq: int  # change sequence of the last change


@dataclass
class Calendar:
    id: str
    summary: str
    time_zone: str = "Europe/Berlin"
    primary: bool = False
    access_role: str = "owner"  # reader: a subscribed or shared calendar
    selected: bool = True  # shown in the user's list
    events: dict[str, Stored] = field(default_factory=dict)


@dataclass
class Calendars:
    owner: str
    calendars: dict[str, Calendar] = field(default_factory=dict)
    tokens: dict[str, tuple[str, int]] = field(default_factory=dict)  # token -> calendar, seq
    seq: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.calendars[self.owner] = Calendar(self.owner, self.owner, primary=True)

    def _calendar(self, calendar_id: str) -> Calendar:
        key = self.owner if calendar_id == "primary" else calendar_id
        if key not in self.calendars:
            raise ApiError(404, "Not Found", "notFound")
        return self.calendars[key]

    # ------------------------------------------------------------ state changes

    def add_calendar(
        self, calendar_id: str, summary: str, access_role: str = "owner", selected: bool = True
    ) -> Calendar:
        self.calendars[calendar_id] = Calendar(
            calendar_id, summary, access_role=access_role, selected=selected
        )
        return self.calendars[calendar_id]

    def put(self, event: Mapping[str, Any], calendar_id: str = "primary") -> dict[str, Any]:
        """Insert or replace an event (API shape); returns it as the server holds it."""
        calendar = self._calendar(calendar_id)
        self.seq += 1
        body = dict(event)
        body.setdefault("id", f"ev{next(self._ids):04d}x{self.seq:03d}")
        if "recurringEventId" in body:
            master = calendar.events[body["recurringEventId"]].event
            body.setdefault("iCalUID", master["iCalUID"])
        body.setdefault("iCalUID", f"{body['id']}@google.com")
        body.setdefault("status", "confirmed")
        body.setdefault("sequence", 0)
        body.setdefault("organizer", {"email": self.owner, "self": True})
        stamp = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=self.seq)
        body["updated"] = stamp.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        body.setdefault("created", body["updated"])
        body["kind"] = "calendar#event"
        body["etag"] = '"' + str(3_400_000_000_000_000 + self.seq) + '"'
        body["htmlLink"] = "https://www.google.com/calendar/event?eid=" + _b64(body["id"])
        calendar.events[body["id"]] = Stored(body, self.seq)
        return body

    def cancel(self, event_id: str, calendar_id: str = "primary") -> None:
        """Delete an event: it stays as a ``cancelled`` tombstone for sync."""
        calendar = self._calendar(calendar_id)
        self.seq += 1
        stored = calendar.events[event_id]
        stored.event = {**stored.event, "status": "cancelled"}
        stored.seq = self.seq

    def expire_sync_tokens(self) -> None:
        self.tokens.clear()

    # ------------------------------------------------------------ API handlers

    def list_calendars(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        items = [
            {
                "kind": "calendar#calendarListEntry",
                "etag": '"1"',
                "id": c.id,
                "summary": c.summary,
                "timeZone": c.time_zone,
                "accessRole": c.access_role,
                **({"primary": True} if c.primary else {}),
                **({"selected": True} if c.selected else {}),
            }
            for c in self.calendars.values()
        ]
        return {"kind": "calendar#calendarList", "etag": '"p1"', "items": items}

    def list_events(self, query: Mapping[str, list[str]], calendar_id: str) -> dict[str, Any]:
        calendar = self._calendar(calendar_id)
        token = first(query, "syncToken")
        single = first(query, "singleEvents") == "true"
        if token is not None:
            since = self._check_sync(query, token, calendar)
        _refuse_unimplemented(query)
        if token is not None:
            stored = [s for s in calendar.events.values() if s.seq > since]
            items = self._view(calendar, stored, single, deleted=True)
        else:
            if first(query, "orderBy") == "startTime" and not single:
                raise ApiError(
                    400, "The requested ordering is not available for the particular query.",
                    "badRequest", domain="global", location="orderBy",
                )  # fmt: skip
            deleted = first(query, "showDeleted") == "true"
            items = self._view(calendar, list(calendar.events.values()), single, deleted)
            items = _in_range(items, query)
            if first(query, "orderBy") == "startTime":
                items.sort(key=lambda e: _when(e["start"]))
        out: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"{self.seq}"',
            "summary": calendar.summary,
            "updated": datetime(2026, 11, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "timeZone": calendar.time_zone,
            "accessRole": "owner",
            "defaultReminders": [],
        }
        page, next_page = _page(items, query)
        out["items"] = page
        if next_page:
            out["nextPageToken"] = next_page
        else:
            new = "CP" + _b64(f"{calendar.id}:{self.seq}:{len(self.tokens)}").rstrip("=")
            self.tokens[new] = (calendar.id, self.seq)
            out["nextSyncToken"] = new
        return out

    def _check_sync(self, query: Mapping[str, list[str]], token: str, calendar: Calendar) -> int:
        for name in SYNC_FORBIDDEN:
            if name in query:
                raise ApiError(
                    400, f"{name} is not allowed with syncToken.", "invalid", location=name
                )
        if first(query, "showDeleted") == "false":
            raise ApiError(400, "showDeleted cannot be false with syncToken.", "invalid")
        issued = self.tokens.get(token)
        if issued is None or issued[0] != calendar.id:
            raise GONE
        return issued[1]

    def _view(
        self, calendar: Calendar, stored: list[Stored], single: bool, deleted: bool
    ) -> list[dict[str, Any]]:
        """What a listing shows of ``stored``: instances or series, tombstones or not."""
        out: list[dict[str, Any]] = []
        overrides = {
            (e["recurringEventId"], _when(e["originalStartTime"])): e
            for e in (s.event for s in calendar.events.values())
            if "recurringEventId" in e
        }
        for s in stored:
            event = s.event
            cancelled = event["status"] == "cancelled"
            if cancelled and not deleted and not ("recurringEventId" in event and not single):
                continue
            if cancelled and deleted and "recurringEventId" not in event:
                out.append(_tombstone(event))
            elif single and "recurrence" in event and not cancelled:
                out.extend(_instances(event, overrides, deleted))
            else:
                out.append(event)
        # An exception that changed with its series comes once, from the expansion.
        unique: dict[str, dict[str, Any]] = {}
        for event in out:
            unique.setdefault(event["id"], event)
        return list(unique.values())


# events.list parameters the fake honours; the API's global ones change nothing here.
_IMPLEMENTED = frozenset(
    {"syncToken", "pageToken", "maxResults", "singleEvents", "orderBy", "showDeleted"}
    | {"timeMin", "timeMax", "alwaysIncludeEmail", "alt", "fields", "prettyPrint"}
    | {"quotaUser", "key", "oauth_token", "userIp"}
)


def _refuse_unimplemented(query: Mapping[str, list[str]]) -> None:
    """A parameter the real API honours but the fake does not is refused, never ignored:
    a test must not pass on a filter that did nothing."""
    for name in query:
        if name not in _IMPLEMENTED:
            raise ApiError(400, f"the fake does not implement events.list {name}", "fake")


def _tombstone(event: Mapping[str, Any]) -> dict[str, Any]:
    keep = ("kind", "etag", "id", "status", "updated", "iCalUID")
    return {k: event[k] for k in keep if k in event}


def _instances(
    master: Mapping[str, Any], overrides: Mapping[tuple[str, datetime], Any], deleted: bool
) -> list[dict[str, Any]]:
    start = _when(master["start"])
    length = _when(master["end"]) - start
    all_day = "date" in master["start"]
    zone = ZoneInfo(master["start"].get("timeZone", "UTC"))
    local = start.astimezone(zone).replace(tzinfo=None)
    rules = rrulestr("\n".join(master["recurrence"]), dtstart=local, forceset=True)
    out: list[dict[str, Any]] = []
    for when in itertools.islice(rules, MAX_INSTANCES):
        at = when.replace(tzinfo=zone).astimezone(UTC)
        override = overrides.get((master["id"], at))
        if override is not None:
            if override["status"] != "cancelled" or deleted:
                out.append(override)
            continue
        out.append(_instance(master, at, length, all_day, zone))
    return out


def _instance(
    master: Mapping[str, Any], at: datetime, length: timedelta, all_day: bool, zone: ZoneInfo
) -> dict[str, Any]:
    def stamp(moment: datetime) -> dict[str, str]:
        if all_day:
            return {"date": moment.astimezone(zone).date().isoformat()}
        return {"dateTime": moment.astimezone(zone).isoformat(), "timeZone": zone.key}

    suffix = at.strftime("%Y%m%d") if all_day else at.strftime("%Y%m%dT%H%M%SZ")
    body = {k: v for k, v in master.items() if k not in ("recurrence", "id")}
    body.update(
        id=f"{master['id']}_{suffix}",
        recurringEventId=master["id"],
        originalStartTime=stamp(at),
        start=stamp(at),
        end=stamp(at + length),
    )
    return body


def _when(stamp: Mapping[str, str]) -> datetime:
    """An EventDateTime as a UTC instant; an all-day date as midnight UTC."""
    if "dateTime" in stamp:
        return datetime.fromisoformat(stamp["dateTime"]).astimezone(UTC)
    return datetime.combine(date.fromisoformat(stamp["date"]), datetime.min.time(), UTC)


def _rfc3339(name: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ApiError(400, "Bad Request", "badRequest", location=name)
    return parsed.astimezone(UTC)


def _in_range(items: list[dict[str, Any]], query: Mapping[str, list[str]]) -> list[Any]:
    low = first(query, "timeMin")
    high = first(query, "timeMax")
    lo = _rfc3339("timeMin", low) if low else None
    hi = _rfc3339("timeMax", high) if high else None
    if lo and hi and lo >= hi:
        raise ApiError(
            400, "The specified time range is empty.", "timeRangeEmpty", "calendar", "timeMax"
        )
    return [
        e
        for e in items
        if "start" not in e
        or ((lo is None or _when(e["end"]) > lo) and (hi is None or _when(e["start"]) < hi))
    ]


def _page(items: list[Any], query: Mapping[str, list[str]]) -> tuple[list[Any], str | None]:
    size = min(int(first(query, "maxResults") or 250), 2500)
    token = first(query, "pageToken")
    offset = int(base64.urlsafe_b64decode(token).decode()) if token else 0
    more = offset + size < len(items)
    return items[offset : offset + size], _b64(str(offset + size)) if more else None


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()
