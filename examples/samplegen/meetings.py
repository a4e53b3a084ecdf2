"""The meetings of the sample: 19 events, 30 occurrences, 2 of them cancelled.

Times are UTC unless the event is deliberately local (VTIMEZONE tests): the
weekly Acme sync crosses the 2026-03-08 US daylight-saving change, so its
first occurrence is 16:00Z and the rest 15:00Z.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

from samplegen.calendar import BERLIN, NEW_YORK, Event, vcalendar
from samplegen.cast import person
from samplegen.render import mailbox, message_id

NY = "TZID=America/New_York:"
ORG = "@northwind-labs.example"

ACME_WEEKLY = Event(
    "acme-weekly-sync-2026" + ORG,
    "Acme pilot weekly sync",
    NY + "20260303T110000",
    NY + "20260303T113000",
    "alice",
    ("alice", "priya", "tom", "bob"),
    extra=("RRULE:FREQ=WEEKLY;COUNT=8", "EXDATE;" + NY + "20260324T110000"),
)
# The 2026-04-07 occurrence was called off (Priya on leave): an override with STATUS:CANCELLED.
ACME_WEEKLY_CANCELLED = Event(
    ACME_WEEKLY.uid,
    "Acme pilot weekly sync",
    NY + "20260407T110000",
    NY + "20260407T113000",
    "alice",
    ACME_WEEKLY.attendees,
    status="CANCELLED",
    sequence=1,
    extra=("RECURRENCE-ID;" + NY + "20260407T110000",),
)
PIPELINE_REVIEW = Event(
    "pipeline-review-2026" + ORG,
    "Monthly pipeline review",
    NY + "20260202T090000",
    NY + "20260202T100000",
    "carol",
    ("carol", "alice", "bob", "dev"),
    extra=("RRULE:FREQ=MONTHLY;BYDAY=1MO;COUNT=6",),
)
OFFSITE = Event(
    "sales-offsite-2026" + ORG,
    "Northwind sales offsite",
    "VALUE=DATE:20260915",
    "VALUE=DATE:20260917",
    "carol",
    ("carol", "alice", "bob", "dev"),
    location="Harpers Ferry Lodge",
)
BOARD_REVIEW = Event(
    "globex-board-review" + ORG,
    "Globex executive review",
    "20260521T130000Z",
    "20260521T143000Z",
    "alice",
    ("alice", "renee", "marcus", "carol"),
    location="Board Room, Northwind Labs HQ",
    extra=(
        "ATTENDEE;CUTYPE=ROOM;CN=Board Room;ROLE=NON-PARTICIPANT;PARTSTAT=ACCEPTED:"
        "mailto:boardroom@northwind-labs.example",
        "ATTENDEE;CUTYPE=RESOURCE;CN=Projector 2;ROLE=NON-PARTICIPANT;PARTSTAT=ACCEPTED:"
        "mailto:projector-2@northwind-labs.example",
    ),
)
BERLIN_WORKSHOP = Event(
    "initech-berlin-workshop@initech.example",
    "Initech platform workshop (Berlin)",
    "TZID=Europe/Berlin:20260623T100000",
    "TZID=Europe/Berlin:20260623T160000",
    "lena",
    ("lena", "alice", "samir"),
    location="Initech Berlin office",
)

PRIYA_MIXED = (("priya", "Priya.Shah@Acme-Robotics.example"),)


def _single(
    uid: str, summary: str, start: str, end: str, org: str, *att: str, **kw: object
) -> Event:
    return Event(uid, summary, start, end, org, (org, *att), **kw)  # type: ignore[arg-type]


CUSTOMER_MEETINGS = (
    _single(
        "acme-kickoff@acme-robotics.example",
        "Acme pilot kickoff",
        "20260120T150000Z",
        "20260120T160000Z",
        "priya",
        "alice",
        "bob",
        "tom",
        spelled=PRIYA_MIXED,
    ),
    _single(
        "acme-contract-review" + ORG,
        "Acme contract review",
        "20260602T180000Z",
        "20260602T184500Z",
        "alice",
        "tom",
        "priya",
    ),
    _single(
        "acme-onsite-columbus@acme-robotics.example",
        "Onsite visit: Columbus warehouse",
        "20260825T130000Z",
        "20260825T170000Z",
        "tom",
        "alice",
        "bob",
        location="Acme Robotics, 400 Example Parkway, Columbus",
    ),
    _single(
        "acme-qbr-q3" + ORG,
        "Acme QBR (Q3)",
        "20261020T170000Z",
        "20261020T180000Z",
        "alice",
        "priya",
        "tom",
        "carol",
    ),
    _single(
        "globex-pricing@globex.example",
        "Globex pricing call",
        "20260408T130000Z",
        "20260408T133000Z",
        "marcus",
        "alice",
    ),
    # Cancelled before it happened: nobody met Yusuf, so it is no evidence of a relationship.
    _single(
        "globex-intro-yusuf" + ORG,
        "Intro: Globex logistics team",
        "20260310T140000Z",
        "20260310T143000Z",
        "alice",
        "yusuf",
        status="CANCELLED",
        sequence=1,
    ),
    _single(
        "globex-eu-hosting" + ORG,
        "Northwind x Globex: EU hosting deep dive",
        "20260324T140000Z",
        "20260324T150000Z",
        "alice",
        "renee",
        "bob",
    ),
    _single(
        "globex-renewal@globex.example",
        "Globex renewal negotiation",
        "20261014T130000Z",
        "20261014T140000Z",
        "renee",
        "alice",
        "carol",
    ),
    _single(
        "initech-qbr@initech.example",
        "Initech QBR",
        "20260716T190000Z",
        "20260716T203000Z",
        "samir",
        "alice",
        "bob",
    ),
    _single(
        "initech-checkin" + ORG,
        "Initech check-in",
        "20260929T160000Z",
        "20260929T163000Z",
        "alice",
        "samir",
    ),
    _single(
        "umbrella-demo@umbrella-health.example",
        "Northwind demo for Umbrella compliance",
        "20260305T200000Z",
        "20260305T210000Z",
        "grace",
        "alice",
        "bob",
        "aisha",
    ),
    _single(
        "umbrella-security-review" + ORG,
        "Umbrella security review",
        "20260618T190000Z",
        "20260618T200000Z",
        "alice",
        "grace",
        "bob",
    ),
    _single(
        "umbrella-retro@umbrella-health.example",
        "Umbrella pilot retrospective",
        "20261112T190000Z",
        "20261112T200000Z",
        "grace",
        "alice",
    ),
)

# Moved by the organizer: SEQUENCE 0 then 1, the later one one day later at 15:30Z.
ARCH_REVIEW_V0 = _single(
    "initech-arch-review-0519@initech.example",
    "Initech architecture review",
    "20260519T140000Z",
    "20260519T150000Z",
    "samir",
    "bob",
    "alice",
)
ARCH_REVIEW_V1 = Event(
    ARCH_REVIEW_V0.uid,
    ARCH_REVIEW_V0.summary,
    "20260520T153000Z",
    "20260520T163000Z",
    "samir",
    ARCH_REVIEW_V0.attendees,
    sequence=1,
)


def calendar_files() -> dict[str, bytes]:
    """Alice's calendar folder: file name -> bytes."""
    return {
        "acme-weekly-sync.ics": vcalendar([ACME_WEEKLY, ACME_WEEKLY_CANCELLED], (NEW_YORK,)),
        "pipeline-review.ics": vcalendar([PIPELINE_REVIEW], (NEW_YORK,)),
        "sales-offsite.ics": vcalendar([OFFSITE]),
        "customer-meetings.ics": vcalendar(list(CUSTOMER_MEETINGS)),
        "globex-board-review.ics": vcalendar([BOARD_REVIEW]),
        "initech-berlin-workshop.ics": vcalendar([BERLIN_WORKSHOP], (BERLIN,)),
    }


def invitation(ev: Event, subject: str, sent: datetime) -> tuple[str, bytes]:
    """An iTIP REQUEST (RFC 6047) as Google Calendar mails it: text/plain + text/calendar."""
    org = person(ev.organizer)
    mid = message_id(sent, org.email, subject, "calendar.initech.example")
    b = "000000000000" + mid[1:17].replace(".", "")
    # The .eml is stored with LF endings like the rest of the mailbox; so is its calendar part.
    ics = vcalendar([ev], method="REQUEST").decode("utf-8").replace("\r\n", "\n")
    to = ", ".join(mailbox(person(k)) for k in ev.attendees if k != ev.organizer)
    text = f"{org.name} has invited you to: {ev.summary}\n\nJoining info: https://meet.initech.example/arch-review\n"
    data = (
        f"From: {mailbox(org)}\nTo: {to}\nSubject: {subject}\nDate: {format_datetime(sent)}\n"
        f"Message-ID: {mid}\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/alternative; boundary="{b}"\n\n'
        f'--{b}\nContent-Type: text/plain; charset="UTF-8"\n\n{text}\n'
        f'--{b}\nContent-Type: text/calendar; charset="UTF-8"; method=REQUEST\n'
        f"Content-Transfer-Encoding: 7bit\n\n{ics}\n--{b}--\n"
    )
    return mid, data.encode("utf-8")


def invitations() -> dict[str, bytes]:
    """Bob's loose .eml files: the original invitation and the update that moved it."""
    first = invitation(
        ARCH_REVIEW_V0,
        "Invitation: Initech architecture review @ Tue May 19, 2026 9am - 10am (CDT)",
        datetime(2026, 5, 12, 16, 4, tzinfo=UTC),
    )
    update = invitation(
        ARCH_REVIEW_V1,
        "Updated invitation: Initech architecture review @ Wed May 20, 2026 10:30am - 11:30am (CDT)",
        datetime(2026, 5, 14, 13, 37, tzinfo=UTC),
    )
    return {
        "2026-05-12-invitation-initech-architecture-review.eml": first[1],
        "2026-05-14-updated-invitation-initech-architecture-review.eml": update[1],
    }
