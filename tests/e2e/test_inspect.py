"""``autocapture inspect`` as scripts run it: always JSON with --json, a window it states."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.e2e.sample import autocapture
from tests.watchdog import HANG


def json_of(stdout: str) -> dict[str, Any]:
    [line] = stdout.splitlines()
    found: dict[str, Any] = json.loads(line)
    return found


def test_json_mode_prints_an_error_object_for_a_file_it_cannot_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.eml"
    os.mkfifo(fifo)
    cases = {
        tmp_path / "missing.eml": "unreadable: No such file or directory",
        tmp_path: "not-a-regular-file: a folder; only regular files are read",
        fifo: "not-a-regular-file: a FIFO; only regular files are read",
    }
    for target, error in cases.items():
        result = autocapture("inspect", str(target), "--json", timeout=HANG)
        assert result.returncode == 1
        assert json_of(result.stdout) == {"file": str(target), "error": error}
        assert result.stderr == f"autocapture: cannot inspect {target}: {error}\n"


def vevent(uid: str, start: str, *extra: str) -> str:
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20251201T090000Z", f"DTSTART:{start}"]
    lines += ["DURATION:PT1H", "SUMMARY:Review", "ORGANIZER;CN=Ann Lee:mailto:ann@acme.example"]
    return "\r\n".join([*lines, "ATTENDEE:mailto:dana@globex.example", *extra, "END:VEVENT"])


CALENDAR = "\r\n".join(
    [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Acme//Export//EN",
        vevent("weekly@acme.example", "20260105T100000Z", "RRULE:FREQ=WEEKLY;COUNT=10"),
        vevent("kickoff-2010@acme.example", "20100301T100000Z"),
        vevent("review-2031@acme.example", "20310601T100000Z"),
        "END:VCALENDAR",
        "",
    ]
)


def test_occurrences_outside_the_window_are_counted_and_the_window_can_be_moved(
    tmp_path: Path,
) -> None:
    path = tmp_path / "export.ics"
    path.write_text(CALENDAR)

    def shown(*window: str) -> tuple[list[str], int]:
        result = autocapture("inspect", str(path), "--json", *window)
        assert result.returncode == 0, result.stderr
        report = json_of(result.stdout)
        starts = sorted(i["occurred_at"][:10] for i in report["plan"]["interactions"])
        return starts, report["outside_window"]

    weekly = [f"2026-01-{d:02d}" for d in (5, 12, 19, 26)] + [
        f"2026-02-{d:02d}" for d in (2, 9, 16, 23)
    ] + ["2026-03-02", "2026-03-09"]  # fmt: skip
    assert shown() == (weekly, 2)  # ten years back, two ahead: 2010 and 2031 fall outside
    assert shown("--since", "2009-01-01", "--until", "2032-01-01") == (
        ["2010-03-01", *weekly, "2031-06-01"],
        0,
    )
    assert shown("--since", "2026-01-20", "--until", "2026-02-03") == (
        ["2026-01-26", "2026-02-02"],
        10,
    )
    text = autocapture("inspect", str(path))
    assert text.stdout.splitlines()[-1] == (
        f"2 meeting occurrence(s) outside {_ago(3650)}..{_ahead(730)} not shown;"
        " see them with --since/--until"
    )
    refused = autocapture("inspect", str(path), "--since", "2027-01-01", "--until", "2026-01-01")
    assert (refused.returncode, refused.stderr) == (
        2,
        "autocapture: --since must come before --until\n",
    )


def _ago(days: int) -> str:
    return f"{datetime.fromtimestamp(datetime.now(UTC).timestamp() - days * 86400, UTC):%Y-%m-%d}"


def _ahead(days: int) -> str:
    return _ago(-days)


RELAYED = (
    b"Received: from mx.globex.example by mail.northwind-labs.example; "
    b"Tue, 3 Nov 2026 10:02:11 +0100\r\n"
    b"From: Renee Dubois <renee@globex.example>\r\nTo: alice@northwind-labs.example\r\n"
    b"Subject: Quote\r\nMessage-ID: <q1@globex.example>\r\n\r\nHello\r\n"
)
BARE = (
    b"From: Renee Dubois <renee@globex.example>\r\nTo: alice@northwind-labs.example\r\n"
    b"Subject: Quote\r\nMessage-ID: <q2@globex.example>\r\n\r\nHello\r\n"
)


def test_mail_without_a_date_is_dated_as_sync_dates_it(tmp_path: Path) -> None:
    saved = datetime(2026, 10, 30, 17, 45, tzinfo=UTC)
    for name, raw in (("relayed.eml", RELAYED), ("bare.eml", BARE)):
        (tmp_path / name).write_bytes(raw)
        os.utime(tmp_path / name, (saved.timestamp(), saved.timestamp()))
    dates = {}
    for name in ("relayed.eml", "bare.eml"):
        result = autocapture("inspect", str(tmp_path / name), "--json")
        assert result.returncode == 0, result.stderr
        plan = json_of(result.stdout)["plan"]
        [email] = plan["interactions"]
        dates[name] = (email["occurred_at"], [e["reason"] for e in plan["errors"]])
    assert dates == {
        "relayed.eml": ("2026-11-03T09:02:11+00:00", ["date-from-received"]),
        "bare.eml": ("2026-10-30T17:45:00+00:00", ["date-from-file"]),
    }


def test_a_calendar_that_makes_a_library_warn_leaves_stderr_empty(tmp_path: Path) -> None:
    # icalendar warns when it reads a Lightning TZID's vendor prefix off
    # (RFC 5545 3.2.19); the warning module would print it, with a path
    # into site-packages, past every log handler and its redaction.
    path = tmp_path / "lightning.ics"
    path.write_text(
        "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
                "BEGIN:VEVENT",
                "UID:pricing-call@acme.example",
                "DTSTAMP:20251201T090000Z",
                "DTSTART;TZID=/mozilla.org/20050126_1/America/New_York:20260310T090000",
                "DURATION:PT1H",
                "SUMMARY:Pricing call",
                "ORGANIZER;CN=Ann Lee:mailto:ann@acme.example",
                "ATTENDEE:mailto:dana@globex.example",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        )
    )
    result = autocapture("inspect", str(path), "--json", "--since", "2026-03-01", timeout=HANG)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    [meeting] = json_of(result.stdout)["plan"]["interactions"]
    assert (meeting["occurred_at"], meeting["ended_at"]) == (
        "2026-03-10T13:00:00+00:00",  # 09:00 in New York, on daylight time from March 8th
        "2026-03-10T14:00:00+00:00",
    )
