"""CalDAV connector (RFC 4791) on the project's HTTP client: discovery, incremental sync.

Streams are the account's VEVENT calendars, named by their decoded path
(``/alice/work/``). Per calendar the sync runs this state machine; the
cursor (``CalendarCursor``) carries everything needed to resume::

    no cursor --REPORT sync-collection, empty token (RFC 6578 3.4)--> mode "sync"
        |          every member href goes to ``pending``
        '--refused without DAV:valid-sync-token--> mode "etag":
                   PROPFIND Depth 1 getetag; every href goes to ``pending``
    pending hrefs --calendar-multiget (chunks)--> Meetings, at most ``limit`` per batch;
                   a half-consumed recurring object is resumed by its offset
    nothing pending --REPORT sync-collection(token)--> changed -> pending, 404 -> removed
                     (mode "etag": PROPFIND Depth 1, compare ETags; gone -> removed)
    a listing with a 507 for the collection (RFC 6578 3.6, paged) -> has_more, ask again
    token refused with DAV:valid-sync-token (Radicale 403, others 409/412), or
    sync-collection no longer offered -> CursorExpired (the agent resyncs the window)

A poll with no changes is therefore one REPORT (or one PROPFIND) per calendar.
The calendars themselves are discovered (3 PROPFIND) once a day: the listing
(``caldav.state.Discovery``) travels in every calendar's cursor and the agent
hands the stored cursors back (``resume``) before asking for ``streams``; a
calendar answering 404/410 expires the cursors, and the resync lists again.

Source refs, the series memory and the cursor's size: ``connectors.caldav.state``.

When the look-ahead end moves on by more than ``REEXPAND_AFTER`` since the
series were last expanded, their objects are fetched again so new
occurrences entering the window are captured although the objects did not
change on the server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from urllib.parse import quote, urljoin, urlsplit

from connectors.base import (
    ConfigurationError,
    CursorExpired,
    Limits,
    Window,
)
from connectors.caldav.state import (
    CalendarCursor,
    Discovery,
    copy_id,
    discovery_key,
    in_window,
    kept_discovery,
    occurrence_key,
    stamp,
)
from connectors.caldav.webdav import (
    GONE,
    Multistatus,
    discover_calendars,
    gone_or_refused,
    has_precondition,
    href_path,
    list_etags,
    member_hrefs,
    multiget,
    read_multistatus,
    sync_report,
)
from connectors.calendar.ical import parse_calendar
from connectors.calendar.text import is_series
from connectors.http import (
    Auth,
    HttpClient,
    describe,
)
from connectors.records import (
    Batch,
    Cursor,
    Held,
    IngestError,
    Inventory,
    Meeting,
    Record,
    SourceRef,
)

KIND = "caldav"
MULTIGET_CHUNK = 50  # objects per calendar-multiget; halved while a response is too large
REEXPAND_AFTER = timedelta(days=1)
# Statuses with which a server says "no sync-collection here" (RFC 6578 is optional).
_SYNC_UNSUPPORTED = frozenset({400, 403, 405, 409, 412, 415, 422, 501})


@dataclass
class _Progress:
    """What one fetch has gathered so far."""

    limit: int
    records: list[Record] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    removed: list[SourceRef] = field(default_factory=list)
    initial: bool = False  # CalendarCursor.initial of the state being drained
    held: list[Held] = field(default_factory=list)  # the completeness ledger's entries

    def hold(self, path: str, etag: str, records_before: int, errors_before: int) -> None:
        """The object at ``path`` was read: what it gave since the counts given."""
        made = [r.source.provider_id for r in self.records[records_before:]]
        made += [e.source.provider_id for e in self.errors[errors_before:]]
        self.held.append(Held(path, etag, tuple(dict.fromkeys(made))))

    @property
    def room(self) -> int:
        return self.limit - len(self.records)


class CaldavConnector:
    kind = KIND

    def __init__(
        self,
        name: str,
        url: str,
        window: Window,
        limits: Limits | None = None,
        *,
        auth: Auth | None = None,
        calendars: list[str] | None = None,
        client: HttpClient | None = None,
        verify: bool | str = True,
        timeout: float = 30.0,
        allow_plaintext: bool = False,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError(f"account {name!r}: CalDAV URL must be http(s)://host/...")
        if parts.username or parts.password:
            raise ConfigurationError(f"account {name!r}: put credentials in settings, not the URL")
        if parts.scheme == "http" and auth is not None and not allow_plaintext:
            raise ConfigurationError(
                f"account {name!r}: http:// would send the credentials in clear text; "
                "use https:// or set allow_plaintext: true"
            )
        self.name = name
        self.url = url if url.endswith("/") else url + "/"
        self.window = window
        self.limits = limits or Limits()
        self.client = client or HttpClient(auth=auth, verify=verify, timeout=timeout)
        self._wanted = calendars
        self._discovery: Discovery | None = None

    def resume(self, cursors: Mapping[str, Cursor]) -> None:
        """Take the calendar listing kept in the stored cursors, if it is fresh, so that
        ``streams`` needs no discovery (the agent calls this before ``streams``). The
        cursors decide, not what this connector listed before: after a resync reset
        them (a calendar gone), the calendars are listed again."""
        key = discovery_key(self.url, self._wanted)
        self._discovery = kept_discovery(cursors, key, self.window.present)

    def streams(self) -> list[str]:
        if self._discovery is None:
            calendars = discover_calendars(self.client, self.url, self._wanted)
            key = discovery_key(self.url, self._wanted)
            self._discovery = Discovery(stamp(self.window.present), key, calendars)
        return sorted(self._discovery.calendars)

    def close(self) -> None:
        self.client.close()

    def inventory(self, stream: str) -> Inventory:
        """Every object of the calendar with its ETag: one PROPFIND Depth 1, no data.
        Objects outside the window are listed too; their read left a ledger row."""
        self.streams()
        url = self.calendar_url(stream)
        etags = list_etags(self.client, url, stream)
        items = {href_path(url, href): tag for href, tag in etags.items()}
        return Inventory(items, frozenset(items), self.window.since)

    def requeue(self, stream: str, cursor: Cursor, items: Sequence[str]) -> Cursor:
        """``cursor`` with the objects at ``items`` (paths) fetched again by the next fetch."""
        state = CalendarCursor.from_json(stream, cursor)
        url = self.calendar_url(stream)
        queued = {href_path(url, h) for h, _ in state.pending}
        extra = tuple((quote(p), 0) for p in items if p not in queued)
        return replace(state, pending=state.pending + extra).to_json()

    def calendar_url(self, stream: str) -> str:
        known = self._discovery.calendars.get(stream) if self._discovery else None
        return known or urljoin(self.url, quote(stream))

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        try:
            return self._fetch(stream, cursor, limit)
        except CursorExpired:
            self._discovery = None  # the resync lists the calendars again
            raise

    def _fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        progress = _Progress(max(1, limit))
        if cursor is None:
            self.streams()  # a read-ahead child's first fetch: its cursor keeps the listing
            url = self.calendar_url(stream)
            state = self._initial(stream, url)
        else:
            state = CalendarCursor.from_json(stream, cursor)
            self._discovery = self._discovery or state.discovery
            url = self.calendar_url(stream)
            if not state.pending:
                state = self._poll(stream, url, state, progress)
        state = self._reexpand_if_due(url, state)
        progress.initial = state.initial
        state = replace(self._drain(stream, url, state, progress), discovery=self._discovery)
        return Batch(
            records=progress.records,
            errors=progress.errors,
            next_cursor=state.to_json(),
            has_more=bool(state.pending) or state.truncated,
            removed=progress.removed,
            held=progress.held,
            remaining=len(state.pending),
        )

    # -- listing: what changed on the server ------------------------------------------

    def _initial(self, stream: str, url: str) -> CalendarCursor:
        """First contact: the full listing, by sync-collection when the server offers it."""
        until = stamp(self.window.until)
        response = sync_report(self.client, url, None)
        listing = read_multistatus(response.body, stream) if response.status == 207 else None
        if listing is not None and listing.sync_token:
            members = [r.href for r in listing.responses if r.status != 404]
            pending = tuple((h, 0) for h in member_hrefs(url, members))
            return CalendarCursor(
                "sync",
                listing.sync_token,
                pending=pending,
                expanded_until=until,
                initial=True,
                truncated=_truncated(url, listing),
            )
        # No sync-collection (or a listing without the token RFC 6578 3.2 requires).
        if listing is None and response.status not in _SYNC_UNSUPPORTED:
            raise gone_or_refused(stream, response, f"REPORT {describe(url)}")
        etags = list_etags(self.client, url, stream)
        pending = tuple((h, 0) for h in sorted(etags))
        return CalendarCursor(
            "etag", etags=etags, pending=pending, expanded_until=until, initial=True
        )

    def _poll(
        self, stream: str, url: str, state: CalendarCursor, progress: _Progress
    ) -> CalendarCursor:
        """One request: what changed since the cursor; deletions go to ``progress.removed``."""
        if state.mode == "etag":
            return self._poll_etags(stream, url, state, progress)
        response = sync_report(self.client, url, state.token)
        if response.status != 207:
            if has_precondition(response.body, "valid-sync-token"):
                raise CursorExpired(stream, "the server no longer knows the sync-token")
            if response.status in _SYNC_UNSUPPORTED:
                raise CursorExpired(stream, f"sync-collection refused (HTTP {response.status})")
            raise gone_or_refused(stream, response, f"REPORT {describe(url)}")
        listing = read_multistatus(response.body, stream)
        if not listing.sync_token:
            raise CursorExpired(stream, "the server sent no new sync-token")
        gone = member_hrefs(url, [r.href for r in listing.responses if r.status == 404])
        changed = member_hrefs(url, [r.href for r in listing.responses if r.status != 404])
        series = dict(state.series)
        self._forget(stream, [href_path(url, h) for h in gone], series, progress)
        pending = tuple((h, 0) for h in changed)
        return replace(
            state,
            token=listing.sync_token,
            pending=pending,
            series=series,
            initial=state.initial and state.truncated,  # later pages of the first listing
            truncated=_truncated(url, listing),
        )

    def _poll_etags(
        self, stream: str, url: str, state: CalendarCursor, progress: _Progress
    ) -> CalendarCursor:
        current = list_etags(self.client, url, stream)
        changed = sorted(h for h, tag in current.items() if state.etags.get(h) != tag)
        gone = [href_path(url, h) for h in state.etags if h not in current]
        series = dict(state.series)
        self._forget(stream, gone, series, progress)
        pending = tuple((h, 0) for h in changed)
        return replace(state, etags=current, pending=pending, series=series, initial=False)

    def _forget(
        self, stream: str, paths: list[str], series: dict[str, list[str]], progress: _Progress
    ) -> None:
        """Deleted objects: every copy they produced becomes a removed source ref."""
        for path in paths:
            rids = [r for r in series.pop(path, []) if self._in_window(r)]
            progress.removed.append(SourceRef(self.name, stream, path))
            progress.removed.extend(SourceRef(self.name, stream, copy_id(path, r)) for r in rids)

    def _reexpand_if_due(self, url: str, state: CalendarCursor) -> CalendarCursor:
        """Queue the series again once the window end moved on: new occurrences entered."""
        until = stamp(self.window.until)
        if not state.series:
            return replace(state, expanded_until=until)
        if state.expanded_until > stamp(self.window.until - REEXPAND_AFTER):
            return state  # not due: keep the mark, or small steps would never add up
        queued = {href_path(url, h) for h, _ in state.pending}
        extra = tuple((quote(p), 0) for p in sorted(state.series) if p not in queued)
        return replace(state, pending=state.pending + extra, expanded_until=until)

    def _in_window(self, rid: str) -> bool:
        return in_window(rid, self.window)

    # -- fetching: changed objects into records ----------------------------------------

    def _drain(
        self, stream: str, url: str, state: CalendarCursor, progress: _Progress
    ) -> CalendarCursor:
        pending = list(state.pending)
        series = dict(state.series)
        while pending and progress.room > 0:
            # Most objects give one record; a few more than the room wastes little
            # when objects fall outside the window and give none.
            chunk = pending[: min(MULTIGET_CHUNK, max(progress.room, 8))]
            objects = multiget(self.client, url, stream, [h for h, _ in chunk])
            for href, skip in chunk:
                if progress.room <= 0:
                    break
                pending.pop(0)
                path = href_path(url, href)
                found, etag = objects.get(path, ("object-missing", ""))
                before = (len(progress.records), len(progress.errors))
                left = self._take(stream, path, found, skip, series, progress)
                if found != GONE:
                    progress.hold(path, etag, *before)
                if left is not None:
                    pending.insert(0, (href, left))
        return replace(state, pending=tuple(pending), series=series)

    def _take(
        self,
        stream: str,
        path: str,
        found: bytes | str,
        skip: int,
        series: dict[str, list[str]],
        progress: _Progress,
    ) -> int | None:
        """Records of one object from ``skip`` on; the new offset when the batch filled up."""
        ref = SourceRef(self.name, stream, path)
        if found == GONE:  # deleted between listing and fetch
            self._forget(stream, [path], series, progress)
            return None
        if isinstance(found, str):
            progress.errors.append(IngestError(ref, found, "server sent no usable object"))
            return None
        meetings, errors = parse_calendar(found, ref, self.window, self.limits)
        meetings = sorted((self._keyed(m, path, stream) for m in meetings), key=occurrence_key)
        if skip == 0:
            progress.errors.extend(errors)
            capped = any(e.reason == "too-many-occurrences" for e in errors)
            self._note_series(stream, path, is_series(found), capped, meetings, series, progress)
        take = meetings[skip : skip + progress.room]
        progress.records.extend(take)
        offset = skip + len(take)
        return offset if offset < len(meetings) else None

    def _keyed(self, meeting: Meeting, path: str, stream: str) -> Meeting:
        rid = meeting.recurrence_id
        return replace(meeting, source=SourceRef(self.name, stream, copy_id(path, rid)))

    def _note_series(
        self,
        stream: str,
        path: str,
        recurring: bool,
        capped: bool,
        meetings: list[Meeting],
        series: dict[str, list[str]],
        progress: _Progress,
    ) -> None:
        """Remember a series' occurrences; report the ones a rewrite took away.

        A capped series keeps the occurrences nearest the present, so the ones
        beyond its first and last kept were cut, not deleted: they stay
        remembered (to be removed with the object) and are not reported.
        """
        now = sorted({stamp(m.recurrence_id) for m in meetings if m.recurrence_id is not None})
        before = series.get(path)
        if before is not None:
            gone = [r for r in before if r not in now and self._in_window(r)]
            cut = [r for r in gone if capped and now and not now[0] <= r <= now[-1]]
            dropped = [r for r in gone if r not in cut]
            progress.removed.extend(SourceRef(self.name, stream, copy_id(path, r)) for r in dropped)
            now = sorted(now + cut)
        elif now and not progress.initial:
            # Possibly a single event that became a series: its copy was keyed by the path.
            progress.removed.append(SourceRef(self.name, stream, path))
        if now or recurring:
            series[path] = now
        else:
            series.pop(path, None)


def _truncated(url: str, listing: Multistatus) -> bool:
    """RFC 6578 3.6: a 507 for the collection itself says "more after this token"
    (Google pages a calendar's changes a few hundred at a time)."""
    own = href_path(url, url)
    return any(r.status == 507 and href_path(url, r.href) == own for r in listing.responses)
