"""Scored resolution: is an unknown address one of the people we know? Pure.

``score`` weighs two ``Profile`` values (an address being resolved against a
stored contact, or two stored contacts when looking for duplicates) and
says why, item by item: "name 0.96 + same company domain + same mobile".
``resolve_scored`` turns the scores of every candidate into one outcome:

- ``link``: the address is the candidate's. Only on strong evidence: the
  name matches (at least ``Thresholds.name``) *and* something a namesake
  cannot share by chance agrees (a phone number, the thread they wrote in,
  an address the contact used to have), and the score reaches ``link``, and
  no second candidate comes as close. A name alone never links.
- ``review``: likely the candidate, not sure enough: a person decides
  (``autocapture review``). Needs the name and at least one other agreement.
- ``create``: nobody fits; the creation policy decides as before.

The weights are a simple additive model read as log-odds in spirit: the name
can bring at most ``NAME_WEIGHT``, so every link needs corroboration, and
evidence that disagrees (two different mobile numbers, different titles)
takes away. A job change is a link whose address is at a work domain the
contact has no current address at: the outcome says which domain it left.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz

from matcher.identity import company_domains, name_similarity
from matcher.plan import Thresholds
from matcher.profile import Profile

Outcome = Literal["link", "create", "review"]
__all__ = ["Match", "Outcome", "Reason", "Resolution", "Thresholds", "resolve_scored", "score"]

NAME_WEIGHT = 0.6  # the most a name can bring: below every default link threshold
PHONE_WEIGHT = 0.25
COMPANY_WEIGHT = 0.15
TITLE_WEIGHT = 0.1
THREAD_WEIGHT = 0.25  # wrote in a thread they were on, and not beside them
FORMER_ADDRESS_WEIGHT = 0.25
PHONE_CONFLICT = 0.2  # both have a number of one label, none shared
TITLE_CONFLICT = 0.05  # titles change with promotions: a weak disagreement
TITLE_SAME = 90  # rapidfuzz token ratio at which two titles are one

# Agreements a namesake cannot share by chance: only these allow a link.
STRONG = frozenset({"phone", "thread", "former-address"})


@dataclass(frozen=True, slots=True)
class Reason:
    kind: str  # "name", "company", "phone", "title", "thread", "former-address", "conflict"
    text: str  # how it reads: "name 0.96", "same mobile", "different title"


@dataclass(frozen=True, slots=True)
class Match:
    """One candidate's score against the profile being resolved."""

    contact_id: int
    score: float
    name: float  # the name similarity alone
    reasons: tuple[Reason, ...]

    @property
    def strong(self) -> bool:
        return any(r.kind in STRONG for r in self.reasons)

    @property
    def corroborated(self) -> bool:
        return any(r.kind not in ("name", "conflict") for r in self.reasons)

    def explain(self) -> str:
        return " + ".join(r.text for r in self.reasons)


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: Outcome
    contact_id: int | None = None  # the candidate linked to, or proposed for review
    score: float = 0.0
    reasons: str = ""  # "name 0.96 + same company domain + same mobile"
    moved_from: str | None = None  # a link from a new work domain: the domain left behind


def score(query: Profile, candidate: Profile) -> Match:
    """How likely ``candidate`` is the person ``query`` describes, and why."""
    name = name_similarity(query.name, candidate.name)
    reasons = [Reason("name", f"name {name:.2f}")] if name else []
    total = NAME_WEIGHT * name
    for reason, weight in _agreements(query, candidate):
        reasons.append(reason)
        total += weight
    return Match(
        contact_id=candidate.contact_id or 0,
        score=round(min(max(total, 0.0), 1.0), 2),
        name=name,
        reasons=tuple(reasons),
    )


def _agreements(query: Profile, candidate: Profile) -> Iterable[tuple[Reason, float]]:
    if company_domains(query) & company_domains(candidate):
        yield Reason("company", "same company domain"), COMPANY_WEIGHT
    yield from _phones(query, candidate)
    yield from _titles(query.titles, candidate.titles)
    if query.threads & candidate.threads:
        yield Reason("thread", "same thread"), THREAD_WEIGHT
    if query.mailboxes() & candidate.mailboxes("former"):
        yield Reason("former-address", "a former address of theirs"), FORMER_ADDRESS_WEIGHT


def _phones(query: Profile, candidate: Profile) -> Iterable[tuple[Reason, float]]:
    ours = {number for _, number in query.phones}
    shared = sorted(ours & {number for _, number in candidate.phones})
    if shared:
        labels = {label for label, number in (*query.phones, *candidate.phones) if number in shared}
        text = "same mobile" if labels == {"mobile"} else "same phone"
        yield Reason("phone", text), PHONE_WEIGHT
        return
    # Two different mobiles are two people far more often than a new phone.
    mobiles = {n for label, n in query.phones if label == "mobile"}
    theirs = {n for label, n in candidate.phones if label == "mobile"}
    if mobiles and theirs:
        yield Reason("conflict", "different mobile"), -PHONE_CONFLICT


def _titles(ours: frozenset[str], theirs: frozenset[str]) -> Iterable[tuple[Reason, float]]:
    if not ours or not theirs:
        return
    if any(fuzz.token_sort_ratio(a, b) >= TITLE_SAME for a in ours for b in theirs):
        yield Reason("title", "same title"), TITLE_WEIGHT
    else:
        yield Reason("conflict", "different title"), -TITLE_CONFLICT


def resolve_scored(
    query: Profile, candidates: Sequence[Profile], thresholds: Thresholds
) -> Resolution:
    """The outcome for ``query`` given its blocked ``candidates`` (see the module docstring)."""
    matches = sorted(
        (score(query, c) for c in candidates if c.contact_id is not None),
        key=lambda m: (-m.score, m.contact_id),
    )
    eligible = [m for m in matches if m.name >= thresholds.name and m.corroborated]
    if not eligible:
        best = matches[0] if matches else None
        return Resolution(
            "create", None, best.score if best else 0.0, best.explain() if best else ""
        )
    best = eligible[0]
    runner_up = eligible[1].score if len(eligible) > 1 else 0.0
    clear = best.score - runner_up >= thresholds.margin
    if best.score >= thresholds.link and best.strong and clear:
        moved = _moved_from(query, _profile_of(best, candidates))
        return Resolution("link", best.contact_id, best.score, best.explain(), moved)
    if best.score >= thresholds.review:
        return Resolution("review", best.contact_id, best.score, best.explain())
    return Resolution("create", None, best.score, best.explain())


def _profile_of(match: Match, candidates: Sequence[Profile]) -> Profile:
    return next(c for c in candidates if c.contact_id == match.contact_id)


def _moved_from(query: Profile, candidate: Profile) -> str | None:
    """The contact's work domain a link from a new work domain leaves behind, if any."""
    if query.mailboxes() & candidate.mailboxes("former"):
        return None  # their old mail, read again: no move
    new = company_domains(query)
    old = company_domains(candidate, ("current",))
    if not new or not old or new & old:
        return None
    return min(old)


# The rules a scored decision is written with in the plan (``ParticipantPlan.rule``),
# so the decision, its score and its reasons travel with the participant row.
# Reasons never hold a colon; what follows them are markers.
LINK_RULE = "scored"
REVIEW_RULE = "review"
_MOVED = "moved-from="
_SAME_AS = "same-as="


@dataclass(frozen=True, slots=True)
class ScoredRule:
    outcome: Outcome
    score: float
    reasons: str
    moved_from: str | None = None
    # A first sighting in the same batch this address is the same person as:
    # storage gives both mailboxes one new contact.
    same_as: str | None = None


def rule_of(resolution: Resolution, same_as: str | None = None) -> str:
    """ "scored:0.91:name 0.96 + same mobile", with ":moved-from=acme.com" for a move
    and ":same-as=MAILBOX" for a link to a contact the same batch creates."""
    head = LINK_RULE if resolution.outcome == "link" else REVIEW_RULE
    rule = f"{head}:{resolution.score:.2f}:{resolution.reasons}"
    if resolution.moved_from:
        rule += f":{_MOVED}{resolution.moved_from}"
    return f"{rule}:{_SAME_AS}{same_as}" if same_as else rule


# Storage asks again for every participant of every batch, of a few distinct rules.
@functools.lru_cache(maxsize=4096)
def parse_rule(rule: str) -> ScoredRule | None:
    """The scored decision a rule written by ``rule_of`` describes; None for other rules."""
    head, *parts = rule.split(":")
    if head not in (LINK_RULE, REVIEW_RULE) or len(parts) < 2:
        return None
    value, *rest = parts
    try:
        number = float(value)
    except ValueError:
        return None
    markers = dict(m.split("=", 1) for m in rest[1:] if "=" in m)
    # A mailbox key may itself hold a colon nowhere (RFC 5321 local parts can, quoted):
    # the same-as marker is last, so its value is everything after it.
    same = rule.partition(f":{_SAME_AS}")[2] or None
    outcome: Outcome = "link" if head == LINK_RULE else "review"
    return ScoredRule(outcome, number, rest[0], markers.get("moved-from"), same)
