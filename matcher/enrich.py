"""Signature fields in the plan: each zone's author gets what their signature says.

The signature search is the costliest step of the matcher (about 2 ms a
message), and most mail has nobody its fields could go to: newsletters,
notifications, strangers the policy skips, and the quoted half of every
reply. So ``resolve`` decides the header participants first, then:

1. ``first_readings`` splits into zones (``matcher.body.zones``, a third of the
   cost) only the bodies that may matter: the sender is a person we link or
   create, or the mail is conversation that may quote a known contact;
2. after one directory lookup of the quoted people, ``signed_readings``
   searches signatures only in the zones whose author can take the fields:
   the sender's own zone when the sender acts, and quoted or forwarded zones
   of known contacts (or of anyone, when the policy may create quoted
   people) who are not header participants. A message is read once.

``matcher.resolve.with_signatures`` then attaches the fields: the sender's
own zone goes to the sender; a quoted or forwarded zone's author, and
everyone its inline header names (From/To/Cc), become participants with the
role ``quoted``, linked when a contact owns the address, else governed by
``policy.creation["quoted"]`` (default never), and never exchange evidence
(``matcher.plan.evidence_of``). Fields go only to people: automated, role and
internal participants, and blocklisted addresses, never receive any.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from connectors.base import InvalidInput
from connectors.records import Address, pickled_by_fields
from matcher.body.html import html_to_text
from matcher.body.sender_signature import TailLine, own_tail, read_own_zone
from matcher.body.signature_names import addressed_names
from matcher.body.signatures import (
    AuthorSignature,
    observations_by_author,
    read_zone,
)
from matcher.body.zones import MAX_TEXT_CHARS, Zone, ZoneKind, split_zones
from matcher.participants import Body, Found
from matcher.plan import AccountPolicy, Observation, ParticipantPlan, Role, SenderSignature


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class BodyPeople:
    """What one message body says about people, by normalized email."""

    fields: Mapping[str, tuple[Observation, ...]]  # signature fields per author
    quoted: tuple[Address, ...]  # quoted/forwarded authors and inline-header people, in order
    zones: tuple[Zone, ...] = ()  # as split, until the signatures are searched
    own: tuple[TailLine, ...] | None = None  # the last own zone's ``own_tail``


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


def takes_fields(p: ParticipantPlan) -> bool:
    """A header participant whose fields are kept: a person we link or create,
    or one the policy may create later (``matcher.resolve.pending``)."""
    return acting_person(p) or (p.klass == "person" and pending(p.rule))


def pending(rule: str) -> bool:
    """A skip the creation policy may lift later ("policy:person:on_exchange:unmet")."""
    return rule.endswith(":unmet")


def sender_acts(found: Found, decided: Sequence[ParticipantPlan]) -> bool:
    """The sender's own zone's fields have a home: a contact now, or one the
    policy may create when more mail arrives (storage keeps them until then)."""
    sender = found.sender
    return sender is not None and any(p.email == sender.email and takes_fields(p) for p in decided)


def may_quote_people(found: Found) -> bool:
    """Whether a body the sender's fields cannot use may still name someone.

    An inline header names people by address: no "@" in the text, nobody to
    find. Automated mail (newsletters, notifications, list traffic) is never
    read: its quoted text is not a conversation with us. (A participant's
    class is the same before and after resolution.)
    """
    text = found.body.text if found.body is not None else None
    return (
        bool(text)
        and "@" in (text or "")
        and not any(p.klass == "automated" for p in found.participants)
    )


def sender_may_act(found: Found) -> bool:
    """What ``sender_acts`` can tell before any contact is looked up: the sender is a person."""
    sender = found.sender
    return sender is not None and any(
        p.email == sender.email and p.klass == "person" for p in found.participants
    )


def first_readings(
    found: Sequence[Found],
    decided: Sequence[Sequence[ParticipantPlan]],
    region: str | None,
    early: Mapping[int, BodyPeople] | None = None,
) -> dict[int, BodyPeople]:
    """Zones of the bodies that may give someone a field, by draft index.

    ``early`` holds ``early_readings`` of the same drafts, made before any
    contact was looked up (the agent reads ahead in another process); a body
    found there is not split again.
    """
    cache: dict[str, BodyPeople] = {}
    bodies: dict[int, BodyPeople] = {}
    for index, (f, people) in enumerate(zip(found, decided, strict=True)):
        if f.body is None or not f.body.text:
            continue
        if f.identity in cache:
            bodies[index] = cache[f.identity]
        elif sender_acts(f, people) or may_quote_people(f):
            known = early.get(index) if early is not None else None
            if known is None:
                known = first_reading(f, region)
            body = known
            bodies[index] = cache[f.identity] = body
    return bodies


def early_readings(found: Sequence[Found], region: str | None) -> dict[int, BodyPeople]:
    """``first_reading`` of every body ``first_readings`` might read, whatever the directory holds.

    ``first_readings`` reads a body when its sender is a person the plan acts
    on, or when it may quote people. Before resolution a sender can only be
    known to be a person (whether the plan acts on them depends on stored
    contacts and evidence), so this reads a superset: it costs bodies of
    people the policy then skips, and the plans stay exactly the same.
    """
    return {
        index: first_reading(f, region)
        for index, f in enumerate(found)
        if f.body is not None and f.body.text and (sender_may_act(f) or may_quote_people(f))
    }


def first_reading(found: Found, region: str | None) -> BodyPeople:
    """One body's zones and the people they quote; its signatures only when a header names no address."""
    text = found.body
    if text is None:
        return BodyPeople({}, ())
    body = zones_of(text, found.sender, sender_may_act(found))
    if any(z.kind != "own" and z.author is None and z.author_name for z in body.zones):
        # A header naming its author without an address (Lotus Notes):
        # only the extractor's reading of the signature finds one, and
        # it must be known before the quoted people are looked up.
        body = read_body(text, found.sender, region, addressed(found))
    return body


def own_senders(
    found: Sequence[Found],
    decided: Sequence[Sequence[ParticipantPlan]],
    bodies: Mapping[int, BodyPeople],
) -> dict[int, str]:
    """The mailbox key of each body's sender whose own zone ``signed_readings`` reads."""
    senders: dict[int, str] = {}
    for index, body in bodies.items():
        f = found[index]
        if body.zones and f.sender is not None and sender_acts(f, decided[index]):
            email = f.sender.email
            senders[index] = next((p.key for p in f.participants if p.email == email), email)
    return senders


def signed_readings(
    found: Sequence[Found],
    decided: Sequence[Sequence[ParticipantPlan]],
    bodies: Mapping[int, BodyPeople],
    contacts: Mapping[str, int],
    policy: AccountPolicy,
    models: Mapping[str, SenderSignature] | None = None,
) -> tuple[dict[int, BodyPeople], dict[str, SenderSignature]]:
    """Each body with the signature fields of the zones whose author can take them,
    and the senders' signature models (``models``, by mailbox key) updated by them.

    Bodies are read in date order, so a batch of thirty messages teaches a
    sender's model what thirty batches of one would.
    """
    creatable = policy.creation.get("quoted", "never") != "never"
    senders = own_senders(found, decided, bodies)
    learned = dict(models or {})
    cache: dict[str, BodyPeople] = {}
    signed: dict[int, BodyPeople] = {}
    for index in sorted(bodies, key=lambda i: (found[i].occurred_at, found[i].identity)):
        body = bodies[index]
        f = found[index]
        if not body.zones:  # read whole already, or nothing to read
            signed[index] = body
            continue
        if f.identity not in cache:
            listed = frozenset(p.email for p in decided[index])
            own = sender_acts(f, decided[index])

            def wanted(zone: Zone, own: bool = own, listed: frozenset[str] = listed) -> bool:
                if zone.kind == "own":
                    return own
                email = zone.author.email if zone.author is not None else ""
                return email not in listed and (email in contacts or creatable)

            key = senders.get(index)
            model = learned.get(key, SenderSignature()) if key is not None else None
            cache[f.identity], model = _signed(f, body, wanted, policy.phone_region, model)
            if key is not None and model is not None:
                learned[key] = model
        signed[index] = cache[f.identity]
    return dict(sorted(signed.items())), learned


def _signed(
    f: Found,
    body: BodyPeople,
    wanted: Callable[[Zone], bool],
    region: str | None,
    model: SenderSignature | None,
) -> tuple[BodyPeople, SenderSignature | None]:
    """The body's fields by author; the sender's from their last own zone, read
    with their ``model`` (then updated) when the sender's fields are wanted."""
    to = addressed(f)
    own = max((i for i, z in enumerate(body.zones) if z.kind == "own"), default=None)
    signatures = []
    for index, zone in enumerate(body.zones):
        if zone.author is None or not wanted(zone):
            continue
        if index == own and model is not None:
            reading = read_own_zone(model, zone, zone.author, f.occurred_at, region, to, body.own)
            model, fields = reading.model, reading.observations
        else:
            fields = zone_fields(zone, region, to)
        signatures.append(
            AuthorSignature(zone.author, zone.author_name, index, zone.kind, fields, zone.people)
        )
    return BodyPeople(fields_by_author(signatures, f.sender), body.quoted), model


def zone_fields(
    zone: Zone, region: str | None, to: frozenset[str] = frozenset()
) -> tuple[Observation, ...]:
    """The fields of the signature at the end of ``zone``, as ``observations_by_author``
    reads each zone (``matcher.body.signatures``)."""
    return read_zone(zone, region, to)[1]


def addressed(found: Found) -> frozenset[str]:
    """Whom a message is addressed to, as ``read_zone`` recognises them."""
    return addressed_names((p.role, p.address) for p in found.participants)


def read_body(
    body: Body, sender: Address | None, region: str | None, to: frozenset[str] = frozenset()
) -> BodyPeople:
    """Run the whole signature extractor on one message; HTML it cannot render gives nothing."""
    try:
        signatures = observations_by_author(body.text, body.is_html, sender, region, to)
    except InvalidInput:
        return BodyPeople({}, ())
    return BodyPeople(fields_by_author(signatures, sender), quoted_people(signatures, sender))


def zones_of(body: Body, sender: Address | None, own: bool = True) -> BodyPeople:
    """Who a body quotes, from its zones alone (no signature search); with the
    last own zone's ``own_tail`` when ``own`` (a sender whose model may read it)."""
    text = body.text
    try:
        if body.is_html:
            text = html_to_text(text, MAX_TEXT_CHARS, quotes=True)
    except InvalidInput:
        # The message is still captured (its snippet falls back to stripped
        # tags); only its signatures are lost.
        return BodyPeople({}, ())
    zones = tuple(split_zones(text, sender))
    tail = next((own_tail(z) for z in reversed(zones) if z.kind == "own"), None) if own else None
    return BodyPeople({}, quoted_people(zones, sender), zones, tail)


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
