"""A candidate block's evidence, and the judge that decides whether it is a signature."""

from __future__ import annotations

import json
from dataclasses import asdict, replace

import pytest

from connectors.records import Address
from matcher.body.block_evidence import (
    SHIPPED_WEIGHTS,
    BlockEvidence,
    Weights,
    shipped_confidence,
    shipped_weights,
    weighed,
)
from matcher.body.signatures import candidates, find_signature
from matcher.body.zones import Zone, split_zones

JANE = Address.of("jane.doe@acme-energy.com", "Jane Doe")
SIGNED = (
    "Hi Bob,\n\nthe contract is signed; I will send a copy tomorrow.\n\n"
    "-- \n"
    "Jane Doe\n"
    "Head of Sales | Acme Energy Inc.\n"
    "Office: (713) 555-0142\n"
    "jane.doe@acme-energy.com\n"
)
EVIDENCE = BlockEvidence(
    opener="delimiter", lines=4, contact=2, phone=1, other=1, legal=1, name=1, prose=0, form=0
)


def zone() -> Zone:
    [only] = split_zones(SIGNED, JANE)
    return only


def test_a_block_is_counted_line_by_line() -> None:
    [candidate] = candidates(zone())
    assert (candidate.start, candidate.end) == (5, 9)  # the lines below "-- "
    assert candidate.evidence == EVIDENCE


def test_the_shipped_judge_weighs_the_counts_with_the_fitted_weights() -> None:
    # matcher/data/block_weights.json, as bench/fit_block_weights.py fitted it.
    assert asdict(SHIPPED_WEIGHTS) == {
        **{"phone": 0.2, "legal": 0.4, "contact": 0.2, "other": 0.5, "name": 0.2},
        **{"prose": -0.4, "delimiter": 0.4, "closing": 0.0},
    }
    # phone 0.2 + legal form 0.4 + two contact lines 0.4 + title 0.5 + name 0.2 + "-- " 0.4
    assert round(shipped_confidence(EVIDENCE), 2) == 2.1
    shipped = find_signature(zone())
    assert shipped is not None and shipped.confidence == 1.0  # capped at 1
    # A phone list or a form is no one's signature, whatever else it holds.
    assert shipped_confidence(BlockEvidence("delimiter", lines=6, contact=6, phone=5)) == 0.0
    assert shipped_confidence(BlockEvidence("closing", lines=2, other=1, form=2)) == 0.0


def test_the_weights_file_names_every_weight_once_as_a_number() -> None:
    given = asdict(SHIPPED_WEIGHTS)
    assert shipped_weights(json.dumps({"weights": given})) == SHIPPED_WEIGHTS
    missing = {k: v for k, v in given.items() if k != "closing"}
    with pytest.raises(ValueError, match=r"expected \['closing', 'contact'"):
        shipped_weights(json.dumps({"weights": missing}))
    with pytest.raises(ValueError, match="expected"):
        shipped_weights(json.dumps({"weights": {**given, "signoff": 0.3}}))
    with pytest.raises(ValueError, match="a number"):
        shipped_weights(json.dumps({"weights": {**given, "phone": "0.2"}}))
    with pytest.raises(ValueError, match="a number"):
        shipped_weights(json.dumps({"weights": {**given, "phone": True}}))


def test_another_judge_decides_alone() -> None:
    asked: list[BlockEvidence] = []

    def refuses(ev: BlockEvidence) -> float:
        asked.append(ev)
        return 0.0

    assert find_signature(zone(), refuses) is None
    # Asked for the block at the end, then for the same lines as an inner block.
    assert asked == [EVIDENCE, EVIDENCE]
    block = find_signature(zone(), lambda ev: 0.55)
    assert block is not None and block.confidence == 0.55
    assert block.text.splitlines() == SIGNED.splitlines()[5:9]


def test_other_weights_weigh_the_same_counts() -> None:
    # What the bench fits per fold: each count times its own weight, the caps kept
    # (one phone, one legal form, two contact lines, two others, one name).
    nothing = Weights(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    only_contact = replace(nothing, contact=0.5)
    assert weighed(EVIDENCE, only_contact) == 1.0
    assert weighed(BlockEvidence("top", lines=3, contact=3), only_contact) == 1.0
    opened = replace(nothing, delimiter=0.3, closing=0.2)
    assert round(weighed(EVIDENCE, opened), 2) == 0.3
    assert round(weighed(BlockEvidence("closing", lines=1, contact=1), opened), 2) == 0.2
    # Prose pulls down, never below 0; the vetoes hold whatever the weights.
    pulled = replace(only_contact, prose=-0.4)
    assert weighed(BlockEvidence("top", lines=3, contact=1, prose=2), pulled) == 0.0
    listed = replace(nothing, phone=9.0, contact=0.5)
    assert weighed(BlockEvidence("delimiter", lines=6, contact=6, phone=5), listed) == 0.0
