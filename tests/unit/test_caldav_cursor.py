"""The CalDAV cursor survives the agent's JSON round trip; anything else is an expired cursor."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.base import CursorExpired, Window
from connectors.caldav.state import CalendarCursor, copy_id, in_window, stamp
from connectors.records import Cursor


def test_round_trip_through_json_keeps_every_field() -> None:
    cursor = CalendarCursor(
        "etag",
        token=None,
        etags={"/c/a.ics": '"1"'},
        pending=(("/c/b.ics", 3),),
        series={"/c/b.ics": ["20261201T100000Z"]},
        expanded_until="20270301T000000Z",
        initial=True,
    )
    again = CalendarCursor.from_json("/c/", json.loads(json.dumps(cursor.to_json())))
    assert again == cursor


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"mode": "delta"},
        {"mode": "sync", "pending": [["/c/a.ics"]]},
        {"mode": "sync", "pending": [["/c/a.ics", "many"]]},
        {"mode": "etag", "etags": ["not", "a", "map"]},
        {"mode": "sync", "series": {"/c/a.ics": 5}},
    ],
)
def test_an_unreadable_cursor_is_expired_not_a_crash(raw: Cursor) -> None:
    with pytest.raises(CursorExpired) as caught:
        CalendarCursor.from_json("/c/", raw)
    assert (caught.value.stream, caught.value.reason) == ("/c/", "unreadable cursor")


def test_recurrence_keys_are_utc_and_sort_as_time() -> None:
    berlin = datetime(2026, 12, 1, 11, 0, tzinfo=timezone(timedelta(hours=1)))
    assert stamp(berlin) == "20261201T100000Z"
    assert stamp(datetime(2026, 12, 1, 9, tzinfo=UTC)) < stamp(berlin)


def test_copy_ids_name_the_object_and_the_occurrence() -> None:
    rid = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert copy_id("/c/a b.ics", None) == "/c/a b.ics"
    assert copy_id("/c/s.ics", rid) == "/c/s.ics#20261201T100000Z"
    assert copy_id("/c/s.ics", "20261201T100000Z") == copy_id("/c/s.ics", rid)


def test_in_window_is_half_open() -> None:
    window = Window(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
    assert in_window("20261201T000000Z", window)
    assert in_window("20261201T235959Z", window)
    assert not in_window("20261202T000000Z", window)
    assert not in_window("20261130T235959Z", window)
