"""Blocking and pair generation of the duplicate scan, apart from the scorer's weights."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from matcher.duplicates import duplicates, keys_of, pairs_in_block
from matcher.identity import parse_name
from matcher.plan import Thresholds
from matcher.profile import Profile
from matcher.scoring import Resolution


def profile(i: int, name: str, address: str, *phones: str) -> Profile:
    return Profile(
        i,
        parse_name(name),
        addresses=((address, "current"),),
        phones=tuple(("mobile", p) for p in phones),
    )


BOB = profile(1, "Bob Smith", "bob@acme.com", "+447700900123")
ROBERT = profile(2, "Robert Smith", "robert.smith@acme.com", "+447700900123")
ROB = profile(3, "Rob Smith", "rob.smith@globex.com")
ANN = profile(4, "Ann Jones", "ann@acme.com", "+447700900123")
HOME = profile(5, "Robert Smith", "robert.smith@gmail.com", "+447700900123")


def blocks(*members: Profile) -> list[tuple[str, list[Profile]]]:
    index: dict[str, list[Profile]] = {}
    for p in members:
        for key in keys_of(p):
            index.setdefault(key, []).append(p)
    return sorted((k, v) for k, v in index.items() if len(v) > 1)


def test_keys_are_name_forms_and_phones_not_domains() -> None:
    assert "p:+447700900123" in keys_of(BOB)
    assert {"n:smith:bob", "n:smith:robert", "n:smith:b", "n:smith:r"} <= keys_of(BOB)
    assert not any(k.startswith("d:") for k in keys_of(BOB))


def test_each_pair_is_compared_once_however_many_keys_it_shares() -> None:
    asked: list[tuple[int, int]] = []

    def scorer(query: Profile, candidates: Sequence[Profile], t: Thresholds) -> Resolution:
        asked.append((query.contact_id or 0, candidates[0].contact_id or 0))
        return Resolution("review", candidates[0].contact_id, 0.8, "stub reasons")

    found = list(duplicates(blocks(BOB, ROBERT, ROB, ANN), Thresholds(), scorer=scorer))
    assert sorted(asked) == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4)]
    assert [(d.first, d.second, d.outcome) for d in found] == [(a, b, "review") for a, b in asked]


def test_a_pair_sharing_only_an_oversized_key_besides_this_one_is_compared_here() -> None:
    keys = {p.contact_id or 0: keys_of(p) for p in (BOB, ROBERT)}
    earliest = min(keys[1] & keys[2])
    later = max(keys[1] & keys[2])
    assert list(pairs_in_block(later, [BOB, ROBERT], keys)) == []
    others = (keys[1] & keys[2]) - {later}
    assert list(pairs_in_block(later, [ROBERT, BOB], keys, oversized=others)) == [(BOB, ROBERT)]
    assert list(pairs_in_block(earliest, [BOB, ROBERT], keys)) == [(BOB, ROBERT)]


def test_real_scoring_links_strong_evidence_and_never_a_name_alone() -> None:
    """Rob at another company shares only a name form: never a duplicate. Ann shares the
    mobile only. Bob at acme and his free-mail self have no company to agree on."""
    found = list(duplicates(blocks(BOB, ROBERT, ROB, ANN, HOME), Thresholds()))
    assert [(d.first, d.second, d.outcome, d.score, d.reasons) for d in found] == [
        (1, 2, "link", 0.98, "name 0.97 + same company domain + same mobile"),
        (1, 5, "review", 0.83, "name 0.97 + same mobile"),  # a nickname and a phone: ask
        (2, 5, "link", 0.85, "name 1.00 + same mobile"),
    ]


def test_a_pair_a_person_kept_apart_in_review_is_no_duplicate() -> None:
    """Someone rejected Robert's work address for Bob: they are not proposed as one."""
    apart = replace(BOB, rejected=frozenset({"robert.smith@acme.com"}))
    found = list(duplicates(blocks(apart, ROBERT, HOME), Thresholds()))
    assert [(d.first, d.second, d.outcome) for d in found] == [
        (1, 5, "review"),
        (2, 5, "link"),
    ]
