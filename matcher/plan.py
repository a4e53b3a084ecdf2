"""What the matcher decides and what storage applies: the Plan, and the Directory it reads.

``matcher`` turns a connector ``Batch`` into a ``Plan``; ``storage.apply``
writes a Plan and the batch's next cursor in one transaction. Every decision
carries the rule that made it (docs/ARCHITECTURE.md, invariant 7).

Apply is idempotent: "create" means "ensure a contact owns this email" and
an interaction is an upsert on its global identity, so replaying a batch
after a crash changes nothing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from connectors.records import DEFAULT_CREATION, IngestError, Privacy, SourceRef, When
from matcher.profile import Profile

Role = Literal["from", "sender", "reply-to", "to", "cc", "bcc", "organizer", "attendee", "quoted"]
ParticipantClass = Literal["person", "role", "automated", "internal", "room"]
Direction = Literal["inbound", "outbound", "internal", "unknown"]
Decision = Literal["link", "create", "skip"]
InteractionKind = Literal["email", "meeting"]


@dataclass(frozen=True, slots=True)
class Observation:
    """One field value seen for a contact, with how sure we are (0..1)."""

    field: str  # "name", "given_name", "family_name", "company", "title", "phone:mobile", ...
    value: str
    confidence: float


@dataclass(frozen=True, slots=True)
class ParticipantPlan:
    email: str
    name: str | None
    role: Role
    klass: ParticipantClass
    decision: Decision
    rule: str  # why: "exact-email", "policy:on_exchange", "class:automated", ...
    response_status: str | None = None  # meetings: PARTSTAT
    contact_id: int | None = None  # set when decision == "link"
    observations: tuple[Observation, ...] = ()  # applied to the contact on link/create
    company_domain: str | None = None  # registrable work domain; None for free mail
    company_name: str | None = None  # the company a new company_domain is named after
    class_reason: str = ""  # why ``klass``: "owner", "local-part:noreply", "header:list-id", ...
    meeting_role: str | None = None  # meetings: RFC 5545 ROLE (CHAIR, REQ-PARTICIPANT, ...)
    # The mailbox ``email`` delivers to (``matcher.mailboxes``); "" when it is ``email`` itself.
    mailbox: str = ""

    @property
    def key(self) -> str:
        """What contacts and evidence are matched by: the mailbox, not the spelling."""
        return self.mailbox or self.email


@dataclass(frozen=True, slots=True)
class Bounce:
    """A recipient a delivery report says can never be reached at this address."""

    email: str
    mailbox: str  # the key contact addresses match by (``matcher.mailboxes``)
    status: str  # RFC 3463 code ("5.1.1"), an SMTP reply code, or ""
    source: str  # how it was read: "dsn", "text:postfix", "text:exchange", ...


@dataclass(frozen=True, slots=True)
class InteractionPlan:
    identity: str  # Message.identity / Meeting.identity
    kind: InteractionKind
    occurred_at: datetime  # UTC
    ended_at: datetime | None
    subject: str | None  # None unless privacy >= "subject"
    snippet: str | None  # None unless privacy == "full"
    direction: Direction
    thread_key: str | None
    status: str  # email: "sent"/"received"/"internal"; meeting: confirmed/tentative/cancelled
    sequence: int  # meetings: SEQUENCE; a lower one never replaces a higher one
    source: SourceRef
    participants: tuple[ParticipantPlan, ...]
    bounced: tuple[Bounce, ...] = ()  # a delivery report's permanent failures
    # A meeting on a date, not at a time (iCalendar DATE, Graph isAllDay,
    # Google's "date"): occurred_at is 00:00 UTC of that date.
    all_day: bool = False


@dataclass(frozen=True, slots=True)
class KnownLine:
    """A line seen at the end of a sender's own text (``matcher.body.sender_signature``)."""

    text: str  # normalized: whitespace collapsed, case folded
    seen: int  # messages whose own text ended with it
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class SenderSignature:
    """What one sender's own mail has shown so far; storage keeps one per mailbox."""

    lines: tuple[KnownLine, ...] = ()
    messages: int = 0
    # The newest message learned from: mail dated at or before it (a replayed
    # batch, an old message arriving late) is read but never counted again.
    latest: datetime | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    account: str
    interactions: tuple[InteractionPlan, ...] = ()
    errors: tuple[IngestError, ...] = ()
    removed: tuple[SourceRef, ...] = ()  # copies deleted at the source
    # Each sender's signature model after this batch, by mailbox key; storage
    # writes them with the batch, so the next batch reads what this one learned.
    sender_signatures: Mapping[str, SenderSignature] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Evidence:
    """What storage already knows of an address, for the creation policy."""

    sent_to: bool = False  # an owner wrote to them (outbound mail)
    received_from: bool = False  # they wrote to an owner (inbound mail)
    met: bool = False  # shared a meeting
    listed: bool = False  # a mailing list named it as its own address: never a person


# The class reason of a mailing list's own address ("list-address:list-id").
LIST_ADDRESS = "list-address:"


@dataclass(frozen=True, slots=True)
class Blocklist:
    addresses: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()  # a domain also blocks its subdomains


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The scores ``matcher.scoring`` needs for each outcome (``identity`` in the config)."""

    link: float = 0.85
    review: float = 0.7
    name: float = 0.9  # the name similarity any link or review needs
    margin: float = 0.05  # a runner-up this close makes a link a review


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    """Everything the matcher needs to know about one account; built by the agent."""

    account: str
    owner_addresses: frozenset[str]
    org_domains: frozenset[str] = frozenset()
    privacy: Privacy = "subject"
    creation: Mapping[str, When] = field(default_factory=lambda: dict(DEFAULT_CREATION))
    blocklist: Blocklist = Blocklist()
    snippet_chars: int = 280
    # Region for phone numbers written without a country code ("(202) 555-0161");
    # None: the sender's country-code domain, else only international numbers.
    phone_region: str | None = None
    # Domains besides the known providers whose server delivers "name+tag" to
    # "name" (``matcher.mailboxes``): the org's own and listed ones, by config.
    subaddress_domains: frozenset[str] = frozenset()
    identity: Thresholds = Thresholds()  # scored resolution of addresses no contact owns


class Directory(Protocol):
    """The matcher's read-only view of stored contacts (storage implements it)."""

    def contact_ids(self, mailboxes: Collection[str]) -> Mapping[str, int]:
        """Contact id for each of ``mailboxes`` (``ParticipantPlan.key``) a contact owns.

        An address a contact holds as ``former`` is no exact match: whoever
        writes from it now is weighed by ``candidates`` (a new hire may have
        been given it)."""
        ...

    def evidence(self, mailboxes: Collection[str]) -> Mapping[str, Evidence]:
        """Stored exchange evidence for each of ``mailboxes`` that has any."""
        ...

    def forgotten(self, addresses: Collection[str]) -> Collection[str]:
        """Those of ``addresses`` (spellings or mailbox keys) whose person was forgotten."""
        ...

    def sender_signatures(self, mailboxes: Collection[str]) -> Mapping[str, SenderSignature]:
        """The stored signature model of each of ``mailboxes`` that has one."""
        ...

    def candidates(
        self, keys: Collection[str], mailboxes: Collection[str], threads: Collection[str]
    ) -> Sequence[Profile]:
        """Contacts indexed under any of ``keys`` (``matcher.identity.blocking_keys``) or
        holding any of ``mailboxes`` as an address no exact match finds (a former one);
        each profile's ``threads`` are those of ``threads`` the contact was on."""
        ...


def evidence_of(interaction: InteractionPlan) -> dict[str, Evidence]:
    """The exchange evidence one interaction gives each of its participants' mailboxes.

    One definition serves both the matcher (evidence inside a batch) and
    storage (evidence it keeps for later batches), so a creation decision does
    not depend on where batch boundaries fell.
    """
    found: dict[str, Evidence] = {}
    # An owner who declined met nobody either.
    owner_declined = interaction.kind == "meeting" and any(
        p.class_reason == "owner" and not took_part(p) for p in interaction.participants
    )
    for p in interaction.participants:
        if p.class_reason.startswith(LIST_ADDRESS):
            # Remembered, so the owner's reply to the list (which carries no
            # list header) does not make the list a person.
            found[p.email] = merge_evidence(found.get(p.email), Evidence(listed=True))
            continue
        if p.klass == "automated":
            # An RFC 3834 auto-reply or a list post is not the person answering us.
            continue
        if p.role == "quoted":
            # Named inside the body (a forward, a quoted reply): they wrote to
            # someone once, not to us in this interaction.
            continue
        if interaction.kind == "meeting":
            if interaction.status == "cancelled" or owner_declined or not took_part(p):
                continue
            ev = Evidence(met=True)
        elif interaction.direction == "outbound" and p.role in ("to", "cc", "bcc"):
            ev = Evidence(sent_to=True)
        elif interaction.direction == "inbound" and p.role in ("from", "sender", "reply-to"):
            ev = Evidence(received_from=True)
        else:
            continue
        # By mailbox: writing to "ann+crm@gmail.com" and hearing back from
        # "a.nn@gmail.com" is one exchange with one person.
        found[p.key] = merge_evidence(found.get(p.key), ev)
    return found


# RFC 5545 3.2.12 answers with which a participant says they will not be there.
_NOT_ATTENDING = frozenset({"DECLINED", "DELEGATED"})


def took_part(p: ParticipantPlan) -> bool:
    """Whether a meeting participant met the others, by their PARTSTAT.

    One who declined, or delegated to someone else, met nobody. ACCEPTED and
    TENTATIVE count. NEEDS-ACTION counts too: it is also what a missing
    PARTSTAT means (Outlook exports leave it out), and an attendee's copy of
    a meeting shows the other invitees as the organizer last sent them,
    usually before anyone answered; an invitation nobody refused is still a
    meeting shared.
    """
    return (p.response_status or "").upper() not in _NOT_ATTENDING


def policy_allows(when: str, evidence: Evidence | None) -> bool:
    """Whether a creation mode is satisfied by what we know of an address."""
    seen = evidence or Evidence()
    if when == "always":
        return True
    if when == "on_sent":
        return seen.sent_to
    if when == "on_exchange":
        return (seen.sent_to and seen.received_from) or seen.met
    return False  # "never", and any mode this version does not know


def merge_evidence(a: Evidence | None, b: Evidence) -> Evidence:
    if a is None:
        return b
    return Evidence(
        sent_to=a.sent_to or b.sent_to,
        received_from=a.received_from or b.received_from,
        met=a.met or b.met,
        listed=a.listed or b.listed,
    )
