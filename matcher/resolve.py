"""Resolution: link each participant to a contact, create one, or skip it, and say why.

Matching is by normalized email only (exact); the creation policy decides
for addresses no contact owns yet. Evidence for the policy is what storage
already knows (``Directory.evidence``) merged with what this batch shows,
both computed by ``matcher.plan.evidence_of``, so a decision does not depend
on where batch boundaries fell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from matcher.companies import COMPANY_CONFIDENCE, Company, company_of
from matcher.names import name_observations
from matcher.participants import Found, FoundParticipant
from matcher.plan import (
    AccountPolicy,
    Decision,
    Directory,
    Evidence,
    InteractionPlan,
    Observation,
    ParticipantPlan,
    Plan,
    evidence_of,
    merge_evidence,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    decision: Decision
    rule: str


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
    when = policy.creation.get(klass, "never")
    if when == "never":
        return Outcome("skip", f"class:{klass}")
    if policy_allows(when, evidence):
        return Outcome("create", f"policy:{klass}:{when}")
    return Outcome("skip", f"policy:{klass}:{when}:unmet")


def contact_fields(
    participant: FoundParticipant,
) -> tuple[tuple[Observation, ...], Company | None]:
    """Observations and work-domain company a link or create applies to the contact."""
    company = None if participant.klass == "internal" else company_of(participant.address.domain)
    names = name_observations(
        participant.address, participant.klass, company.name if company else None
    )
    if company is None:
        return names, None
    return (*names, Observation("company", company.name, COMPANY_CONFIDENCE)), company


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
) -> ParticipantPlan:
    contact_id = contacts.get(participant.email)
    outcome = decide(participant, contact_id, evidence.get(participant.email), policy)
    observations: tuple[Observation, ...] = ()
    company = None
    if outcome.decision != "skip":
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
    )


def resolve(found: Sequence[Found], directory: Directory, policy: AccountPolicy) -> Plan:
    """The plan for a batch of drafts: one decision per participant, each with its rule."""
    emails = sorted({p.email for f in found for p in f.participants})
    contacts = directory.contact_ids(emails) if emails else {}
    stored = directory.evidence(emails) if emails else {}
    evidence = batch_evidence([f.draft() for f in found], stored)
    interactions = tuple(
        f.draft([_planned(p, contacts, evidence, policy) for p in f.participants]) for f in found
    )
    return Plan(account=policy.account, interactions=interactions)
