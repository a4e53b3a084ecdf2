"""Forgotten people are left out of plans, as blocklisted ones are."""

from __future__ import annotations

from dataclasses import replace

from connectors.records import Message
from matcher import InMemoryDirectory, plan_batch, plan_reading, read_batch
from tests.builders import OWNER, mail, policy

BOB_SIGNED = "Talk soon.\n\nBob Smith\nFounder, Smith & Co\n+44 20 7946 0958\n"
SIGNED = "See you Tuesday.\n\nCarol Diaz\nCFO, Acme\n+1 202 555 0143\n"


def batch() -> list[Message]:
    return [
        replace(
            mail(("From", "Bob <B.O.B.Smith@gmail.com>"), ("To", OWNER), text=BOB_SIGNED),
            message_id="b1@x",
        ),
        replace(
            mail(
                ("From", "Carol Diaz <carol@acme.com>"),
                ("To", OWNER),
                ("Cc", "bobsmith+x@googlemail.com"),
                text=SIGNED,
            ),
            message_id="c1@x",
        ),
    ]


def test_a_forgotten_mailbox_is_left_out_and_an_item_with_only_him_is_dropped() -> None:
    directory = InMemoryDirectory(erased={"bobsmith@gmail.com"})
    plan = plan_batch(batch(), policy("always"), directory)
    assert [
        (i.identity, [(p.email, p.decision) for p in i.participants]) for i in plan.interactions
    ] == [("msgid:c1@x", [("carol@acme.com", "create"), (OWNER, "skip")])]
    (carol,) = [p for p in plan.interactions[0].participants if p.email == "carol@acme.com"]
    assert ("title", "CFO") in {(o.field, o.value) for o in carol.observations}
    # Read ahead or not, the same plan: the early readings follow their drafts.
    ahead = plan_reading(read_batch(batch(), policy("always")), policy("always"), directory)
    assert ahead == plan


def test_nothing_forgotten_changes_nothing() -> None:
    plan = plan_batch(batch(), policy("always"), InMemoryDirectory())
    assert [len(i.participants) for i in plan.interactions] == [2, 3]
