"""Without a window of its own, every capture spans the same ``ALL_TIME``: an IMAP search
and a calendar carried in mail begin on the same day (the day after the Unix epoch)."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.base import ALL_TIME, Limits
from connectors.mail.mime import parse_message_and_errors
from connectors.records import SourceRef

INVITE = """\
From: Ann Lee <ann@client.example>\r
To: rep1@ours.example\r
Subject: Invitation\r
Message-ID: <invite-{uid}@client.example>\r
Date: Mon, 05 Jan 1970 09:00:00 +0000\r
MIME-Version: 1.0\r
Content-Type: text/calendar; method=REQUEST; charset=utf-8\r
\r
BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//autocapture tests//EN\r
METHOD:REQUEST\r
BEGIN:VEVENT\r
UID:{uid}\r
DTSTAMP:19700101T000000Z\r
DTSTART:{start}\r
DTEND:{start}\r
SUMMARY:Review\r
ORGANIZER;CN=Ann Lee:mailto:ann@client.example\r
END:VEVENT\r
END:VCALENDAR\r
"""


def carried(uid: str, start: str) -> list[str]:
    raw = INVITE.format(uid=uid, start=start).encode()
    message, errors = parse_message_and_errors(raw, SourceRef("a", "INBOX", uid), Limits())
    assert errors == []
    return [m.identity for m in message.meetings]


def test_all_time_begins_the_day_after_the_epoch() -> None:
    assert ALL_TIME.since == datetime(1970, 1, 2, tzinfo=UTC)


def test_a_carried_invitation_without_a_window_is_bounded_by_all_time() -> None:
    assert carried("inside@x", "19700102T120000Z") == ["ical:inside@x|"]
    assert carried("before@x", "19700101T120000Z") == []
