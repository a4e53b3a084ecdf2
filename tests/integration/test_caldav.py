"""The CalDAV connector against a real Radicale: discovery, capture, incremental sync.

Every test gets a fresh Radicale user. Requests are counted through the
client's transport seam (a counting adapter mounted on ``HttpClient``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import AuthError, ConfigurationError, CursorExpired, Limits, Window
from connectors.caldav.connector import CaldavConnector
from connectors.http import BasicAuth, HttpClient
from connectors.records import SourceRef
from tests.caldav_client import WINDOW, CountingAdapter, by_identity, connect, fetch_all, meetings
from tests.contract import drain, stored
from tests.servers.radicale import CalendarUser, ics_event

pytestmark = pytest.mark.server

ANN = ";CN=Ann Lee;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:Ann@Example.COM"
BOB = ";CN=Bob Roe;ROLE=OPT-PARTICIPANT;PARTSTAT=TENTATIVE:mailto:bob@client.example"
ROOM = ";CN=Board Room;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:board@rooms.example"
PROJECTOR = ";CUTYPE=RESOURCE:mailto:projector@rooms.example"
ME = ";CN=Rep One:mailto:rep1@ours.example"


def test_discovery_lists_event_calendars_from_any_starting_url(radicale: CalendarUser) -> None:
    work = radicale.make_calendar("work")
    mixed = radicale.make_calendar("mixed", ("VEVENT", "VTODO"))
    radicale.make_calendar("tasks", ("VTODO",))
    everything = sorted([work, mixed])
    assert connect(radicale).streams() == everything  # server root: well-known + principal
    principal = radicale.url + radicale.name + "/"
    assert connect(radicale, url=principal).streams() == everything
    counter = CountingAdapter()  # a URL that is no DAV resource: RFC 6764 bootstrapping
    missing = f"{principal}no-such/"
    assert connect(radicale, url=missing, counter=counter).streams() == everything
    assert counter.sent[:3] == [
        ("PROPFIND", f"/{radicale.name}/no-such/"),
        ("PROPFIND", "/.well-known/caldav"),
        ("PROPFIND", "/"),  # Radicale's 301 from the well-known URL, followed with the body
    ]
    assert connect(radicale, url=radicale.url.rstrip("/") + work).streams() == [work]
    assert connect(radicale, calendars=["work"]).streams() == [work]
    assert connect(radicale, calendars=[mixed]).streams() == [mixed]
    # A typo must not capture nothing, silently, forever; a to-do list is not a calendar here.
    with pytest.raises(ConfigurationError, match="no event calendar named tasks, wrok"):
        connect(radicale, calendars=["work", "wrok", "tasks"]).streams()


def test_meetings_occurrences_organizers_and_attendees_are_captured_exactly(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put(
        "work",
        "kickoff.ics",
        ics_event(
            "kickoff@ours",
            "20261203T140000Z",
            end="20261203T150000Z",
            summary="Kickoff",
            organizer=ME,
            attendees=(ANN, BOB, ROOM, PROJECTOR),
        ),
    )
    # Weekly, 4 times; the 2nd moved and retitled, the 3rd cancelled, the 4th excluded.
    moved = (
        "BEGIN:VEVENT\r\nUID:weekly@ours\r\nDTSTAMP:20261101T000000Z\r\n"
        "RECURRENCE-ID:20261208T090000Z\r\nDTSTART:20261208T110000Z\r\n"
        "DTEND:20261208T113000Z\r\nSUMMARY:Sync (moved)\r\nSEQUENCE:1\r\n"
        f"ORGANIZER{ME}\r\nATTENDEE{ANN}\r\nEND:VEVENT"
    )
    cancelled = (
        "BEGIN:VEVENT\r\nUID:weekly@ours\r\nDTSTAMP:20261101T000000Z\r\n"
        "RECURRENCE-ID:20261215T090000Z\r\nDTSTART:20261215T090000Z\r\n"
        "DTEND:20261215T093000Z\r\nSUMMARY:Sync\r\nSTATUS:CANCELLED\r\nEND:VEVENT"
    )
    radicale.put(
        "work",
        "weekly.ics",
        ics_event(
            "weekly@ours",
            "20261201T090000Z",
            end="20261201T093000Z",
            summary="Sync",
            organizer=ME,
            attendees=(ANN,),
            extra=("RRULE:FREQ=WEEKLY;COUNT=5", "EXDATE:20261222T090000Z"),
            overrides=(moved, cancelled),
        ),
    )
    radicale.put("work", "old.ics", ics_event("old@ours", "20250101T100000Z"))  # before window
    got = fetch_all(connect(radicale), stream, None)
    assert got.errors == []
    found = by_identity(meetings(got.records))
    assert sorted(found) == [
        "ical:kickoff@ours|",
        "ical:weekly@ours|20261201T090000Z",
        "ical:weekly@ours|20261208T090000Z",
        "ical:weekly@ours|20261215T090000Z",
        "ical:weekly@ours|20261229T090000Z",
    ]
    kickoff = found["ical:kickoff@ours|"]
    assert kickoff.source == SourceRef("rep1", stream, stream + "kickoff.ics")
    assert (kickoff.start, kickoff.end, kickoff.summary, kickoff.status) == (
        datetime(2026, 12, 3, 14, tzinfo=UTC),
        datetime(2026, 12, 3, 15, tzinfo=UTC),
        "Kickoff",
        "confirmed",
    )
    assert kickoff.organizer is not None
    assert kickoff.organizer.address.email == "rep1@ours.example"
    assert [
        (a.address.email, a.address.name, a.role, a.partstat, a.cutype) for a in kickoff.attendees
    ] == [
        ("ann@example.com", "Ann Lee", "REQ-PARTICIPANT", "ACCEPTED", "INDIVIDUAL"),
        ("bob@client.example", "Bob Roe", "OPT-PARTICIPANT", "TENTATIVE", "INDIVIDUAL"),
        ("board@rooms.example", "Board Room", "REQ-PARTICIPANT", "ACCEPTED", "ROOM"),
        ("projector@rooms.example", None, "REQ-PARTICIPANT", "NEEDS-ACTION", "RESOURCE"),
    ]
    moved_one = found["ical:weekly@ours|20261208T090000Z"]
    assert (moved_one.start, moved_one.summary, moved_one.sequence) == (
        datetime(2026, 12, 8, 11, tzinfo=UTC),
        "Sync (moved)",
        1,
    )
    assert moved_one.source.provider_id == stream + "weekly.ics#20261208T090000Z"
    assert found["ical:weekly@ours|20261215T090000Z"].status == "cancelled"
    assert found["ical:weekly@ours|20261201T090000Z"].status == "confirmed"
    assert [a.address.email for a in found["ical:weekly@ours|20261229T090000Z"].attendees] == [
        "ann@example.com"
    ]


def test_add_modify_delete_each_reflected_once_on_the_next_poll(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z", summary="A"))
    radicale.put("work", "b.ics", ics_event("b@x", "20261202T100000Z", summary="B"))
    radicale.put(
        "work", "s.ics", ics_event("s@x", "20261203T100000Z", extra=("RRULE:FREQ=DAILY;COUNT=2",))
    )
    first = fetch_all(connect(radicale), stream, None, limit=2)
    assert len(first.records) == 4
    radicale.put("work", "c.ics", ics_event("c@x", "20261204T100000Z", summary="C"))
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z", summary="A2", sequence=1))
    radicale.delete("work", "b.ics")
    radicale.delete("work", "s.ics")
    second = fetch_all(connect(radicale), stream, first.next_cursor)
    assert sorted((m.identity, m.summary, m.sequence) for m in meetings(second.records)) == [
        ("ical:a@x|", "A2", 1),
        ("ical:c@x|", "C", 0),
    ]
    assert sorted(r.provider_id for r in second.removed) == [
        stream + "b.ics",
        stream + "s.ics",
        stream + "s.ics#20261203T100000Z",
        stream + "s.ics#20261204T100000Z",
    ]
    assert second.errors == []
    third = fetch_all(connect(radicale), stream, second.next_cursor)
    assert (third.records, third.removed, third.errors) == ([], [], [])


def test_a_series_that_loses_an_occurrence_reports_that_copy_removed(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    rule = "RRULE:FREQ=WEEKLY;COUNT=3"
    radicale.put("work", "s.ics", ics_event("s@x", "20261201T100000Z", extra=(rule,)))
    first = fetch_all(connect(radicale), stream, None)
    assert len(first.records) == 3
    radicale.put(
        "work",
        "s.ics",
        ics_event("s@x", "20261201T100000Z", sequence=1, extra=(rule, "EXDATE:20261208T100000Z")),
    )
    second = fetch_all(connect(radicale), stream, first.next_cursor)
    assert sorted(m.identity for m in meetings(second.records)) == [
        "ical:s@x|20261201T100000Z",
        "ical:s@x|20261215T100000Z",
    ]
    assert [r.provider_id for r in second.removed] == [stream + "s.ics#20261208T100000Z"]


def test_new_occurrences_entering_the_window_are_fetched_without_a_change(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    rule = "RRULE:FREQ=WEEKLY;COUNT=30"
    radicale.put("work", "s.ics", ics_event("s@x", "20270215T100000Z", extra=(rule,)))
    first = fetch_all(connect(radicale), stream, None)
    assert [m.identity for m in meetings(first.records)] == [
        "ical:s@x|20270215T100000Z",
        "ical:s@x|20270222T100000Z",
    ]
    later = Window(WINDOW.since + timedelta(days=7), WINDOW.until + timedelta(days=7))
    again = fetch_all(connect(radicale, window=later), stream, first.next_cursor)
    assert [m.identity for m in meetings(again.records)] == [
        "ical:s@x|20270215T100000Z",
        "ical:s@x|20270222T100000Z",
        "ical:s@x|20270301T100000Z",
    ]
    assert again.removed == []
    idle = fetch_all(connect(radicale, window=later), stream, again.next_cursor)
    assert idle.records == []


def test_series_are_expanded_again_once_the_window_moved_a_day(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    daily = ics_event("d@x", "20270227T100000Z", extra=("RRULE:FREQ=DAILY;COUNT=10",))
    radicale.put("work", "d.ics", daily)
    cursor = fetch_all(connect(radicale), stream, None).next_cursor
    seen = []
    for hours in (13, 26):  # the agent's window moves with the clock, poll by poll
        step = timedelta(hours=hours)
        moved = Window(WINDOW.since + step, WINDOW.until + step)
        got = fetch_all(connect(radicale, window=moved), stream, cursor)
        seen.append(sorted(m.identity for m in meetings(got.records)))
        cursor = got.next_cursor
    assert seen == [
        [],  # less than a day: no refetch, the idle poll stays one request
        ["ical:d@x|20270227T100000Z", "ical:d@x|20270228T100000Z", "ical:d@x|20270301T100000Z"],
    ]


def test_invalid_sync_token_raises_and_a_resync_repeats_no_identity(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    for n in range(3):
        radicale.put("work", f"{n}.ics", ics_event(f"e{n}@x", f"2026120{n + 1}T100000Z"))
    first = fetch_all(connect(radicale), stream, None)
    forgotten = {**first.next_cursor, "sync_token": "http://radicale.org/ns/sync/" + "0" * 64}
    with pytest.raises(CursorExpired) as caught:
        connect(radicale).fetch(stream, forgotten, 10)
    assert caught.value.stream == stream
    resync = fetch_all(connect(radicale), stream, None)
    assert sorted(m.identity for m in meetings(resync.records)) == sorted(
        m.identity for m in meetings(first.records)
    )
    assert [m.source for m in resync.records] == [m.source for m in first.records]


def test_wrong_password_is_an_auth_error_without_the_password(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    wrong = "not-" + radicale.password
    with pytest.raises(AuthError) as caught:
        connect(radicale, password=wrong).streams()
    assert wrong not in str(caught.value) and radicale.password not in str(caught.value)
    with pytest.raises(AuthError):
        connect(radicale, password=wrong).fetch(stream, None, 10)


def test_an_object_over_the_size_limit_is_an_error_and_the_rest_is_captured(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    huge = "DESCRIPTION:" + "x" * 70_000
    radicale.put("work", "big.ics", ics_event("big@x", "20261202T100000Z", extra=(huge,)))
    radicale.put("work", "c.ics", ics_event("c@x", "20261203T100000Z"))
    got = fetch_all(connect(radicale, limits=Limits(max_ical_bytes=64_000)), stream, None)
    assert sorted(m.identity for m in meetings(got.records)) == ["ical:a@x|", "ical:c@x|"]
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        (stream + "big.ics", "ical-too-large")
    ]


def test_an_idle_poll_costs_one_request_per_calendar(radicale: CalendarUser) -> None:
    streams = [radicale.make_calendar("work"), radicale.make_calendar("home")]
    radicale.put("work", "a.ics", ics_event("a@x", "20261201T100000Z"))
    radicale.put("home", "b.ics", ics_event("b@x", "20261202T100000Z"))
    conn = connect(radicale)
    cursors = {s: fetch_all(conn, s, None).next_cursor for s in streams}
    counter = CountingAdapter()
    idle = connect(radicale, counter=counter)
    for stream in streams:
        batch = idle.fetch(stream, stored(cursors[stream]), 50)
        assert (batch.records, batch.removed, batch.has_more) == ([], [], False)
    assert sorted(counter.sent) == sorted(("REPORT", s) for s in streams)


def test_the_same_meeting_in_two_reps_calendars_has_one_identity(
    radicale: CalendarUser, radicale_server: object
) -> None:
    from tests.servers.radicale import RadicaleServer

    assert isinstance(radicale_server, RadicaleServer)
    other = CalendarUser(radicale_server, radicale.name + "b", "pw-b")
    radicale_server.add_user(other.name, other.password)
    invite = ics_event("shared@x", "20261201T100000Z", organizer=ME, attendees=(ANN,))
    got = []
    for rep, user in (("rep1", radicale), ("rep2", other)):
        stream = user.make_calendar("cal")
        user.put("cal", "invite.ics", invite)
        got += fetch_all(connect(user, name=rep), stream, None).records
    assert [m.identity for m in meetings(got)] == ["ical:shared@x|", "ical:shared@x|"]
    assert [(m.source.account, m.source.provider_id) for m in got] == [
        ("rep1", f"/{radicale.name}/cal/invite.ics"),
        ("rep2", f"/{other.name}/cal/invite.ics"),
    ]


def test_a_long_series_pages_through_small_batches_exactly_once(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    daily = ics_event("d@x", "20261201T080000Z", extra=("RRULE:FREQ=DAILY;COUNT=7",))
    radicale.put("work", "d.ics", daily)
    radicale.put("work", "one.ics", ics_event("one@x", "20261210T100000Z"))
    got = drain(connect(radicale), stream, None, 3)
    assert got.batch_ends == [3, 6, 8]
    assert len(got.identities) == len(set(got.identities)) == 8
    assert "ical:one@x|" in got.identities


def test_parser_limits_apply_to_every_object_and_the_rest_is_captured(
    radicale: CalendarUser,
) -> None:
    stream = radicale.make_calendar("work")
    limits = Limits(max_vevents=2, max_attendees=2, max_occurrences=3)
    radicale.put(
        "work",
        "daily.ics",
        ics_event("daily@x", "20261201T080000Z", extra=("RRULE:FREQ=DAILY;COUNT=10",)),
    )
    radicale.put(
        "work",
        "crowd.ics",
        ics_event("crowd@x", "20261202T080000Z", attendees=(ANN, BOB, ROOM, PROJECTOR)),
    )
    overrides = tuple(
        f"BEGIN:VEVENT\r\nUID:many@x\r\nDTSTAMP:20261101T000000Z\r\nRECURRENCE-ID:2026120{d}T080000Z\r\n"
        f"DTSTART:2026120{d}T090000Z\r\nDTEND:2026120{d}T093000Z\r\nSUMMARY:moved\r\nEND:VEVENT"
        for d in (4, 5)
    )
    radicale.put(
        "work",
        "many.ics",
        ics_event(
            "many@x", "20261203T080000Z", extra=("RRULE:FREQ=DAILY;COUNT=3",), overrides=overrides
        ),
    )
    got = fetch_all(connect(radicale, limits=limits), stream, None)
    found = by_identity(meetings(got.records))
    # Capped: the occurrences nearest the present (without ``now``, the window's end).
    assert sorted(i for i in found if i.startswith("ical:daily")) == [
        "ical:daily@x|20261208T080000Z",
        "ical:daily@x|20261209T080000Z",
        "ical:daily@x|20261210T080000Z",
    ]
    assert [a.address.email for a in found["ical:crowd@x|"].attendees] == [
        "ann@example.com",
        "bob@client.example",
    ]
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        (stream + "daily.ics", "too-many-occurrences"),
        (stream + "many.ics", "too-many-vevents"),
    ]


def test_object_names_that_need_escaping_keep_one_provider_id(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    radicale.put("work", "team%20r%C3%A9union.ics", ics_event("r@x", "20261201T100000Z"))
    rule = "RRULE:FREQ=DAILY;COUNT=2"
    radicale.put("work", "a%2Bb.ics", ics_event("s@x", "20261202T100000Z", extra=(rule,)))
    first = fetch_all(connect(radicale), stream, None)
    assert sorted(m.source.provider_id for m in first.records) == [
        stream + "a+b.ics#20261202T100000Z",
        stream + "a+b.ics#20261203T100000Z",
        stream + "team réunion.ics",
    ]
    later = Window(WINDOW.since, WINDOW.until + timedelta(days=2))  # due: series refetched
    again = fetch_all(connect(radicale, window=later), stream, first.next_cursor)
    assert sorted(m.identity for m in meetings(again.records)) == [
        "ical:s@x|20261202T100000Z",
        "ical:s@x|20261203T100000Z",
    ]
    assert again.errors == []
    radicale.delete("work", "team%20r%C3%A9union.ics")
    radicale.delete("work", "a%2Bb.ics")
    gone = fetch_all(connect(radicale, window=later), stream, again.next_cursor)
    assert sorted(r.provider_id for r in gone.removed) == [
        stream + "a+b.ics",
        stream + "a+b.ics#20261202T100000Z",
        stream + "a+b.ics#20261203T100000Z",
        stream + "team réunion.ics",
    ]


def test_multiget_halves_while_responses_exceed_the_cap(radicale: CalendarUser) -> None:
    stream = radicale.make_calendar("work")
    note = "DESCRIPTION:" + "n" * 5_000
    for n in range(4):
        radicale.put("work", f"{n}.ics", ics_event(f"e{n}@x", "20261201T100000Z", extra=(note,)))
    radicale.put("work", "big.ics", ics_event("big@x", "20261201T100000Z", extra=(note * 3,)))
    counter = CountingAdapter()
    client = HttpClient(
        auth=BasicAuth(radicale.name, lambda: radicale.password), max_response_bytes=12_000
    )
    client.mount("http://", counter)
    got = fetch_all(CaldavConnector("rep1", radicale.url, WINDOW, client=client), stream, None)
    assert sorted(m.identity for m in meetings(got.records)) == [f"ical:e{n}@x|" for n in range(4)]
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        (stream + "big.ics", "ical-too-large")
    ]
    # The listing, then a halving tree over 5 objects: split at least once, and never
    # more than 2n - 1 multigets however the objects fall.
    multigets = counter.sent.count(("REPORT", stream)) - 1
    assert 3 <= multigets <= 2 * 5 - 1
