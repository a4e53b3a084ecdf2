"""Signature fields in the plan: each zone's author gets what their signature says.

``resolve`` decides the header participants first; only then is a body worth
reading (``worth_reading``), because the signature extractor is the costliest
step of the matcher and most mail (newsletters, notifications, strangers the
policy skips) has nobody its fields could go to. ``read_body`` runs the
extractor once per message; ``matcher.resolve.with_signatures`` attaches the
fields:

* the sender's own zone and any zone written by a header participant go to
  that participant (the ``from`` participant for the sender);
* a quoted or forwarded zone's author, and everyone its inline header names
  (From/To/Cc), become participants with the role ``quoted``. They follow
  ``policy.creation["quoted"]`` (default never: linked when a contact already
  owns the address, else skipped) and give no exchange evidence
  (``matcher.plan.evidence_of``): being quoted is not writing to us.

Fields go only to people: automated, role and internal participants, and
blocklisted addresses, never receive a signature's fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from connectors.base import InvalidInput
from connectors.records import Address, Message
from matcher.participants import Found
from matcher.plan import Observation, ParticipantPlan
from matcher.signatures import AuthorSignature, observations_by_author


@dataclass(frozen=True, slots=True)
class BodyPeople:
    """What one message body says about people, by normalized email."""

    fields: Mapping[str, tuple[Observation, ...]]  # each author's signature fields
    quoted: tuple[Address, ...]  # quoted/forwarded authors and inline-header people, in order


def acting_person(p: ParticipantPlan) -> bool:
    return p.decision != "skip" and p.klass == "person"


def worth_reading(found: Found, decided: Sequence[ParticipantPlan]) -> bool:
    """Whether the body can give anyone a field; known before running the extractor.

    A linked or created person can take their own zone's fields. Without one,
    only a known contact named in an inline header could, and an inline header
    names people by address: no "@" in the text, nobody to find. Automated
    mail (newsletters, notifications, list traffic) is never read: its quoted
    text is not a conversation with us.
    """
    body = found.body
    if body is None or not body.text:
        return False
    if any(acting_person(p) for p in decided):
        return True
    return "@" in body.text and not any(p.klass == "automated" for p in decided)


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
    return BodyPeople(fields_by_author(signatures), quoted_people(signatures, sender))


def fields_by_author(signatures: Iterable[AuthorSignature]) -> dict[str, tuple[Observation, ...]]:
    """Each author's fields; a field an earlier (newer) zone gave is not taken again
    from a later one, so a title quoted from last year's mail does not compete
    with this year's signature."""
    found: dict[str, list[Observation]] = {}
    for signature in sorted(signatures, key=lambda s: s.zone_index):
        if signature.author is None or not signature.observations:
            continue
        taken = found.setdefault(signature.author.email, [])
        known = {o.field for o in taken}
        taken.extend(o for o in signature.observations if o.field not in known)
    return {email: tuple(fields) for email, fields in found.items() if fields}


def quoted_people(
    signatures: Iterable[AuthorSignature], sender: Address | None
) -> tuple[Address, ...]:
    """Authors of quoted and forwarded zones, then the people their headers name."""
    seen = {sender.email} if sender is not None else set()
    people: list[Address] = []
    for signature in sorted(signatures, key=lambda s: s.zone_index):
        named = [address for _, address in signature.people]
        if signature.kind != "own" and signature.author is not None:
            named.insert(0, signature.author)
        for address in named:
            if address.email not in seen:
                seen.add(address.email)
                people.append(address)
    return tuple(people)
