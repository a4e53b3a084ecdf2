"""A candidate block's evidence, and the judge that decides whether it is a signature."""

from __future__ import annotations

from connectors.records import Address
from matcher.body.block_evidence import BlockEvidence, Weights, hand_confidence, weighed
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


def test_the_shipped_judge_weighs_the_counts() -> None:
    # phone 0.1 + legal form 0.2 + two contact lines 0.6 + title 0.2 + name 0.2 + "-- " 0.4
    assert round(hand_confidence(EVIDENCE), 2) == 1.7
    shipped = find_signature(zone())
    assert shipped is not None and shipped.confidence == 1.0  # capped at 1
    # A phone list or a form is no one's signature, whatever else it holds.
    assert hand_confidence(BlockEvidence("delimiter", lines=6, contact=6, phone=5)) == 0.0
    assert hand_confidence(BlockEvidence("closing", lines=2, other=1, form=2)) == 0.0


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
    only_contact = Weights(0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0)
    assert weighed(EVIDENCE, only_contact) == 1.0
    assert weighed(BlockEvidence("top", lines=3, contact=3), only_contact) == 1.0
    opened = Weights(phone=0.0, legal=0.0, contact=0.0, other=0.0, name=0.0, delimiter=0.3)
    assert round(weighed(EVIDENCE, opened), 2) == 0.3
    # A weight not given keeps the shipped value: a closing phrase's 0.2.
    assert round(weighed(BlockEvidence("closing", lines=1, contact=1), opened), 2) == 0.2
    # Prose pulls down, never below 0; the vetoes hold whatever the weights.
    assert weighed(BlockEvidence("top", lines=3, contact=1, prose=2), Weights(prose=-0.4)) == 0.0
    assert weighed(BlockEvidence("delimiter", lines=6, contact=6, phone=5), Weights(phone=9)) == 0.0
