"""Resolution: link each participant to a contact, create one, or skip it, and say why.

Matching is by mailbox (``matcher.mailboxes``: the written address, or the
mailbox its provider documents it delivers to); the creation policy decides
for mailboxes no contact owns yet. ``contacts`` mappings below are by
written email, evidence by mailbox. Evidence for the policy is what storage
already knows (``Directory.evidence``) merged with what this batch shows,
both computed by ``matcher.plan.evidence_of``, so a decision does not depend
on where batch boundaries fell. A person no contact owns is then weighed
against likely contacts (``matcher.scored``): linked, sent to review, or
left to the policy.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace

from connectors.records import Address
from matcher.classify import Perimeter, classify
from matcher.companies import COMPANY_CONFIDENCE, Company, company_of
from matcher.departures import with_departures
from matcher.enrich import (
    BodyPeople,
    acting_person,
    first_readings,
    own_senders,
    pending,
    signed_readings,
    takes_fields,
)
from matcher.names import name_observations
from matcher.participants import MAX_PARTICIPANTS, Found, FoundParticipant
from matcher.plan import (
    LIST_ADDRESS,
    AccountPolicy,
    Decision,
    Directory,
    Evidence,
    InteractionPlan,
    Observation,
    ParticipantClass,
    ParticipantPlan,
    Plan,
    evidence_of,
    merge_evidence,
    policy_allows,
)
from matcher.scored import score_misses


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    rule: str


def decide(
    participant: FoundParticipant,
    contact_id: int | None,
    evidence: Evidence | None,
    policy: AccountPolicy,
) -> Outcome:
    # An existing contact is linked whatever its class: the policy governs
    # creation only, and dropping a known contact's interactions loses history.
    if contact_id is not None:
        return Outcome("link", "exact-email")
    klass = participant.klass
    key: str = klass
    if participant.role == "quoted":
        # Named only inside a body: people follow their own policy (default
        # never), and no other class is ever created from a quote.
        key = "quoted" if klass == "person" else ""
    when = policy.creation.get(key, "never")
    if when == "never":
        return Outcome("skip", f"class:{key or klass}")
    if policy_allows(when, evidence):
        return Outcome("create", f"policy:{key}:{when}")
    return Outcome("skip", f"policy:{key}:{when}:unmet")


def contact_fields(
    participant: FoundParticipant,
) -> tuple[tuple[Observation, ...], Company | None]:
    """Observations and work-domain company a link or create applies to the contact."""
    return _header_fields(participant.address, participant.klass)


# A correspondent's header fields are the same in every message they are on:
# remembered, they are worked out once per address, name and class.
@functools.lru_cache(maxsize=4096)
def _header_fields(
    address: Address, klass: ParticipantClass
) -> tuple[tuple[Observation, ...], Company | None]:
    company = None if klass == "internal" else company_of(address.domain)
    names = name_observations(address, klass, company.name if company else None)
    if company is None:
        return names, None
    return (*names, Observation("company", company.name, COMPANY_CONFIDENCE)), company


def known_lists(found: Found, evidence: Mapping[str, Evidence]) -> Found:
    """``found`` with every address a mailing list named as its own made automated.

    A reply to a list carries no list header: only what an earlier (or
    another) message of the list said tells that its address is no person.
    """
    if not any(_listed(p, evidence) for p in found.participants):
        return found
    participants = tuple(
        replace(p, klass="automated", reason=f"{LIST_ADDRESS}known") if _listed(p, evidence) else p
        for p in found.participants
    )
    return replace(found, participants=participants)


def _listed(participant: FoundParticipant, evidence: Mapping[str, Evidence]) -> bool:
    seen = evidence.get(participant.email)
    return seen is not None and seen.listed and participant.klass in ("person", "role")


def batch_evidence(
    drafts: Sequence[InteractionPlan], stored: Mapping[str, Evidence]
) -> dict[str, Evidence]:
    merged = dict(stored)
    for draft in drafts:
        for email, seen in evidence_of(draft).items():
            merged[email] = merge_evidence(merged.get(email), seen)
    return merged


def _planned(
    participant: FoundParticipant,
    contacts: Mapping[str, int],
    evidence: Mapping[str, Evidence],
    policy: AccountPolicy,
    *,
    with_header_fields: bool = True,
) -> ParticipantPlan:
    contact_id = contacts.get(participant.email)
    outcome = decide(participant, contact_id, evidence.get(participant.key), policy)
    observations: tuple[Observation, ...] = ()
    company = None
    # A person the policy may create later keeps the fields too: storage holds
    # them for the address, so its contact gets them whichever mail came first.
    keeps = outcome.decision != "skip" or (participant.klass == "person" and pending(outcome.rule))
    if keeps and with_header_fields:
        observations, company = contact_fields(participant)
    return ParticipantPlan(
        email=participant.email,
        name=participant.address.name,
        role=participant.role,
        klass=participant.klass,
        decision=outcome.decision,
        rule=outcome.rule,
        response_status=participant.response_status,
        contact_id=contact_id,
        observations=observations,
        company_domain=company.domain if company else None,
        company_name=company.name if company else None,
        class_reason=participant.reason,
        meeting_role=participant.meeting_role,
        mailbox=participant.mailbox,
    )


def with_signatures(
    decided: Sequence[ParticipantPlan],
    sender: Address | None,
    body: BodyPeople,
    contacts: Mapping[str, int],
    evidence: Mapping[str, Evidence],
    policy: AccountPolicy,
    forgotten: Collection[str] = (),
    perimeter: Perimeter | None = None,
) -> list[ParticipantPlan]:
    """The header participants, the sender with their signature's fields, then the
    quoted people with theirs (but none of the ``forgotten`` emails).

    Other header participants take nothing from the body: what it quotes of
    theirs is a copy of a signature their own mail gave, dated later than it
    was written, and taking it again could restore a title they have changed.
    """
    # The signature's fields go first: on equal confidence storage keeps the
    # first observation of a field, and a person's own signature knows better
    # than a display name or a domain label.
    own = body.fields.get(sender.email, ()) if sender is not None else ()
    planned = [
        replace(p, observations=(*own, *p.observations))
        if own and sender is not None and p.email == sender.email and takes_fields(p)
        else p
        for p in decided
    ]
    # ``resolve`` passes the batch's perimeter: built per message, it cost more than the body.
    perimeter = perimeter or Perimeter.of(policy)
    present = {p.email for p in planned}
    for address in body.quoted:
        if len(planned) >= MAX_PARTICIPANTS:
            break
        if address.email in present or perimeter.blocks(address.email):
            continue
        if address.email in forgotten:
            continue
        present.add(address.email)
        kind = classify(address, perimeter)
        key = perimeter.mailbox(address.email)
        quoted = FoundParticipant(address, "quoted", kind.klass, kind.reason, mailbox=key)
        plan = _planned(quoted, contacts, evidence, policy, with_header_fields=False)
        if acting_person(plan) and address.email in body.fields:
            plan = replace(plan, observations=body.fields[address.email])
        planned.append(plan)
    return planned


def _forgotten(directory: Directory, keys: Mapping[str, str]) -> set[str]:
    """The emails (of ``keys``: email -> mailbox key) whose spelling or mailbox was forgotten."""
    if not keys:
        return set()
    erased = set(directory.forgotten(sorted(set(keys) | set(keys.values()))))
    return {e for e, k in keys.items() if e in erased or k in erased}


def _without_forgotten(
    found: Sequence[Found], directory: Directory, early: Mapping[int, BodyPeople] | None
) -> tuple[list[Found], Mapping[int, BodyPeople] | None]:
    """Drafts without forgotten people, so old mail read again never brings them back.

    A draft whose every party outside the org was forgotten is dropped whole,
    as capture drops one whose outsiders are all blocklisted: what would be
    left is still that person's correspondence.
    """
    erased = _forgotten(directory, {p.email: p.key for f in found for p in f.participants})
    if not erased:
        return list(found), early
    kept: list[Found] = []
    readings: dict[int, BodyPeople] = {}  # ``early`` is by index: renumbered with the drafts
    for i, f in enumerate(found):
        people = tuple(p for p in f.participants if p.email not in erased)
        if len(people) < len(f.participants):
            if all(p.klass == "internal" for p in people):
                continue
            f = replace(f, participants=people)
        if early is not None and i in early:
            readings[len(kept)] = early[i]
        kept.append(f)
    return kept, readings if early is not None else None


def _owners(directory: Directory, keys: Mapping[str, str]) -> dict[str, int]:
    """The contact of each written email, found by its mailbox key (``keys``: email -> key)."""
    if not keys:
        return {}
    by_key = directory.contact_ids(sorted(set(keys.values())))
    return {email: by_key[key] for email, key in keys.items() if key in by_key}


def resolve(
    found: Sequence[Found],
    directory: Directory,
    policy: AccountPolicy,
    early: Mapping[int, BodyPeople] | None = None,
) -> Plan:
    """The plan for a batch of drafts: one decision per participant, each with its rule.

    Header participants are decided first; then the bodies worth reading give
    signature fields and quoted people (``matcher.enrich``), whose contacts
    are looked up in one more directory call. ``early``: the drafts'
    ``enrich.early_readings``, when they were made ahead.
    """
    found, early = _without_forgotten(found, directory, early)
    keys = {p.email: p.key for f in found for p in f.participants}
    contacts = _owners(directory, keys)
    stored = directory.evidence(sorted(set(keys.values()))) if keys else {}
    evidence = batch_evidence([f.draft() for f in found], stored)
    found = [known_lists(f, evidence) for f in found]
    # A batch names the same correspondents in the same roles again and again;
    # a participant's plan depends on nothing else here, so each is made once.
    plans: dict[FoundParticipant, ParticipantPlan] = {}
    decided = [
        [
            plans.get(p) or plans.setdefault(p, _planned(p, contacts, evidence, policy))
            for p in f.participants
        ]
        for f in found
    ]
    bodies = first_readings(found, decided, policy.phone_region, early)
    # Header addresses were looked up above; only people seen solely in bodies are new.
    perimeter = Perimeter.of(policy)
    quoted = {
        a.email: perimeter.mailbox(a.email)
        for b in bodies.values()
        for a in b.quoted
        if a.email not in keys
    }
    erased = _forgotten(directory, quoted)
    quoted = {e: k for e, k in quoted.items() if e not in erased}
    if quoted:
        contacts.update(_owners(directory, quoted))
        if policy.creation.get("quoted", "never") not in ("never", "always"):
            evidence.update(directory.evidence(sorted(set(quoted.values()))))
    senders = sorted(set(own_senders(found, decided, bodies).values()))
    models = directory.sender_signatures(senders) if senders else {}
    bodies, learned = signed_readings(found, decided, bodies, contacts, policy, models)
    interactions = tuple(
        f.draft(
            with_signatures(
                people, f.sender, bodies[i], contacts, evidence, policy, erased, perimeter
            )
            if i in bodies
            else people
        )
        for i, (f, people) in enumerate(zip(found, decided, strict=True))
    )
    # Only addresses no contact owns are weighed against likely contacts.
    interactions = score_misses(interactions, directory, policy)
    interactions = with_departures(found, interactions, perimeter.mailbox)
    changed = {k: m for k, m in learned.items() if models.get(k) != m}
    return Plan(account=policy.account, interactions=interactions, sender_signatures=changed)
