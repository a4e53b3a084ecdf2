"""Records and policies as connectors and the agent hand them to the matcher.

Shared by the matcher's unit tests and the storage tests that run real
records through the matcher; each test module adds its own specialised
builders on top.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.records import Address, Attendee, Meeting, Message, SourceRef, When
from matcher.plan import AccountPolicy

SOURCE = SourceRef("acct", "INBOX", "1")
WHEN = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def mail(
    *headers: tuple[str, str],
    message_id: str | None = "m1@x",
    date: datetime | None = WHEN,
    subject: str | None = "Quote for Q3",
    text: str | None = None,
    html: bool = False,
    meetings: tuple[Meeting, ...] = (),
) -> Message:
    """A message as a connector hands it over: raw (still encoded) header values."""
    return Message(
        source=SOURCE,
        message_id=message_id,
        date=date,
        subject=subject,
        headers=tuple((k.lower(), v) for k, v in headers),
        thread_key="t1",
        text=text,
        text_is_html=html,
        meetings=meetings,
    )


def address(email: str, name: str | None = None) -> Address:
    """An address the test knows to be valid, typed as such."""
    found = Address.of(email, name)
    assert found is not None
    return found


def person(email: str, name: str | None = None, **kw: str) -> Attendee:
    return Attendee(address(email, name), **kw)


def meeting(
    organizer: Attendee | None,
    *attendees: Attendee,
    status: str = "confirmed",
    method: str | None = None,
    sequence: int = 0,
) -> Meeting:
    return Meeting(
        source=SourceRef("acct", "calendar", "ev1"),
        uid="uid-1@ourco.com",
        recurrence_id=None,
        start=WHEN,
        end=WHEN + timedelta(hours=1),
        status=status,  # type: ignore[arg-type]
        sequence=sequence,
        summary="Kickoff",
        organizer=organizer,
        attendees=attendees,
        method=method,
    )


ORGANIZER = person("ann@acme.com", "Ann Lee")


OWNER = "me@ourco.com"


def policy(person_when: When = "on_exchange", **creation: When) -> AccountPolicy:
    base = AccountPolicy(
        account="acct", owner_addresses=frozenset({OWNER}), org_domains=frozenset({"ourco.com"})
    )
    return replace(base, creation={**base.creation, "person": person_when, **creation})


def signing_policy(owner: str) -> AccountPolicy:
    """Every person written with becomes a contact; US numbers read without a country code."""
    return AccountPolicy(
        account="alice",
        owner_addresses=frozenset({owner}),
        org_domains=frozenset({owner.rpartition("@")[2]}),
        creation={
            "person": "always",
            "role": "never",
            "automated": "never",
            "internal": "never",
            "room": "never",
            "quoted": "never",
        },
        phone_region="US",
    )


def list_post(n: int = 1) -> Message:
    """A post to a Google Group that sets no List-Post (a private group)."""
    return mail(
        ("From", "Julia Novak <julia.novak@contoso-mfg.example>"),
        ("To", "Sales EMEA <sales-emea@contoso-mfg.example>"),
        ("Cc", OWNER),
        ("List-Id", "<sales-emea.contoso-mfg.example>"),
        ("List-Help", "<mailto:sales-emea+help@contoso-mfg.example>"),
        message_id=f"list{n}@contoso-mfg.example",
    )


def reply_to_list(n: int = 1) -> Message:
    """The owner's answer to the list, as it sits in Sent: no list header at all."""
    return mail(
        ("From", f"Sam Reed <{OWNER}>"),
        ("To", "Sales EMEA <sales-emea@contoso-mfg.example>"),
        ("In-Reply-To", f"<list{n}@contoso-mfg.example>"),
        message_id=f"re-list{n}@ourco.com",
    )


# A sender with a name, for the signature and quote tests.
SAM = address("sam.carter@northwind.example", "Sam Carter")
