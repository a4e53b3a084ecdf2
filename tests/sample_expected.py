"""What capturing ``examples/sample-archive/`` must produce, worked out by hand.

The archive is two mailboxes and a calendar of the fictional Northwind Labs
(org domain ``northwind-labs.example``), written by ``examples/make_sample.py``
and captured by ``examples/demo.yaml``. Every entry below says why a careful
person, creating contacts by hand from the same mail, would (or would not)
create it. ``examples/check_sample.py`` re-derives these figures from the
files with the standard library only, so data and expectations cannot drift.

Policy rules this file assumes (config/example.yaml):
- ``on_exchange``: an owner (Alice or Bob) wrote to them AND they wrote to an
  owner, or they shared a meeting with an owner that was not cancelled
  (organizer or attendee; rooms and resources excluded).
- ``on_sent``: an owner wrote to them (To/Cc/Bcc of outbound mail).
- ``always``: any person seen as a participant of a captured interaction.
- Never, under any policy: colleagues at the org domain, role accounts,
  automated senders (noreply, notifications, MAILER-DAEMON, newsletters,
  and *every* address of mailing-list traffic: a message with List-Id is list
  traffic, so its poster is not someone who wrote to us), rooms and
  resources, the blocklisted domain, addresses seen only inside quoted text
  or a bounce report's body.
- Names come from display names, RFC 2047-decoded, "Last, First" turned
  round. Company names compare case-insensitively (the domain label of
  ``fleetcore.example`` reads "Fleetcore", FleetCore's signature "FleetCore").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class ExpectedContact:
    name: str
    company: str | None  # None for free mail; every sample domain is a work domain
    company_domain: str | None


@dataclass(frozen=True)
class ExpectedSignature:
    """Fields the sender's signature block states (phones in E.164)."""

    title: str
    phones: tuple[str, ...]


@dataclass(frozen=True)
class ExpectedInteractions:
    emails: int  # distinct Message-IDs captured across both accounts
    email_sources: int  # copies: a message in both mailboxes counts twice
    meetings: int  # distinct iCalendar UIDs
    meeting_occurrences: int  # interactions: one per (UID, RECURRENCE-ID)
    cancelled_occurrences: int


@dataclass(frozen=True)
class ExpectedUpdate:
    """A meeting moved by its organizer: the higher SEQUENCE wins, no duplicate."""

    uid: str
    sequence: int
    start: datetime
    end: datetime
    source_files: tuple[str, ...]


ORG_DOMAIN = "northwind-labs.example"
OWNERS = {"alice": "alice@northwind-labs.example", "bob": "bob@northwind-labs.example"}

# ---------------------------------------------------------------------------
# Contacts under the default policy (person: on_exchange): exactly these nine.
# ---------------------------------------------------------------------------
EXPECTED_CONTACTS: dict[str, ExpectedContact] = {
    # Pilot sponsor: writes to Alice and Bob, they answer; organizer of the kickoff.
    # Seen as "Priya.Shah@Acme-Robotics.example" (her From in the first mail,
    # the kickoff ORGANIZER) and lower-case elsewhere: ONE contact.
    "priya.shah@acme-robotics.example": ExpectedContact(
        "Priya Shah", "Acme Robotics", "acme-robotics.example"
    ),
    # Acme's CTO, two-way with Alice (contract) and Bob (API). His Outlook
    # writes the display name "Becker, Tom"; a person files him as Tom Becker.
    "tom.becker@acme-robotics.example": ExpectedContact(
        "Tom Becker", "Acme Robotics", "acme-robotics.example"
    ),
    # Globex procurement, two-way with Alice. Display name arrives RFC 2047
    # encoded: =?UTF-8?Q?Ren=C3=A9e_Dubois?=.
    "renee.dubois@globex.example": ExpectedContact("Renée Dubois", "Globex", "globex.example"),
    # Globex IT, two-way with Alice (pricing) and Bob (sandbox).
    "marcus.lindqvist@globex.example": ExpectedContact(
        "Marcus Lindqvist", "Globex", "globex.example"
    ),
    # Initech engineering, two-way with Bob and Alice; sends the invitations.
    "samir.haddad@initech.example": ExpectedContact("Samir Haddad", "Initech", "initech.example"),
    # Never mailed anyone: organizer of the Berlin workshop Alice attended.
    "lena.fischer@initech.example": ExpectedContact("Lena Fischer", "Initech", "initech.example"),
    # Umbrella's pilot owner, two-way with Alice and Bob (one message HTML-only).
    "grace.liu@umbrella-health.example": ExpectedContact(
        "Grace Liu", "Umbrella Health", "umbrella-health.example"
    ),
    # Never mailed anyone: attendee of the Umbrella demo with Alice and Bob.
    "aisha.rahman@umbrella-health.example": ExpectedContact(
        "Aisha Rahman", "Umbrella Health", "umbrella-health.example"
    ),
    # Posts on the OpenFleet list (which alone would not count), then Alice
    # wrote to her directly and she answered: a real two-way exchange.
    "hannah.berg@fleetcore.example": ExpectedContact(
        "Hannah Berg", "FleetCore", "fleetcore.example"
    ),
}

# Created only when Alice or Bob wrote to them (on_sent) or on first sight
# (always); each maps to the weakest policy that creates it.
EXPECTED_EXTRA_UNDER_ON_SENT: dict[str, ExpectedContact] = {
    # Prospect: Alice wrote twice ("Northwind Labs for Umbrella's supply chain
    # team" and a bump), no reply. His out-of-office answer (Auto-Submitted:
    # auto-replied) is a machine's, not his: still no exchange.
    "omar.farouk@umbrella-health.example": ExpectedContact(
        "Omar Farouk", "Umbrella Health", "umbrella-health.example"
    ),
    # Acme procurement: Cc'd by Priya, then kept on Alice's reply-all; never wrote.
    "ben.carter@acme-robotics.example": ExpectedContact(
        "Ben Carter", "Acme Robotics", "acme-robotics.example"
    ),
}
EXPECTED_EXTRA_UNDER_ALWAYS: dict[str, ExpectedContact] = {
    **EXPECTED_EXTRA_UNDER_ON_SENT,
    # Cold mail received twice, never answered: inbound only.
    "daniel.osei@bluefin-analytics.example": ExpectedContact(
        "Daniel Osei", "Bluefin Analytics", "bluefin-analytics.example"
    ),
    # Only attendee of an intro meeting cancelled before it happened: a
    # cancelled meeting is no evidence (on_exchange), but "always" creates
    # every participant it sees.
    "yusuf.demir@globex.example": ExpectedContact("Yusuf Demir", "Globex", "globex.example"),
}
# Under on_sent, the meeting-only people (Lena, Aisha) are NOT created: on_sent
# asks whether we wrote to them, and nobody did.
MEETING_ONLY_CONTACTS = frozenset(
    {"lena.fischer@initech.example", "aisha.rahman@umbrella-health.example"}
)

# Signature fields of contacts whose mail carries a signature block.
EXPECTED_SIGNATURES: dict[str, ExpectedSignature] = {
    "priya.shah@acme-robotics.example": ExpectedSignature(
        "VP Operations",
        ("+12025550143", "+12025550144"),  # Office | Mobile on one line
    ),
    "tom.becker@acme-robotics.example": ExpectedSignature("CTO", ("+12025550146",)),
    "renee.dubois@globex.example": ExpectedSignature("Head of Procurement", ("+442079460321",)),
    "marcus.lindqvist@globex.example": ExpectedSignature("IT Director", ("+442079460388",)),
    # "(202) 555-0161": national format, read with demo.yaml's phone_region US.
    "samir.haddad@initech.example": ExpectedSignature(
        "Engineering Manager, Platform", ("+12025550161",)
    ),
    "grace.liu@umbrella-health.example": ExpectedSignature(
        "Director of Clinical IT", ("+12025550172",)
    ),
    "hannah.berg@fleetcore.example": ExpectedSignature("Integration Architect", ("+442079460555",)),
}

# Text in a contact's own mail that is NOT a field of theirs: (field, value).
SIGNATURE_NOT_THEIRS: dict[str, tuple[str, str]] = {
    # "Engineering Manager, Platform" over "Initech": Platform is his team,
    # part of the title; the company is the next line (and the domain).
    "samir.haddad@initech.example": ("company", "Platform"),
    # The list's footer under her list posts (after the Mailman rule line) is
    # the list's address, not her website.
    "hannah.berg@fleetcore.example": ("website", "https://lists.openfleet.example/integrators"),
}

# ---------------------------------------------------------------------------
# Never a contact, under any policy, each with the reason.
# ---------------------------------------------------------------------------
NEVER_CONTACTS: dict[str, str] = {
    # owners and colleagues: org domain
    "alice@northwind-labs.example": "owner",
    "bob@northwind-labs.example": "owner",
    "carol.nguyen@northwind-labs.example": "colleague (also on every Trackly notification's display name)",
    "dev.patel@northwind-labs.example": "colleague",
    # rooms and resources
    "boardroom@northwind-labs.example": "room (CUTYPE=ROOM) in the Globex executive review",
    "projector-2@northwind-labs.example": "resource (CUTYPE=RESOURCE)",
    # role accounts, even though the mail went both ways
    "sales@acme-robotics.example": "role account: quote thread with Alice",
    "support@globex.example": "role account: firewall ticket with Bob",
    # blocklisted domain, even though the mail went both ways
    "victor.crane@competitor.example": "blocklisted domain competitor.example (thread not captured)",
    # newsletters: List-Unsubscribe + Precedence: bulk, and their Reply-To
    "news@saasweekly.example": "newsletter",
    "editors@saasweekly.example": "newsletter Reply-To",
    "newsletter@roboticsbrief.example": "newsletter",
    "editors@roboticsbrief.example": "newsletter Reply-To",
    "digest@devopsdigest.example": "newsletter",
    "editors@devopsdigest.example": "newsletter Reply-To",
    # notifications
    "noreply@billing.cloudhost.example": "noreply invoices (no Auto-Submitted header)",
    "notifications@trackly.example": "notifications@, Auto-Submitted, a colleague's name as display name",
    "notifications@codehub.example": "notifications@, Auto-Submitted",
    # bounce: RFC 3464 report; the failed recipient is only in the report body
    "mailer-daemon@mx1.umbrella-health.example": "MAILER-DAEMON, Return-Path <>",
    "o.farouk@umbrella-health.example": "only inside the bounce report's body parts",
    # mailing-list traffic
    "integrators@lists.openfleet.example": "list address (List-Id, List-Post)",
    "integrators-bounces@lists.openfleet.example": "list Sender",
    "kenji@watanabe-consulting.example": "only ever posts to the list",
    "mateo@ruiz-dev.example": "only ever posts to the list",
    # only in the forwarded header block of Priya's "Fwd:" (a quoted address)
    "jake.miller@conveyor-systems.example": "quoted only: inside a forwarded message",
    # an auto-responder (Auto-Submitted: auto-replied): automated, never a contact
    "autoreply@acme-robotics.example": "only in the mail-loop message (automated)",
}

# ---------------------------------------------------------------------------
# Interactions
# ---------------------------------------------------------------------------
MESSAGES_PER_MAILBOX: dict[str, int] = {
    # 52 conversation messages + 20 SaaS Weekly + 11 Robotics Brief + 11
    # CloudHost invoices + 12 Trackly + 8 list posts + 1 bounce + 1 out-of-office
    # + 1 mail-loop auto-reply (345 KiB of Received fields, read up to the limit)
    "alice/mail.mbox": 117,
    # 13 copies shared with Alice + 25 own conversation messages + 20 DevOps
    # Digest + 16 CodeHub + 1 deeply nested forward
    "bob/Maildir": 75,
    # the invitation and its update
    "bob/invites": 2,
}
EXPECTED_INTERACTIONS = ExpectedInteractions(
    # 117 + 75 + 2 copies, less the 13 shared, less the 3 messages of Alice's
    # thread with Victor Crane: its only outside party is blocklisted, and
    # nothing blocked is stored (not even the interaction or Alice's reply).
    emails=178,
    email_sources=191,
    # 19 events: the weekly Acme sync, the monthly pipeline review, the
    # offsite, 13 single customer meetings, the Globex review with a room, the
    # Berlin workshop and the moved Initech architecture review.
    meetings=19,
    # weekly Acme sync 8 by COUNT less 1 EXDATE (2026-03-24) = 7; pipeline
    # review 6; the rest one each (12 + 1 + 1 + 1 + 1 + 1 + 1).
    meeting_occurrences=30,
    # the 2026-04-07 weekly sync (RECURRENCE-ID override, STATUS:CANCELLED)
    # and the Globex intro with Yusuf (a single event, STATUS:CANCELLED).
    cancelled_occurrences=2,
)
CANCELLED_OCCURRENCES: frozenset[tuple[str, datetime | None]] = frozenset(
    {
        ("acme-weekly-sync-2026@northwind-labs.example", datetime(2026, 4, 7, 15, 0, tzinfo=UTC)),
        ("globex-intro-yusuf@northwind-labs.example", None),
    }
)
# The weekly sync's occurrence starts, UTC: 11:00 New York is 16:00Z before
# the 2026-03-08 DST change and 15:00Z after it.
WEEKLY_SYNC_UID = "acme-weekly-sync-2026@northwind-labs.example"
WEEKLY_SYNC_STARTS: tuple[datetime, ...] = (
    datetime(2026, 3, 3, 16, 0, tzinfo=UTC),
    datetime(2026, 3, 10, 15, 0, tzinfo=UTC),
    datetime(2026, 3, 17, 15, 0, tzinfo=UTC),
    datetime(2026, 3, 31, 15, 0, tzinfo=UTC),
    datetime(2026, 4, 7, 15, 0, tzinfo=UTC),  # cancelled
    datetime(2026, 4, 14, 15, 0, tzinfo=UTC),
    datetime(2026, 4, 21, 15, 0, tzinfo=UTC),
)
# Europe/Berlin 10:00-16:00 in June (CEST, +02:00).
BERLIN_WORKSHOP = (
    "initech-berlin-workshop@initech.example",
    datetime(2026, 6, 23, 8, 0, tzinfo=UTC),
    datetime(2026, 6, 23, 14, 0, tzinfo=UTC),
)
# DTSTART;VALUE=DATE:20260915 .. 20260917 (exclusive): an all-day event.
ALL_DAY_UID = "sales-offsite-2026@northwind-labs.example"

# Moved from Tue 2026-05-19 14:00Z (SEQUENCE 0) to Wed 2026-05-20 15:30Z
# (SEQUENCE 1): one interaction, at the new time.
UPDATED_MEETING = ExpectedUpdate(
    uid="initech-arch-review-0519@initech.example",
    sequence=1,
    start=datetime(2026, 5, 20, 15, 30, tzinfo=UTC),
    end=datetime(2026, 5, 20, 16, 30, tzinfo=UTC),
    source_files=(
        "bob/invites/2026-05-12-invitation-initech-architecture-review.eml",
        "bob/invites/2026-05-14-updated-invitation-initech-architecture-review.eml",
    ),
)

# In both Alice's mbox and Bob's Maildir: one interaction, two sources each.
SHARED_MESSAGE_IDS: frozenset[str] = frozenset(
    {
        # "Acme pilot: scope and timeline": Alice's reply-all, Priya, Bob, Priya
        "202601121440.71EE2D2DB40D9C35@mail.northwind-labs.example",
        "202601130855.B363E35BED061B3B@mail.acme-robotics.example",
        "202601141120.3196FB764A956573@mail.northwind-labs.example",
        "202601150902.F8EE9C18633808DB@mail.acme-robotics.example",
        # "Globex - data residency questionnaire": Alice cc Bob, Renée cc Bob
        "202602171002.180C22BAB0153332@mail.northwind-labs.example",
        "202602201635.C9B9768335D341EF@mail.globex.example",
        # "Umbrella Health - HIPAA review": Alice cc Bob, Grace cc Bob (HTML-only)
        "202603021105.A660729DC8699057@mail.northwind-labs.example",
        "202603030758.A5C7574F38E79691@mail.umbrella-health.example",
        # "Acme ticket escalation": Dev to Alice cc Bob (internal)
        "202605121522.3A7A3BD8E1CA93F7@mail.northwind-labs.example",
        # "Initech - QBR follow-ups": Alice cc Bob, Samir cc Bob
        "202607161725.49B30374209267BA@mail.northwind-labs.example",
        "202607170840.69A5040B0740E79F@mail.initech.example",
        # "Offsite agenda": Carol to both, Bob to both (internal)
        "202608201000.23645C2722F32438@mail.northwind-labs.example",
        "202608201314.6313908B82C080ED@mail.northwind-labs.example",
    }
)

# Hostile but well-formed: MIME nested 32 deep (> Limits.max_mime_depth 20).
# Its headers are sound, so it is captured (Samir -> Bob), not an error.
CAPTURED_DESPITE_LIMITS: frozenset[str] = frozenset({"nested-0032@mail.initech.example"})

# ---------------------------------------------------------------------------
# Ingest errors: exactly four, and everything else is captured.
# (path relative to the sample archive, which entry) -> reason substring
# ---------------------------------------------------------------------------
EXPECTED_ERRORS: dict[tuple[str, str], str] = {
    # gzip bytes appended to the mbox as a message: no header fields at all
    ("alice/mail.mbox", "entry 59 of 118 (From 1784412000000000000@xxx)"): "not-a-message",
    # export cut off inside a VEVENT, with a DTSTART that is no date
    ("alice/calendar/broken-export.ics", "whole file"): "ical",
    # call notes saved from a text editor with an .eml name
    ("bob/invites/call-notes-samir.eml", "whole file"): "not-a-message",
}
