"""Signature fields in the plan: each zone's author gets what their signature says.

The signature extractor is the costliest step of the matcher, and most mail
(newsletters, notifications, strangers the policy skips, our own replies)
has nobody its fields could go to. So ``resolve`` decides the header
participants first and then reads bodies in two steps:

1. ``first_readings``: a message whose sender is a linked or created person
   runs the extractor (``read_body``); other conversation mail only has its
   zones split (``zones_of``, about a third of the cost) to learn who is
   quoted;
2. ``complete_readings``: after one directory lookup of the quoted people, a
   zones-only message runs the extractor when a quoted author outside its
   headers could take fields. No message runs it twice.

``matcher.resolve.with_signatures`` then attaches the fields: the sender's
own zone goes to the sender; a quoted or forwarded zone's author, and
everyone its inline header names (From/To/Cc), become participants with the
role ``quoted``, linked when a contact owns the address, else governed by
``policy.creation["quoted"]`` (default never), and never exchange evidence
(``matcher.plan.evidence_of``). Fields go only to people: automated, role and
internal participants, and blocklisted addresses, never receive any.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.base import InvalidInput
from connectors.records import Address, Message
from matcher.html import html_to_text
from matcher.participants import Found
from matcher.plan import AccountPolicy, Observation, ParticipantPlan, Role
from matcher.signatures import AuthorSignature, observations_by_author
from matcher.zones import MAX_TEXT_CHARS, ZoneKind, split_zones


@dataclass(frozen=True, slots=True)
class BodyPeople:
    """What one message body says about people, by normalized email."""

    fields: Mapping[str, tuple[Observation, ...]]  # signature fields per author
    quoted: tuple[Address, ...]  # quoted/forwarded authors and inline-header people, in order
    authors: frozenset[str] = frozenset()  # authors of quoted/forwarded zones
    read: bool = True  # False: zones only, the extractor has not run


class _Zoned(Protocol):
    """What a zone and an AuthorSignature share: enough to list the people."""

    @property
    def kind(self) -> ZoneKind: ...
    @property
    def author(self) -> Address | None: ...
    @property
    def people(self) -> tuple[tuple[Role, Address], ...]: ...


def acting_person(p: ParticipantPlan) -> bool:
    return p.decision != "skip" and p.klass == "person"


def sender_acts(found: Found, decided: Sequence[ParticipantPlan]) -> bool:
    """The sender is a person we link or create: their own zone's fields have a home."""
    sender = found.sender
    return sender is not None and any(p.email == sender.email and acting_person(p) for p in decided)


def may_quote_people(found: Found, decided: Sequence[ParticipantPlan]) -> bool:
    """Whether a body the sender's fields cannot use may still name someone.

    An inline header names people by address: no "@" in the text, nobody to
    find. Automated mail (newsletters, notifications, list traffic) is never
    read: its quoted text is not a conversation with us.
    """
    text = found.body.text if found.body is not None else None
    return bool(text) and "@" in (text or "") and not any(p.klass == "automated" for p in decided)


def first_readings(
    found: Sequence[Found], decided: Sequence[Sequence[ParticipantPlan]], policy: AccountPolicy
) -> dict[int, BodyPeople]:
    """Readings by draft index: full for a sender who acts, zones only for other talk."""
    cache: dict[str, BodyPeople] = {}
    bodies: dict[int, BodyPeople] = {}
    for index, (f, people) in enumerate(zip(found, decided, strict=True)):
        if f.body is None or not f.body.text:
            continue
        if f.identity in cache:
            bodies[index] = cache[f.identity]
        elif sender_acts(f, people):
            bodies[index] = cache[f.identity] = read_body(f.body, f.sender, policy.phone_region)
        elif may_quote_people(f, people):
            bodies[index] = cache[f.identity] = zones_of(f.body, f.sender)
    return bodies


def complete_readings(
    found: Sequence[Found],
    decided: Sequence[Sequence[ParticipantPlan]],
    bodies: Mapping[int, BodyPeople],
    contacts: Mapping[str, int],
    policy: AccountPolicy,
) -> dict[int, BodyPeople]:
    """Run the extractor on zones-only bodies whose quoted authors could take fields:
    a known contact, or anyone when the policy may create quoted people."""
    creatable = policy.creation.get("quoted", "never") != "never"
    cache: dict[str, BodyPeople] = {}
    complete = dict(bodies)
    for index, body in bodies.items():
        if body.read:
            continue
        f = found[index]
        listed = {p.email for p in decided[index]}
        if any(a not in listed and (a in contacts or creatable) for a in body.authors):
            if f.identity not in cache and f.body is not None:
                cache[f.identity] = read_body(f.body, f.sender, policy.phone_region)
            complete[index] = cache.get(f.identity, body)
    return complete


def read_body(message: Message, sender: Address | None, region: str | None) -> BodyPeople:
    """Run the signature extractor on one message; HTML it cannot render gives nothing."""
    try:
        signatures = observations_by_author(
            message.text or "", message.text_is_html, sender, region
        )
    except InvalidInput:
        # The message is still captured (its snippet falls back to stripped
        # tags); only its signatures are lost.
        return BodyPeople({}, ())
    return BodyPeople(
        fields_by_author(signatures, sender),
        quoted_people(signatures, sender),
        quoted_authors(signatures),
    )


def zones_of(message: Message, sender: Address | None) -> BodyPeople:
    """Who a body quotes, from its zones alone (no signature search)."""
    text = message.text or ""
    try:
        if message.text_is_html:
            text = html_to_text(text, MAX_TEXT_CHARS)
    except InvalidInput:
        return BodyPeople({}, ())
    zones = split_zones(text, sender)
    return BodyPeople({}, quoted_people(zones, sender), quoted_authors(zones), read=False)


def fields_by_author(
    signatures: Iterable[AuthorSignature], sender: Address | None
) -> dict[str, tuple[Observation, ...]]:
    """Each author's fields, newest zone first.

    The sender's come from their own zone only, and a field an earlier
    (newer) zone gave is not taken again from a later one: a signature quoted
    from last year's mail must not compete with this year's.
    """
    found: dict[str, list[Observation]] = {}
    for signature in signatures:
        if signature.author is None or not signature.observations:
            continue
        email = signature.author.email
        if sender is not None and email == sender.email and signature.kind != "own":
            continue
        taken = found.setdefault(email, [])
        known = {o.field for o in taken}
        taken.extend(o for o in signature.observations if o.field not in known)
    return {email: tuple(fields) for email, fields in found.items() if fields}


def quoted_authors(zones: Iterable[_Zoned]) -> frozenset[str]:
    return frozenset(z.author.email for z in zones if z.kind != "own" and z.author is not None)


def quoted_people(zones: Iterable[_Zoned], sender: Address | None) -> tuple[Address, ...]:
    """Authors of quoted and forwarded zones, then the people their headers name."""
    seen = {sender.email} if sender is not None else set()
    people: list[Address] = []
    for zone in zones:
        named = [address for _, address in zone.people]
        if zone.kind != "own" and zone.author is not None:
            named.insert(0, zone.author)
        for address in named:
            if address.email not in seen:
                seen.add(address.email)
                people.append(address)
    return tuple(people)
