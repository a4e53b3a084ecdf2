"""Google Calendar through the real client against the loopback fake: listing and sync tokens."""

from __future__ import annotations

import json
from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.google_clients import DANA, calendar, status_of, user_creds
from tests.servers.google_api import GoogleApiFake
from tests.servers.google_calendar import SYNC_FORBIDDEN

# ---------------------------------------------------------------- calendar


def _event(summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": start, "timeZone": "Europe/Berlin"},
        "end": {"dateTime": end, "timeZone": "Europe/Berlin"},
        **extra,
    }


def test_events_list_full_then_incremental_with_sync_tokens(google_api: GoogleApiFake) -> None:
    cal = google_api.user(DANA).calendars
    weekly = cal.put(
        _event("Weekly", "2026-11-02T10:00:00+01:00", "2026-11-02T10:30:00+01:00",
               recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"])
    )  # fmt: skip
    lunch = cal.put(_event("Lunch", "2026-11-04T12:00:00+01:00", "2026-11-04T13:00:00+01:00"))
    events = calendar(google_api, user_creds(google_api)).events()
    full = events.list(
        calendarId="primary", singleEvents=True, timeMin="2026-11-01T00:00:00Z", maxResults=2
    ).execute()
    assert [e["id"] for e in full["items"]] == [
        f"{weekly['id']}_20261102T090000Z",
        f"{weekly['id']}_20261109T090000Z",
    ]
    assert full["items"][1]["originalStartTime"] == {
        "dateTime": "2026-11-09T10:00:00+01:00",
        "timeZone": "Europe/Berlin",
    }
    assert full["items"][1]["recurringEventId"] == weekly["id"]
    assert "nextSyncToken" not in full
    second = events.list(
        calendarId="primary",
        singleEvents=True,
        timeMin="2026-11-01T00:00:00Z",
        maxResults=2,
        pageToken=full["nextPageToken"],
    ).execute()
    assert [e["summary"] for e in second["items"]] == ["Weekly", "Lunch"]
    token = second["nextSyncToken"]

    cal.cancel(lunch["id"])
    moved = cal.put(
        _event("Weekly (moved)", "2026-11-09T11:00:00+01:00", "2026-11-09T11:30:00+01:00",
               recurringEventId=weekly["id"],
               originalStartTime={"dateTime": "2026-11-09T10:00:00+01:00",
                                  "timeZone": "Europe/Berlin"})
    )  # fmt: skip
    changes = events.list(calendarId="primary", singleEvents=True, syncToken=token).execute()
    assert [(e["id"], e["status"]) for e in changes["items"]] == [
        (lunch["id"], "cancelled"),
        (moved["id"], "confirmed"),
    ]
    assert changes["items"][0] == {
        "kind": "calendar#event",
        "etag": changes["items"][0]["etag"],
        "id": lunch["id"],
        "status": "cancelled",
        "updated": changes["items"][0]["updated"],
        "iCalUID": lunch["iCalUID"],
    }
    assert moved["iCalUID"] == weekly["iCalUID"]
    again = events.list(
        calendarId="primary", singleEvents=True, syncToken=changes["nextSyncToken"]
    ).execute()
    assert again["items"] == []
    cal.expire_sync_tokens()
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", syncToken=again["nextSyncToken"]).execute()
    assert status_of(caught) == (410, "fullSyncRequired")


@pytest.mark.parametrize("name", SYNC_FORBIDDEN)
def test_parameters_forbidden_with_a_sync_token_are_400(
    google_api: GoogleApiFake, name: str
) -> None:
    google_api.user(DANA)
    events = calendar(google_api, user_creds(google_api)).events()
    token = events.list(calendarId="primary").execute()["nextSyncToken"]
    value: Any = {
        "orderBy": "updated",
        "timeMin": "2026-11-01T00:00:00Z",
        "timeMax": "2026-12-01T00:00:00Z",
        "updatedMin": "2026-11-01T00:00:00Z",
        "privateExtendedProperty": ["crm=1"],
        "sharedExtendedProperty": ["crm=1"],
    }.get(name, "x")
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", syncToken=token, **{name: value}).execute()
    assert caught.value.resp.status == 400
    assert caught.value.error_details[0]["location"] == name


def test_order_by_start_time_needs_single_events_and_ranges_must_not_be_empty(
    google_api: GoogleApiFake,
) -> None:
    google_api.user(DANA)
    events = calendar(google_api, user_creds(google_api)).events()
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", orderBy="startTime").execute()
    assert caught.value.resp.status == 400
    with pytest.raises(HttpError) as caught:
        events.list(
            calendarId="primary", timeMin="2026-12-01T00:00:00Z", timeMax="2026-11-01T00:00:00Z"
        ).execute()
    assert status_of(caught) == (400, "timeRangeEmpty")
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="someone-else@acme.example").execute()
    assert status_of(caught) == (404, "notFound")


def test_calendar_errors_have_the_calendar_shape(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    events = calendar(google_api, user_creds(google_api)).events()
    google_api.faults.add("429", path="/events$", retry_after=30)
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary").execute()
    assert json.loads(caught.value.content) == {
        "error": {
            "code": 429,
            "message": "Too many concurrent requests for user.",
            "errors": [
                {
                    "message": "Too many concurrent requests for user.",
                    "domain": "usageLimits",
                    "reason": "rateLimitExceeded",
                }
            ],
        }
    }  # no "status": the Calendar front end does not add one, Gmail's does
    assert caught.value.resp["retry-after"] == "30"


def test_parameters_the_fake_lacks_are_refused_not_ignored(google_api: GoogleApiFake) -> None:
    google_api.user(DANA)
    events = calendar(google_api, user_creds(google_api)).events()
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", q="pilot").execute()
    assert status_of(caught) == (400, "fake")
