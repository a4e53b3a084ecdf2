"""Dana's Gmail account as the Google fake serves it, and what capturing it must store:
shared by the Gmail agent, auth and service-account tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.servers.google_api import GoogleApiFake

DANA = "dana@acme.example"
NOW = datetime.now(UTC)
SOON = (NOW + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)


def mail(
    n: int, sender: str, to: str, subject: str, labels: tuple[str, ...], extra: str = ""
) -> Any:
    when = (NOW - timedelta(days=20 - n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    raw = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {when}\r\n"
        f"Message-ID: <g{n}@mail.example>\r\n{extra}\r\nHello {n}.\r\n"
    ).encode()
    return raw, labels


MAILBOX = [
    mail(1, "Ann Lee <ann@customer.example>", f"Dana <{DANA}>", "Pilot", ("INBOX",)),
    mail(2, f"Dana <{DANA}>", "Ann Lee <ann@customer.example>", "Re: Pilot", ("SENT",)),
    mail(
        3,
        "Bob Stone <bob@partner.example>",
        f"Dana <{DANA}>",
        "Intro",
        ("INBOX",),
        "Cc: Ann Lee <ann@customer.example>\r\n",
    ),
    mail(4, f"Dana <{DANA}>", "Bob Stone <bob@partner.example>", "Re: Intro", ("SENT",)),
    mail(5, "Prize <win@lottery.example>", DANA, "You won", ("SPAM",)),
    mail(6, f"Dana <{DANA}>", "Carl Ode <carl@draft.example>", "Unsent", ("DRAFT",)),
    mail(7, "Shop <noreply@shop.example>", DANA, "Your order", ("INBOX", "CATEGORY_UPDATES")),
]


def event(uid: str, start: datetime, summary: str, *guests: str) -> dict[str, Any]:
    return {
        "iCalUID": uid,
        "summary": summary,
        "start": {"dateTime": start.isoformat(), "timeZone": "UTC"},
        "end": {"dateTime": (start + timedelta(hours=1)).isoformat(), "timeZone": "UTC"},
        "organizer": {"email": DANA, "self": True},
        "attendees": [{"email": DANA, "self": True, "responseStatus": "accepted"}]
        + [{"email": g, "responseStatus": "accepted"} for g in guests],
    }


def load(fake: GoogleApiFake, user: str = DANA) -> dict[str, str]:
    """Dana's mailbox and calendars; returns message ids by Message-ID."""
    box = fake.user(user).mailbox
    ids = {}
    for raw, labels in MAILBOX:
        ids[raw.split(b"Message-ID: <")[1].split(b">")[0].decode()] = box.add(raw, labels)
    calendars = fake.user(user).calendars
    calendars.put(
        event("review@acme", SOON, "Review", "ann@customer.example", "cleo@customer.example")
    )
    calendars.add_calendar("en.usa#holiday@group.v.calendar.google.com", "Holidays", "reader")
    calendars.put(
        event("xmas@holiday", SOON, "Holiday"), "en.usa#holiday@group.v.calendar.google.com"
    )
    calendars.add_calendar("eve@acme.example", "Eve", "reader")
    calendars.put(
        event("eve@acme", SOON, "Eve's dentist", "dr@dentist.example"), "eve@acme.example"
    )
    return ids


LOADED = {
    "msgid:g1@mail.example": ("received", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:g2@mail.example": ("sent", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:g3@mail.example": (
        "received",
        ["ann@customer.example", "bob@partner.example", DANA],
        [("dana", False)],
    ),
    "msgid:g4@mail.example": ("sent", ["bob@partner.example", DANA], [("dana", False)]),
    "msgid:g7@mail.example": ("received", [DANA, "noreply@shop.example"], [("dana", False)]),
    "ical:review@acme|": (
        "confirmed",
        ["ann@customer.example", "cleo@customer.example", DANA],
        [("dana", False)],
    ),
}


CONTACTS = [
    (("ann@customer.example",), "Ann Lee"),
    (("bob@partner.example",), "Bob Stone"),
    (("cleo@customer.example",), None),  # met in the meeting Dana organised
]
