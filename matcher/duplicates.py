"""Duplicate pairs among stored contacts, judged as resolution judges an address. Pure.

The scan (``storage.dedupe``) groups contacts by blocking key
(``matcher.identity.search_keys``: surname with each given-name form, phone
numbers) and hands each group here. Two contacts are compared only inside a
group, and only in the first group (by key order) they share, so a pair is
weighed once however many keys the two have in common, without remembering
the pairs already seen. A group larger than ``MAX_BLOCK`` ("n:smith:j")
cannot tell its members apart and is not compared; a fuller key
(``n:smith:john``) or a shared phone still brings the right pairs together.

Each pair is judged by ``judge``: the lower id is the profile being
resolved and the other its only candidate, through the same
``resolve_scored`` and thresholds capture uses, so "duplicate" means
exactly what "this address is that contact" means during capture: ``link``
(strong evidence, safe to merge automatically) or ``review`` (a person
decides). The scorer is a parameter so the scan's blocking and streaming
can be tested apart from the weights.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from matcher.identity import name_similarity, search_keys
from matcher.plan import Thresholds
from matcher.profile import Profile
from matcher.scoring import Resolution, resolve_scored

Scorer = Callable[[Profile, Sequence[Profile], Thresholds], Resolution]


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Two contacts that are likely one person; ``first`` is the older (lower id)."""

    first: int
    second: int
    outcome: str  # "link": safe to merge automatically; "review": a person decides
    score: float
    reasons: str  # "name 0.95 + same company domain + same mobile"


@functools.lru_cache(maxsize=65_536)
def keys_of(profile: Profile) -> frozenset[str]:
    """The blocking keys a contact is grouped by (a company domain alone finds colleagues).

    Cached: a contact sits in several blocks of one group.
    """
    return search_keys(profile)


def pairs_in_block(
    key: str,
    members: Sequence[Profile],
    keys: Mapping[int, frozenset[str]],
    oversized: Collection[str] = (),
) -> Iterator[tuple[Profile, Profile]]:
    """The pairs of one block that share no earlier compared key: each pair from one block only.

    ``keys``: every member's keys, by contact id; ``oversized``: the keys whose
    blocks are not compared (a pair sharing only those and this one is this block's).
    """
    ordered = sorted(members, key=lambda p: p.contact_id or 0)
    for n, a in enumerate(ordered):
        for b in ordered[n + 1 :]:
            shared = (keys[a.contact_id or 0] & keys[b.contact_id or 0]).difference(oversized)
            if min(shared, default=key) == key:
                yield a, b


def judge(
    a: Profile, b: Profile, thresholds: Thresholds, scorer: Scorer = resolve_scored
) -> Duplicate | None:
    """The pair as a duplicate, or None when resolution would keep them apart.

    Resolution neither links nor reviews below ``thresholds.name``, so a pair
    whose names are further apart (most pairs of an initial's block: "J.
    Smith" brings John and Jane together) skips the rest of the score.
    """
    if scorer is resolve_scored and name_similarity(a.name, b.name) < thresholds.name:
        return None
    if a.mailboxes() & b.rejected or b.mailboxes() & a.rejected:
        return None  # a person said an address of one is not the other's (a rejected review)
    resolution = scorer(a, [b], thresholds)
    if resolution.outcome == "create":
        return None
    first, second = sorted((a.contact_id or 0, b.contact_id or 0))
    return Duplicate(first, second, resolution.outcome, resolution.score, resolution.reasons)


def duplicates(
    blocks: Iterable[tuple[str, Sequence[Profile]]],
    thresholds: Thresholds,
    oversized: Collection[str] = (),
    scorer: Scorer = resolve_scored,
) -> Iterator[Duplicate]:
    """Every duplicate pair of the blocks, each once, block by block.

    ``blocks``: (key, members) of the blocks to compare, members' keys being
    ``keys_of``; ``oversized``: the keys of blocks left out for their size.
    """
    for key, members in blocks:
        keys = {p.contact_id or 0: keys_of(p) for p in members}
        for a, b in pairs_in_block(key, members, keys, oversized):
            if found := judge(a, b, thresholds, scorer):
                yield found
