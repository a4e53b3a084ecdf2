"""Dana's Microsoft 365 mailbox and calendar as the agent-level tests load them into the Graph
fake, what capturing them must store, and how those tests read the fake's request log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from config.loader import load_text
from config.settings import Settings
from tests.microsoft_clients import DANA, account_yaml, graph_event, settings_text
from tests.servers.microsoft_graph import Graph

NOW = datetime.now(UTC)
SOON = (NOW + timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
# Exchange's encoded global object id of a meeting Dana organised (MS-OXOCAL 2.2.1.27):
# prefix, instance date (zero: the series), creation time, padding, size, data.
GOID = (
    "040000008200E00074C5B7101A82E008"
    "00000000"
    "80F1D2C3B4A5D901"
    "0000000000000000"
    "10000000"
    "6A1F0E9D8C7B6A5F4E3D2C1B0A998877"
)
DELTA = "/v1.0/users/{user}/mailFolders/{folder}/messages/delta"
CALENDAR_DELTA = "/v1.0/users/{user}/calendarView/delta"


def stamp(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%a, %d %b %Y %H:%M:%S +0000")


def mail(n: int, sender: str, to: str, subject: str, extra: str = "", days_ago: int = 0) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {stamp(days_ago or 20 - n)}\r\n"
        f"Message-ID: <m{n}@mail.example>\r\n{extra}\r\nHello {n}.\r\n"
    ).encode()


def invitation(uid: str, start: datetime, to: str) -> bytes:
    """The invitation Exchange sends: text plus a text/calendar REQUEST naming every attendee."""
    fmt = "%Y%m%dT%H%M%SZ"
    ics = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\n"
        "VERSION:2.0\r\nBEGIN:VEVENT\r\n"
        f"ORGANIZER;CN=Dana:mailto:{DANA}\r\n"
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:{to}\r\n"
        "ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:cleo@customer.example\r\n"
        "ATTENDEE;CUTYPE=ROOM;ROLE=NON-PARTICIPANT:mailto:room-4@acme.example\r\n"
        f"UID:{uid}\r\nSUMMARY:Review\r\nDTSTART:{start.strftime(fmt)}\r\n"
        f"DTEND:{(start + timedelta(minutes=30)).strftime(fmt)}\r\nDTSTAMP:{NOW.strftime(fmt)}\r\n"
        "SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return (
        f"From: Dana <{DANA}>\r\nTo: {to}\r\nSubject: Review\r\nDate: {stamp(2)}\r\n"
        "Message-ID: <invite-review@acme.example>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLet us review.\r\n"
        "--b\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
        f"{ics}--b--\r\n"
    ).encode()


REVIEW_ID = "AAMkAGI2TG93AAAreview="
REVIEW = graph_event(
    REVIEW_ID,
    GOID,
    SOON,
    "Review",
    DANA,
    [
        (DANA, "required", "organizer"),
        ("ann@customer.example", "required", "accepted"),
        ("cleo@customer.example", "optional", "tentativelyAccepted"),
        ("room-4@acme.example", "resource", "accepted"),
    ],
)
REVIEW_KEY = f"ical:{GOID}|"


def load(graph: Graph) -> dict[str, str]:
    """Dana's mailbox and calendar; returns message ids by Message-ID."""
    box = graph.mailboxes[DANA]
    ids = {
        "m1": box.add(mail(1, "Ann Lee <ann@customer.example>", f"Dana <{DANA}>", "Pilot")),
        "m2": box.add(
            mail(2, f"Dana <{DANA}>", "Ann Lee <ann@customer.example>", "Re: Pilot"), "sentitems"
        ),
        "m3": box.add(
            mail(
                3,
                "Bob Stone <bob@partner.example>",
                f"Dana <{DANA}>",
                "Intro",
                "Cc: Ann Lee <ann@customer.example>\r\n",
            )
        ),
        "m4": box.add(mail(4, "Old <old@customer.example>", DANA, "Ancient", days_ago=400)),
        "m5": box.add(mail(5, "Eve <eve@junk.example>", DANA, "Junk"), "junkemail"),
        "m6": box.add(mail(6, "Shop <noreply@shop.example>", DANA, "Your order")),
    }
    graph.calendars[DANA].put(REVIEW)
    # Dana's copy of the invitation she sent, in Sent Items: an eventMessage.
    ids["invite"] = box.add(
        invitation(GOID, SOON, "ann@customer.example"), "sentitems", event_id=REVIEW_ID
    )
    return ids


LOADED = {
    "msgid:m1@mail.example": ("received", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:m2@mail.example": ("sent", ["ann@customer.example", DANA], [("dana", False)]),
    "msgid:m3@mail.example": (
        "received",
        ["ann@customer.example", "bob@partner.example", DANA],
        [("dana", False)],
    ),
    "msgid:m6@mail.example": ("received", [DANA, "noreply@shop.example"], [("dana", False)]),
    "msgid:invite-review@acme.example": (
        "sent",
        ["ann@customer.example", DANA],
        [("dana", False)],
    ),
    # One meeting, from the calendar and from the invitation Dana sent: two copies.
    REVIEW_KEY: (
        "confirmed",
        ["ann@customer.example", "cleo@customer.example", DANA],
        [("dana", False), ("dana", False)],
    ),
}


def settings_for(graph: Graph, *accounts: list[str], extra: str = "") -> Settings:
    return load_text(settings_text(accounts or [account_yaml(graph, "dana")], extra))


def graph_calls(graph: Graph) -> list[str]:
    """Graph requests of the log as path templates, sorted (token requests left out)."""
    names = {v: k for k, v in graph.mailboxes[DANA].folders.items()}
    out = []
    for request in graph.server.log:
        if not request.path.startswith("/v1.0/"):
            continue
        path = request.path.replace(DANA, "{user}").replace("%40", "@")
        for folder_id, name in names.items():
            path = path.replace(name, "{folder}").replace(folder_id, "{folder}")
        out.append(path)
    return sorted(out)
