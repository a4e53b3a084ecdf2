"""The delta-query loop mail folders and calendars share: pages, parts of pages, the cursor.

A cursor is ``{"link": url}`` (an ``@odata.nextLink`` mid-round, the
``@odata.deltaLink`` once caught up) plus ``"skip": k`` when a page held
more than the batch's room and its first k items are committed already
(only when Graph sent more than asked: a batch takes whole pages, because
a round asked again may list its changes in another order).
Graph's links are self-contained (the state is in their tokens), so a
fresh connector resumes any cursor. A 410 is an expired token:
``CursorExpired``, and the agent resyncs the window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.base import CursorExpired
from connectors.http import refusal
from connectors.microsoft.wire import GraphWire, error_code, json_body
from connectors.records import Batch, Cursor, IngestError, Record, SourceRef


@dataclass
class Collected:
    records: list[Record] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    removed: list[SourceRef] = field(default_factory=list)

    def batch(self, cursor: Cursor, has_more: bool) -> Batch:
        return Batch(self.records, self.errors, cursor, has_more, self.removed)


Reader = Callable[[list[Any], Collected], None]


def delta_batch(
    wire: GraphWire,
    stream: str,
    start: Cursor,
    limit: int,
    page_size: int,
    prefer: Sequence[str],
    read: Reader,
) -> Batch:
    """At most ``limit`` items from the delta round at ``start``, read by ``read``.

    Pages are asked for at ``page_size`` (at most ``limit``) and read whole;
    another page is read only while a whole one still fits. A page longer
    than asked (Graph treats ``odata.maxpagesize`` as a wish) is read in
    parts, the cursor then saying how many of its items are done.
    """
    link, skip = str(start["link"]), int(start.get("skip", 0))
    prefer = (f"odata.maxpagesize={page_size}", *prefer)
    out = Collected()
    taken = 0
    while True:
        page = delta_page(wire, stream, link, prefer)
        items = page.get("value")
        items = items[skip:] if isinstance(items, list) else []
        room = limit - taken
        read(items[:room], out)
        taken += min(room, len(items))
        if len(items) > room:  # the rest of this page goes into the next batch
            return out.batch({"link": link, "skip": skip + room}, True)
        following = page.get("@odata.nextLink")
        if not isinstance(following, str):
            done = page.get("@odata.deltaLink")
            if not isinstance(done, str):
                # Neither link: start over rather than skip changes.
                raise CursorExpired(stream, "delta page without a link")
            return out.batch({"link": done}, False)
        link, skip = following, 0
        if limit - taken < page_size:
            return out.batch({"link": link}, True)


def delta_page(wire: GraphWire, stream: str, link: str, prefer: Sequence[str]) -> dict[str, Any]:
    response = wire.get(link, prefer)
    if response.status == 410:
        raise CursorExpired(stream, error_code(response) or "delta token gone")
    if response.status != 200:
        raise refusal(response, f"{stream} delta")
    return json_body(response)
