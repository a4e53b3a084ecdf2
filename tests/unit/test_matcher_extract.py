"""matcher.extract: participants, roles, classes, direction, privacy, dates, meetings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.calendar.ical import parse_calendar
from connectors.records import Attendee, Meeting, Message, SourceRef
from matcher import extract
from matcher.body.html import strip_tags
from matcher.participants import NO_DATE, Found, occurred_at
from matcher.plan import AccountPolicy, Blocklist
from tests.archives import LIMITS, WINDOW
from tests.builders import ORGANIZER, SOURCE, WHEN, mail, meeting, person

POLICY = AccountPolicy(
    account="acct",
    owner_addresses=frozenset({"Me@OurCo.com"}),
    org_domains=frozenset({"OurCo.com"}),
)


def people(found: Found) -> list[tuple[str, str, str, str]]:
    return [(p.email, p.role, p.klass, p.reason) for p in found.participants]


def only(records: list[Message] | list[Meeting], policy: AccountPolicy = POLICY) -> Found:
    (found,) = extract(records, policy)
    return found


def test_inbound_mail_from_a_person() -> None:
    found = only([mail(("From", "Ann Lee <Ann@Acme.com>"), ("To", "me@ourco.com"))])
    assert people(found) == [
        ("ann@acme.com", "from", "person", "person"),
        ("me@ourco.com", "to", "internal", "owner"),
    ]
    assert (found.direction, found.status, found.kind) == ("inbound", "received", "email")
    assert (found.identity, found.thread_key, found.occurred_at) == ("msgid:m1@x", "t1", WHEN)
    assert (found.subject, found.snippet, found.sequence) == ("Quote for Q3", None, 0)


def test_outbound_mail_with_every_role() -> None:
    found = only(
        [
            mail(
                ("From", "Me <me@ourco.com>"),
                ("Sender", "assistant@ourco.com"),
                ("Reply-To", "me@ourco.com"),
                ("To", "Ann <ann@acme.com>"),
                ("Cc", "bob@acme.com, Colleague <col@eu.ourco.com>"),
                ("Bcc", "carl@beta.io"),
            )
        ]
    )
    assert people(found) == [
        ("me@ourco.com", "from", "internal", "owner"),
        ("assistant@ourco.com", "sender", "internal", "org-domain"),
        ("ann@acme.com", "to", "person", "person"),
        ("bob@acme.com", "cc", "person", "person"),
        ("col@eu.ourco.com", "cc", "internal", "org-domain"),
        ("carl@beta.io", "bcc", "person", "person"),
    ]
    assert (found.direction, found.status) == ("outbound", "sent")


@pytest.mark.parametrize(
    ("headers", "direction", "status"),
    [
        ((("From", "me@ourco.com"), ("To", "col@ourco.com")), "internal", "internal"),
        ((("From", "col@ourco.com"), ("To", "me@ourco.com")), "internal", "internal"),
        ((("From", "me@ourco.com"), ("To", "me@ourco.com")), "internal", "internal"),
        ((("From", "col@ourco.com"), ("To", "ann@acme.com")), "outbound", "sent"),
        ((("From", "ann@acme.com"), ("To", "col@ourco.com")), "inbound", "received"),
        ((("To", "me@ourco.com"),), "unknown", "received"),
        ((("From", "<<>>"), ("To", "me@ourco.com")), "unknown", "received"),
        # No usable From but a Sender: the sender wrote it.
        ((("Sender", "ann@acme.com"), ("To", "me@ourco.com")), "inbound", "received"),
    ],
)
def test_direction(headers: tuple[tuple[str, str], ...], direction: str, status: str) -> None:
    found = only([mail(*headers)])
    assert (found.direction, found.status) == (direction, status)


def test_same_address_in_several_roles_is_one_participant_in_the_first_role() -> None:
    found = only(
        [
            mail(
                ("From", "Ann <ann@acme.com>"),
                ("Reply-To", "ANN@ACME.COM"),
                ("To", "me@ourco.com, Ann@Acme.com"),
                ("Cc", "ann@acme.com"),
            )
        ]
    )
    assert people(found) == [
        ("ann@acme.com", "from", "person", "person"),
        ("me@ourco.com", "to", "internal", "owner"),
    ]


def test_repeated_header_fields_are_all_read() -> None:
    found = only([mail(("From", "ann@acme.com"), ("To", "me@ourco.com"), ("To", "bob@acme.com"))])
    assert [p.email for p in found.participants] == ["ann@acme.com", "me@ourco.com", "bob@acme.com"]


def test_blocklisted_addresses_and_subdomains_are_never_participants() -> None:
    policy = AccountPolicy(
        account="acct",
        owner_addresses=frozenset({"me@ourco.com"}),
        blocklist=Blocklist(
            addresses=frozenset({"Spouse@Gmail.com"}), domains=frozenset({"Bank.example"})
        ),
    )
    found = only(
        [
            mail(
                ("From", "statements@mail.bank.example"),
                ("To", "me@ourco.com, spouse@gmail.com, ann@acme.com"),
                ("Cc", "x@notbank.example"),
            )
        ],
        policy,
    )
    assert [p.email for p in found.participants] == [
        "me@ourco.com",
        "ann@acme.com",
        "x@notbank.example",
    ]
    assert found.direction == "inbound"  # the blocked sender still wrote it


def test_list_mail_makes_the_sender_side_automated_but_not_recipients() -> None:
    found = only(
        [
            mail(
                ("From", "Ann <ann@acme.com>"),
                ("Reply-To", "dev@lists.acme.com"),
                ("To", "dev@lists.acme.com"),
                ("Cc", "bob@beta.io, me@ourco.com"),
                ("List-Id", "<dev.lists.acme.com>"),
            )
        ]
    )
    assert people(found) == [
        ("ann@acme.com", "from", "automated", "header:list-id"),
        # The list's own address, named by List-Id: automated in any role.
        ("dev@lists.acme.com", "reply-to", "automated", "list-address:list-id"),
        ("bob@beta.io", "cc", "person", "person"),
        ("me@ourco.com", "cc", "internal", "owner"),
    ]


def test_garbage_addresses_still_give_an_interaction() -> None:
    found = only([mail(("From", '"unterminated'), ("To", "<<>>, @"), ("Cc", "undisclosed:;"))])
    assert found.participants == ()
    assert (found.direction, found.identity) == ("unknown", "msgid:m1@x")


def test_message_without_id_gets_a_stable_digest_identity() -> None:
    a = only([mail(("From", "ann@acme.com"), message_id=None)])
    b = only([mail(("From", "ann@acme.com"), message_id=None)])
    assert a.identity == b.identity
    assert a.identity.startswith("digest:")


@pytest.mark.parametrize(
    ("privacy", "subject", "snippet"),
    [
        ("metadata", None, None),
        ("subject", "Quote for Q3", None),
        ("full", "Quote for Q3", "Hi Ann, here is the quote"),
    ],
)
def test_privacy_levels(privacy: str, subject: str | None, snippet: str | None) -> None:
    policy = AccountPolicy(
        account="acct",
        owner_addresses=frozenset({"me@ourco.com"}),
        privacy=privacy,  # type: ignore[arg-type]
        snippet_chars=25,
    )
    text = "Hi Ann,\n\n  here   is the\tquote you asked for."
    found = only([mail(("From", "me@ourco.com"), ("To", "ann@acme.com"), text=text)], policy)
    assert (found.subject, found.snippet) == (subject, snippet)


@pytest.mark.parametrize(
    ("markup", "snippet"),
    [
        (
            "<html><head><title>T</title><style>p{color:red}</style></head>"
            "<body><p>Hello&nbsp;<b>Ann</b> &amp; team</p><script>x()</script>"
            "<!-- hidden --><p>Bye</p></body></html>",
            "Hello Ann & team Bye",  # no-break space collapses like any space
        ),
        ("<p>unclosed <script>never ends", "unclosed"),
        ("no tags at all", "no tags at all"),
        ("a<b>c<!-- x > y -->d<e unclosed", "acd"),  # <b> is inline: no space
        ("<" * 65536, "<" * 280),  # stray "<" is text to an HTML parser
        ("<!--" * 16384, None),
    ],
    ids=["document", "unclosed script", "text", "inline and comment", "many <", "many <!--"],
)
def test_html_snippets_are_reduced_to_text(markup: str, snippet: str | None) -> None:
    policy = AccountPolicy(account="acct", owner_addresses=frozenset(), privacy="full")
    found = only([mail(("From", "ann@acme.com"), text=markup, html=True)], policy)
    assert found.snippet == snippet


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("a<b>c<!-- x > y -->d<e unclosed", "a c d"),
        ("<style>p{}</style>x<script>y()</script>z<head>h", "xz"),
        # Hostile: quadratic for a tag regex (64 KiB of "<" took 11 s).
        ("<" * 65536, ""),
        ("<!--" * 16384, ""),
        ("x" + "<p" * 32768, "x"),
    ],
    ids=["tags and comment", "blocks", "many <", "many <!--", "many <p"],
)
def test_strip_tags_fallback_is_linear(markup: str, text: str) -> None:
    assert " ".join(strip_tags(markup).split()) == text


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet=st.sampled_from("ab \n\t\u00a0"), max_size=1500)
    | st.builds(lambda n, tail: " " * n + tail, st.integers(0, 1200), st.text("ab ", max_size=40)),
    chars=st.integers(1, 400),
)
def test_snippet_is_the_head_of_the_collapsed_text(text: str, chars: int) -> None:
    # Long bodies are collapsed from a head only; the result must not show it,
    # whether the head is cut mid-word or holds nothing but whitespace.
    policy = AccountPolicy(
        account="acct", owner_addresses=frozenset(), privacy="full", snippet_chars=chars
    )
    found = only([mail(("From", "ann@acme.com"), text=text)], policy)
    assert found.snippet == (" ".join(text.split())[:chars] or None)


def test_full_privacy_without_text_has_no_snippet() -> None:
    policy = AccountPolicy(account="acct", owner_addresses=frozenset(), privacy="full")
    assert only([mail(("From", "ann@acme.com"), text="  \n ")], policy).snippet is None


PARIS = timezone(timedelta(hours=2))


@pytest.mark.parametrize(
    ("date", "header", "fetched", "expected"),
    [
        (WHEN, None, None, WHEN),
        (datetime(2026, 3, 2, 11, 30, tzinfo=PARIS), None, None, WHEN),
        (datetime(2026, 3, 2, 9, 30), None, None, WHEN),  # naive is UTC by contract
        (None, "Mon, 02 Mar 2026 10:30:00 +0100", None, WHEN),
        (None, "not a date", WHEN, WHEN),
        (None, None, WHEN, WHEN),
        (None, "garbage", None, NO_DATE),
        (None, None, None, NO_DATE),
    ],
)
def test_occurred_at_fallbacks(
    date: datetime | None, header: str | None, fetched: datetime | None, expected: datetime
) -> None:
    headers = (("Date", header),) if header else ()
    message = mail(*headers, date=date)
    assert occurred_at(message, fetched) == expected
    assert occurred_at(message, fetched).tzinfo is UTC


def test_extract_passes_fetched_at_through() -> None:
    (found,) = extract([mail(("From", "a@acme.com"), date=None)], POLICY, fetched_at=WHEN)
    assert found.occurred_at == WHEN


def test_meeting_participants_roles_and_partstat() -> None:
    found = only(
        [
            meeting(
                ORGANIZER,
                person("ann@acme.com", "Ann Lee", partstat="ACCEPTED", role="CHAIR"),
                person("me@ourco.com", partstat="tentative"),
                person("bob@beta.io", "Bob", partstat="DECLINED", role="OPT-PARTICIPANT"),
                person("room-4@ourco.com", "Room 4", cutype="ROOM"),
                person("beamer@acme.com", cutype="RESOURCE"),
                person("all@acme.com", cutype="GROUP"),
            )
        ]
    )
    assert [
        (p.email, p.role, p.klass, p.response_status, p.meeting_role) for p in found.participants
    ] == [
        ("ann@acme.com", "organizer", "person", "ACCEPTED", "CHAIR"),
        ("me@ourco.com", "attendee", "internal", "TENTATIVE", "REQ-PARTICIPANT"),
        ("bob@beta.io", "attendee", "person", "DECLINED", "OPT-PARTICIPANT"),
        ("all@acme.com", "attendee", "role", "NEEDS-ACTION", "REQ-PARTICIPANT"),
    ]
    assert (found.kind, found.identity, found.status) == (
        "meeting",
        "ical:uid-1@ourco.com|",
        "confirmed",
    )
    assert (found.direction, found.occurred_at, found.ended_at) == (
        "inbound",
        WHEN,
        WHEN + timedelta(hours=1),
    )
    assert (found.subject, found.snippet, found.thread_key) == ("Kickoff", None, None)


def test_organizer_not_listed_as_attendee_has_no_partstat() -> None:
    found = only([meeting(person("me@ourco.com"), person("ann@acme.com"))])
    assert [(p.email, p.response_status) for p in found.participants] == [
        ("me@ourco.com", None),
        ("ann@acme.com", "NEEDS-ACTION"),
    ]
    assert found.direction == "outbound"


@pytest.mark.parametrize(
    ("organizer", "attendees", "direction"),
    [
        (person("me@ourco.com"), (person("col@ourco.com"),), "internal"),
        (person("me@ourco.com"), (person("room@ourco.com", cutype="ROOM"),), "internal"),
        (None, (person("ann@acme.com"),), "unknown"),
        (person("room@ourco.com", cutype="ROOM"), (person("me@ourco.com"),), "unknown"),
    ],
)
def test_meeting_direction(
    organizer: Attendee | None, attendees: tuple[Attendee, ...], direction: str
) -> None:
    assert only([meeting(organizer, *attendees)]).direction == direction


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        ("confirmed", None, "confirmed"),
        ("tentative", "REQUEST", "tentative"),
        ("cancelled", None, "cancelled"),
        ("confirmed", "CANCEL", "cancelled"),
        ("confirmed", "cancel", "cancelled"),
    ],
)
def test_meeting_status(status: str, method: str | None, expected: str) -> None:
    found = only(
        [meeting(ORGANIZER, person("me@ourco.com"), status=status, method=method, sequence=3)]
    )
    assert (found.status, found.sequence) == (expected, 3)


def test_invitation_in_mail_gives_mail_and_meeting() -> None:
    invite = meeting(ORGANIZER, person("me@ourco.com"), method="REQUEST", sequence=2)
    found = extract(
        [mail(("From", "ann@acme.com"), ("To", "me@ourco.com"), meetings=(invite,))], POLICY
    )
    assert [(f.kind, f.identity, f.sequence) for f in found] == [
        ("email", "msgid:m1@x", 0),
        ("meeting", "ical:uid-1@ourco.com|", 2),
    ]


@pytest.mark.parametrize("method", ["REPLY", "COUNTER", "REFRESH", "DECLINECOUNTER"])
def test_itip_replies_are_not_planned_as_the_meeting(method: str) -> None:
    reply = meeting(ORGANIZER, person("bob@beta.io", partstat="ACCEPTED"), method=method)
    found = extract([mail(("From", "bob@beta.io"), meetings=(reply,))], POLICY)
    assert [f.kind for f in found] == ["email"]


def test_meeting_privacy_metadata_hides_summary() -> None:
    policy = AccountPolicy(account="acct", owner_addresses=frozenset(), privacy="metadata")
    assert only([meeting(ORGANIZER)], policy).subject is None


HEADER_NAMES = ["from", "sender", "reply-to", "to", "cc", "bcc", "date", "list-id", "precedence"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.text(max_size=80)), max_size=12))
def test_extract_never_raises_on_random_headers(headers: list[tuple[str, str]]) -> None:
    (found,) = extract([mail(*headers, date=None)], POLICY)
    assert found.occurred_at.tzinfo is UTC
    assert len({p.email for p in found.participants}) == len(found.participants)


BLOCKING = AccountPolicy(
    account="acct",
    owner_addresses=frozenset({"me@ourco.com"}),
    org_domains=frozenset({"ourco.com"}),
    blocklist=Blocklist(domains=frozenset({"competitor.example"})),
)


def test_mail_whose_only_outside_party_is_blocklisted_is_not_captured() -> None:
    inbound = mail(
        ("From", "Victor Crane <victor.crane@competitor.example>"),
        ("To", "Sam Reed <me@ourco.com>"),
        message_id="in@competitor.example",
        text="Hi Sam,\n\nWould Northwind be open to a referral partnership?\n\nVictor\n",
    )
    reply = mail(  # the owner's answer, Cc a colleague: still only us and them
        ("From", "Sam Reed <me@ourco.com>"),
        ("To", "Victor Crane <victor.crane@competitor.example>"),
        ("Cc", "Dana Kim <dana@eu.ourco.com>"),
        message_id="re@ourco.com",
    )
    invite = meeting(
        person("victor.crane@competitor.example", "Victor Crane"),
        person("me@ourco.com", "Sam Reed", partstat="ACCEPTED"),
        person("board-room@ourco.com", cutype="ROOM"),
    )
    assert extract([inbound, reply, invite], BLOCKING) == []


def test_mail_with_another_outside_party_is_captured_without_the_blocked_one() -> None:
    found = extract(
        [
            mail(
                ("From", "Sam Reed <me@ourco.com>"),
                ("To", "victor.crane@competitor.example, Ann Lee <ann@acme.com>"),
            ),
            meeting(person("me@ourco.com"), person("x@sub.competitor.example")),
            mail(("From", "Dana Kim <dana@ourco.com>"), ("To", "me@ourco.com"), message_id="in@o"),
        ],
        BLOCKING,
    )
    assert [(f.identity, f.direction, [p.email for p in f.participants]) for f in found] == [
        ("msgid:m1@x", "outbound", ["me@ourco.com", "ann@acme.com"]),
        # Nothing blocked in it: purely internal mail is captured as before.
        ("msgid:in@o", "internal", ["dana@ourco.com", "me@ourco.com"]),
    ]


INVITATION = """BEGIN:VCALENDAR
PRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:040000008200E00074C5B7101A82E00800000000
DTSTART:20260303T150000Z
DTEND:20260303T160000Z
SUMMARY:Contoso / Northwind - pricing
ORGANIZER;CN="Novak, Julia":mailto:julia.novak@contoso-mfg.example
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN='ben.carter@contoso-mfg.example':mailto:ben.carter@contoso-mfg.example
ATTENDEE;ROLE=OPT-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;CN="Mathieu Campbell <mathieu.campbell@contoso-mfg.example>":mailto:mathieu.campbell@contoso-mfg.example
ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN='Sam Reed':mailto:me@ourco.com
END:VEVENT
END:VCALENDAR
"""


def test_a_calendar_cn_is_read_as_the_same_name_a_mail_header_gives() -> None:
    from connectors.base import Limits, Window
    from connectors.calendar.ical import parse_calendar
    from matcher.resolve import contact_fields

    window = Window(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    [event], errors = parse_calendar(INVITATION.encode(), SOURCE, window, Limits())
    assert errors == []
    from_calendar = only([event])
    from_mail = only(
        [
            mail(
                ("From", '"Novak, Julia" <julia.novak@contoso-mfg.example>'),
                ("To", "'ben.carter@contoso-mfg.example' <ben.carter@contoso-mfg.example>"),
                (
                    "Cc",
                    "Mathieu Campbell <mathieu.campbell@contoso-mfg.example>, Sam Reed <me@ourco.com>",
                ),
            )
        ]
    )
    names = [(p.email, p.address.name) for p in from_calendar.participants]
    assert names == [
        ("julia.novak@contoso-mfg.example", "Novak, Julia"),
        ("ben.carter@contoso-mfg.example", None),
        ("mathieu.campbell@contoso-mfg.example", "Mathieu Campbell"),
        ("me@ourco.com", "Sam Reed"),
    ]
    assert names == [(p.email, p.address.name) for p in from_mail.participants]
    assert [contact_fields(p) for p in from_calendar.participants] == [
        contact_fields(p) for p in from_mail.participants
    ]


def test_google_calendars_own_addresses_are_nobody() -> None:
    """A team calendar organizing an event, a room invited without CUTYPE, as
    Google Calendar exports them: neither becomes a person."""
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n"
        b"BEGIN:VEVENT\r\nDTSTART:20260310T150000Z\r\nDTEND:20260310T160000Z\r\n"
        b"UID:7kukuqrfedlm2f9t5vhhfmkhgu@google.com\r\nSUMMARY:Quarterly review\r\n"
        b"ORGANIZER;CN=Sales Events:mailto:c_1f2e3d4c5b6a7988@group.calendar.google.com\r\n"
        b"ATTENDEE;CN=Ann Lee;PARTSTAT=ACCEPTED:mailto:ann@acme.com\r\n"
        b"ATTENDEE;CN=me@ourco.com;PARTSTAT=ACCEPTED:mailto:me@ourco.com\r\n"
        b"ATTENDEE;CN=HQ-4-Boardroom (12);PARTSTAT=ACCEPTED:"
        b"mailto:ourco.com_3830353532@resource.calendar.google.com\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    meetings, errors = parse_calendar(ics, SourceRef("acct", "cal", "f.ics"), WINDOW, LIMITS)
    assert list(errors) == []
    found = only(list(meetings))
    assert people(found) == [
        (
            "c_1f2e3d4c5b6a7988@group.calendar.google.com",
            "organizer",
            "automated",
            "domain:calendar",
        ),
        ("ann@acme.com", "attendee", "person", "person"),
        ("me@ourco.com", "attendee", "internal", "owner"),
    ]


FULL = AccountPolicy(
    account="acct",
    owner_addresses=frozenset({"Me@OurCo.com"}),
    org_domains=frozenset({"OurCo.com"}),
    privacy="full",
)


@pytest.mark.parametrize("sensitivity", ["Private", "personal", "Company-Confidential"])
def test_mail_marked_private_keeps_its_subject_and_text_out(sensitivity: str) -> None:
    found = only(
        [
            mail(
                ("From", "Ann Lee <ann@acme.com>"),
                ("To", "me@ourco.com"),
                ("Sensitivity", sensitivity),
                text="My test results came back.",
            )
        ],
        FULL,
    )
    assert (found.subject, found.snippet) == (None, None)
    assert people(found) == [
        ("ann@acme.com", "from", "person", "person"),
        ("me@ourco.com", "to", "internal", "owner"),
    ]
    normal = only([mail(("From", "ann@acme.com"), ("To", "me@ourco.com"), text="Hi")], FULL)
    assert (normal.subject, normal.snippet) == ("Quote for Q3", "Hi")


def test_a_meeting_marked_private_keeps_its_summary_out() -> None:
    private = replace(meeting(ORGANIZER, person("me@ourco.com")), private=True)
    assert only([private], FULL).subject is None
    assert only([meeting(ORGANIZER, person("me@ourco.com"))], FULL).subject == "Kickoff"
