"""From records to interaction drafts: who took part, in what role, of what class.

``extract`` reads each ``Message`` (and the calendar invitations it carries)
and each ``Meeting`` into a ``Found``: the interaction as it will be stored
plus its participants with role, class, the reason for the class, and the
interaction's direction. It never raises on bad data: unreadable addresses
are dropped, a missing date falls back (see ``occurred_at``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connectors.base import InvalidInput, Limits
from connectors.records import (
    Address,
    Attendee,
    Meeting,
    Message,
    Record,
    SourceRef,
    pickled_by_fields,
)
from matcher.addresses import display_name_text, parse_address_list
from matcher.body.html import MAX_HTML_CHARS, html_to_text, strip_tags
from matcher.bounces import failed_deliveries
from matcher.classify import Perimeter, classify, is_room, list_addresses, sender_signal
from matcher.plan import (
    AccountPolicy,
    Bounce,
    Direction,
    InteractionKind,
    InteractionPlan,
    ParticipantClass,
    ParticipantPlan,
    Role,
)
from matcher.x_names import X_FIELDS, named

MAX_PARTICIPANTS = Limits().max_attendees
# The last resort for a message without any date (see ``occurred_at``): fixed,
# so a replay plans the same interaction, and far in the past, so it never
# becomes anyone's "last contacted".
NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)
_MAIL_ROLES: tuple[Role, ...] = ("from", "sender", "reply-to", "to", "cc", "bcc")
_SENDER_SIDE = frozenset({"from", "sender", "reply-to"})
_READ_FIELDS = frozenset(_MAIL_ROLES).union(X_FIELDS.values())
# iTIP (RFC 5546) replies and counter-proposals carry one attendee, not the
# meeting; planning them as the meeting would replace its attendee list.
_PARTIAL_METHODS = frozenset({"REPLY", "REFRESH", "COUNTER", "DECLINECOUNTER"})
_MAIL_STATUS: dict[Direction, str] = {
    "outbound": "sent",
    "inbound": "received",
    "internal": "internal",
    "unknown": "received",  # it reached the mailbox, and nothing says we wrote it
}


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Body:
    """A message's text, for the signature extractor: all it reads of the message."""

    text: str
    is_html: bool


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class FoundParticipant:
    address: Address
    role: Role
    klass: ParticipantClass
    reason: str  # why this class: "owner", "local-part:noreply", "header:list-id", ...
    response_status: str | None = None  # meetings: PARTSTAT
    meeting_role: str | None = None  # meetings: ROLE (CHAIR, REQ-PARTICIPANT, ...)
    mailbox: str = ""  # the mailbox key (``matcher.mailboxes``); "" for ``email`` itself

    @property
    def email(self) -> str:
        return self.address.email

    @property
    def key(self) -> str:
        """What contacts and evidence are matched by (``ParticipantPlan.key``)."""
        return self.mailbox or self.address.email


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Found:
    """One interaction draft with its classified participants, before resolution."""

    identity: str
    kind: InteractionKind
    occurred_at: datetime
    ended_at: datetime | None
    subject: str | None
    snippet: str | None
    direction: Direction
    thread_key: str | None
    status: str
    sequence: int
    source: SourceRef
    participants: tuple[FoundParticipant, ...]
    body: Body | None = None  # mail with a text the signature extractor may read
    sender: Address | None = None  # the first From (else Sender), even if blocked
    bounced: tuple[Bounce, ...] = ()  # a delivery report's permanent failures
    all_day: bool = False  # meetings: on a date, not at a time

    def draft(self, decided: Sequence[ParticipantPlan] | None = None) -> InteractionPlan:
        """The interaction as planned; participants "pending" until ``decided`` is given.

        Pending drafts feed ``matcher.plan.evidence_of``, which reads emails,
        roles, classes (with their reasons) and meeting answers, so in-batch
        evidence equals what storage derives.
        """
        participants = (
            tuple(decided)
            if decided is not None
            else tuple(
                ParticipantPlan(
                    p.email,
                    p.address.name,
                    p.role,
                    p.klass,
                    "skip",
                    "pending",
                    response_status=p.response_status,
                    class_reason=p.reason,
                    mailbox=p.mailbox,
                )
                for p in self.participants
            )
        )
        return InteractionPlan(
            identity=self.identity,
            kind=self.kind,
            occurred_at=self.occurred_at,
            ended_at=self.ended_at,
            subject=self.subject,
            snippet=self.snippet,
            direction=self.direction,
            thread_key=self.thread_key,
            status=self.status,
            sequence=self.sequence,
            source=self.source,
            participants=participants,
            bounced=self.bounced,
            all_day=self.all_day,
        )


def extract(
    records: Iterable[Record], policy: AccountPolicy, *, fetched_at: datetime | None = None
) -> list[Found]:
    """Interaction drafts for ``records``; ``fetched_at`` dates mail that has no date."""
    perimeter = Perimeter.of(policy)
    found: list[Found] = []
    for record in records:
        if isinstance(record, Message):
            mail = _mail(record, perimeter, policy, fetched_at)
            if mail is not None:
                found.append(mail)
            meetings: Iterable[Meeting] = record.meetings
        else:
            meetings = (record,)
        for meeting in meetings:
            planned = _meeting(meeting, perimeter, policy)
            if planned is not None:
                found.append(planned)
    return found


def _utc(moment: datetime) -> datetime:
    # A naive datetime from a connector is UTC by the records contract.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past datetime's range
        return moment.replace(tzinfo=UTC)


def occurred_at(message: Message, fetched_at: datetime | None = None) -> datetime:
    """When a message happened: its date, else its Date header, else ``fetched_at``.

    Connectors should put the server's arrival time (IMAP INTERNALDATE, Gmail
    internalDate, Graph receivedDateTime) in ``Message.date`` when the Date
    header is missing or broken; ``NO_DATE`` is the last resort.
    """
    moment = message.date or _header_date(message) or fetched_at  # the header only if needed
    return _utc(moment) if moment is not None else NO_DATE


def _header_date(message: Message) -> datetime | None:
    raw = message.header("date")
    if not raw or len(raw) > 200:
        return None
    try:
        return parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _collapse(text: str, limit: int) -> str | None:
    """The first ``limit`` characters of ``text`` with its whitespace collapsed.

    Collapsing any prefix of ``text`` gives a prefix of collapsing all of it
    (a cut word is the start of the whole word), so when a short head already
    yields ``limit`` characters the rest of a long body need not be split.
    """
    cut = 2 * limit + 64  # mail prose rarely needs more to give ``limit`` characters
    head = " ".join(text[:cut].split())
    if len(head) < limit and len(text) > cut:
        head = " ".join(text.split())
    return head[:limit] or None


def snippet_of(message: Message, limit: int) -> str | None:
    if not message.text or limit <= 0:
        return None
    text = message.text
    if message.text_is_html:
        try:
            text = html_to_text(text, MAX_HTML_CHARS)
        except InvalidInput:
            text = strip_tags(text)  # too deep for the renderer: tags out is enough
    return _collapse(text, limit)


def _shown(policy: AccountPolicy, subject: str | None, private: bool = False) -> str | None:
    """The subject as the account's privacy allows; never for an item marked private."""
    return subject if policy.privacy in ("subject", "full") and not private else None


# RFC 2156's Sensitivity values that keep a message's text out (Outlook sets them).
_PRIVATE_SENSITIVITY = frozenset({"personal", "private", "company-confidential"})


def _private(message: Message) -> bool:
    return (message.header("sensitivity") or "").strip().lower() in _PRIVATE_SENSITIVITY


def _direction(
    origin: Address | None, participants: Sequence[FoundParticipant], perimeter: Perimeter
) -> Direction:
    if origin is None:
        return "unknown"
    if perimeter.internal_reason(origin.email) is None:
        return "inbound"
    if all(p.klass == "internal" for p in participants):
        return "internal"
    return "outbound"


def only_blocked_outside(participants: Sequence[FoundParticipant], blocked: bool) -> bool:
    """Whether every external party of an item was blocklisted (and left out).

    Such an item is not captured at all: storing it would keep the blocked
    correspondence (its time, subject and the owner's side) under another name.
    """
    return blocked and all(p.klass == "internal" for p in participants)


def _mail_participants(
    message: Message, perimeter: Perimeter
) -> tuple[list[FoundParticipant], Address | None, bool]:
    """The participants, the origin (the first From, else Sender, even if
    blocked), and whether a blocklisted address was left out."""
    signal = sender_signal(message)
    lists = list_addresses(message)
    found: list[FoundParticipant] = []
    seen: set[str] = set()
    origin: dict[str, Address] = {}
    # One pass over the headers instead of one per role (``header_all``).
    values: dict[str, list[str]] = {}
    for name, value in message.headers:
        if name in _READ_FIELDS:
            values.setdefault(name, []).append(value)
    blocked = False
    for role in _MAIL_ROLES:
        for value in values.get(role, ()):
            for address in _addresses(role, value, values):
                origin.setdefault(role, address)
                if address.email in seen:
                    continue
                if perimeter.blocks(address.email):
                    blocked = True
                    continue
                seen.add(address.email)
                side = signal if role in _SENDER_SIDE else None
                kind = classify(address, perimeter, signal=side, lists=lists)
                key = perimeter.mailbox(address.email)
                found.append(FoundParticipant(address, role, kind.klass, kind.reason, mailbox=key))
                if len(found) >= MAX_PARTICIPANTS:
                    return found, origin.get("from", origin.get("sender")), blocked
    return found, origin.get("from", origin.get("sender")), blocked


def _addresses(role: str, value: str, values: dict[str, list[str]]) -> list[Address]:
    """The addresses of one field, named from its Enron X field when it has one."""
    addresses = parse_address_list(value)
    x_values = values.get(X_FIELDS.get(role, ""), ())
    if len(x_values) != 1 or len(values[role]) != 1 or all(a.name for a in addresses):
        return addresses
    return named(addresses, x_values[0])


def _mail(
    message: Message, perimeter: Perimeter, policy: AccountPolicy, fetched_at: datetime | None
) -> Found | None:
    participants, origin, blocked = _mail_participants(message, perimeter)
    if only_blocked_outside(participants, blocked):
        return None
    direction = _direction(origin, participants, perimeter)
    private, full = _private(message), policy.privacy == "full"
    return Found(
        identity=message.identity,
        kind="email",
        occurred_at=occurred_at(message, fetched_at),
        ended_at=None,
        subject=_shown(policy, message.subject, private),
        snippet=snippet_of(message, policy.snippet_chars) if full and not private else None,
        direction=direction,
        thread_key=message.thread_key,
        status=_MAIL_STATUS[direction],
        sequence=0,
        source=message.source,
        participants=tuple(participants),
        body=Body(message.text, message.text_is_html) if message.text else None,
        sender=origin,
        bounced=_bounced(message, perimeter),
    )


def _bounced(message: Message, perimeter: Perimeter) -> tuple[Bounce, ...]:
    """A delivery report's permanent failures: one is enough to stop writing there."""
    return tuple(
        Bounce(f.email, perimeter.mailbox(f.email), f.status, f.source)
        for f in failed_deliveries(message)
        if f.permanent
    )


def _is_room(attendee: Attendee) -> bool:
    return is_room(attendee.address, attendee.cutype)


def _meeting_participants(
    meeting: Meeting, perimeter: Perimeter
) -> tuple[list[FoundParticipant], bool]:
    """Organizer first, then attendees; rooms and blocked addresses left out
    (and whether a blocked one was).

    An organizer who is also listed as an attendee (Outlook, Google) stays
    the organizer and takes the attendee entry's PARTSTAT and ROLE.
    """
    organizer = meeting.organizer
    listed = {a.address.email: a for a in meeting.attendees}
    found: list[FoundParticipant] = []
    seen: set[str] = set()
    entries = [(organizer, "organizer")] if organizer else []
    entries += [(a, "attendee") for a in meeting.attendees[:MAX_PARTICIPANTS]]
    blocked = False
    for attendee, role in entries:
        email = attendee.address.email
        if email in seen or _is_room(attendee):
            continue
        if perimeter.blocks(email):
            blocked = True
            continue
        seen.add(email)
        as_listed = attendee if role == "attendee" else listed.get(email)
        kind = classify(attendee.address, perimeter, cutype=attendee.cutype)
        found.append(
            FoundParticipant(
                _named_as_in_mail(attendee.address),
                "organizer" if role == "organizer" else "attendee",
                kind.klass,
                kind.reason,
                response_status=as_listed.partstat.upper() if as_listed else None,
                meeting_role=as_listed.role.upper() if as_listed else None,
                mailbox=perimeter.mailbox(email),
            )
        )
    return found, blocked


def _named_as_in_mail(address: Address) -> Address:
    """A calendar CN read as a mail display name is (``display_name_text``):
    clients write "'ann@x.com'", quoted names and names with the address."""
    if address.name is None:
        return address
    return Address(address.email, display_name_text(address.name), address.raw)


def _meeting(meeting: Meeting, perimeter: Perimeter, policy: AccountPolicy) -> Found | None:
    method = (meeting.method or "").upper()
    if method in _PARTIAL_METHODS:
        return None
    participants, blocked = _meeting_participants(meeting, perimeter)
    if only_blocked_outside(participants, blocked):
        return None
    organizer = meeting.organizer
    origin = organizer.address if organizer and not _is_room(organizer) else None
    cancelled = meeting.status == "cancelled" or method == "CANCEL"
    return Found(
        identity=meeting.identity,
        kind="meeting",
        occurred_at=_utc(meeting.start),
        ended_at=_utc(meeting.end) if meeting.end else None,
        subject=_shown(policy, meeting.summary, meeting.private),
        snippet=None,
        direction=_direction(origin, participants, perimeter),
        thread_key=None,
        status="cancelled" if cancelled else meeting.status,
        sequence=meeting.sequence,
        source=meeting.source,
        participants=tuple(participants),
        all_day=meeting.all_day,
    )
