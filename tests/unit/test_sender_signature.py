"""A sender's signature learned from their own mail (a generated history)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from matcher.body.sender_signature import SenderReading, SenderSignature, read_own_zone
from matcher.body.zones import split_zones
from tests.builders import SAM

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# No delimiter, no closing phrase: five lines under the sender's text.
BLOCK = [
    "Sam Carter",
    "Head of Procurement",
    "Northwind Traders",
    "350 Mission Street, San Francisco, CA 94105",
    "+1 415 555 0134",
]
PROSE = [
    "Thursday works for us, I will bring the revised quote.",
    "The pallets left the warehouse this morning and should arrive on Monday.",
    "Could you send the signed order form back by Friday?",
    "We have approved the second supplier, details in the attachment.",
    "Please use the new delivery address from next month on.",
]


def message(n: int, block: list[str]) -> str:
    """Message ``n`` of the history; the reply position varies with ``n``."""
    own = f"{PROSE[n % len(PROSE)]}\nRef {1000 + n}.\n\n" + "\n".join(block) + "\n"
    quoted = f"> Hi Sam, question number {n} about order {2000 + n}?\n> Thanks, Jane\n"
    match n % 4:
        case 0:  # top-posted reply with an attribution line
            return f"{own}\nOn Mon, Mar 2, 2026 at 9:00 AM Jane Roe <jane@acme.example> wrote:\n{quoted}"
        case 1:  # new mail
            return own
        case 2:  # bottom-posted under an anonymous quote
            return f"{quoted}\n{own}"
        case _:  # Outlook-style header, no quote markers
            return (
                f"{own}\n-----Original Message-----\nFrom: Jane Roe <jane@acme.example>\n"
                f"Sent: Monday, March 2, 2026 9:00 AM\nTo: Sam Carter <{SAM.email}>\n"
                f"Subject: Order {2000 + n}\n\nHi Sam, question {n}?\nJane\n"
            )


def history(blocks: list[list[str]]) -> list[SenderReading]:
    model = SenderSignature()
    readings = []
    for n, block in enumerate(blocks):
        zones = [z for z in split_zones(message(n, block), SAM) if z.kind == "own"]
        reading = read_own_zone(model, zones[-1], SAM, START + timedelta(days=n), "US")
        model = reading.model
        readings.append(reading)
    return readings


def titles(reading: SenderReading) -> list[str]:
    return [o.value for o in reading.observations if o.field == "title"]


def test_a_stable_block_is_found_in_every_reply_position() -> None:
    readings = history([BLOCK] * 30)
    found = [r for r in readings if r.block is not None and r.block.text == "\n".join(BLOCK)]
    assert len(found) >= 29
    confirmed = [r for r in readings if r.confirmed]
    assert len(confirmed) == 29  # from the second message on: the first showed the block
    for r in confirmed:
        assert [(o.field, o.value) for o in r.observations] == [
            ("name", "Sam Carter"),
            ("title", "Head of Procurement"),
            ("company", "Northwind Traders"),
            ("address", "350 Mission Street, San Francisco, CA 94105"),
            ("phone", "+14155550134"),
        ]
    single = next(r for r in readings if not r.confirmed and r.observations)
    title = next(o for o in confirmed[0].observations if o.field == "title")
    assert title.confidence > next(o for o in single.observations if o.field == "title").confidence


def test_a_new_title_is_one_dated_change() -> None:
    promoted = [BLOCK[0], "Director of Procurement", *BLOCK[2:]]
    readings = history([BLOCK] * 19 + [promoted] * 11)
    seen = [(n, t) for n, r in enumerate(readings) for t in titles(r)]
    changes = [(n, t) for (n, t), (_, before) in zip(seen[1:], seen, strict=False) if t != before]
    assert changes == [(20, "Director of Procurement")]  # its second message confirms it
    assert titles(readings[19]) == []  # first seen: held back, not yet the sender's


def test_a_one_off_line_that_looks_like_a_title_is_not_taken() -> None:
    one_off = [*BLOCK[:2], "Acting Chair, Safety Committee", *BLOCK[2:]]
    readings = history([BLOCK] * 10 + [one_off] + [BLOCK] * 5)
    assert readings[10].confirmed and readings[10].block is not None
    assert "Acting Chair, Safety Committee" in readings[10].block.text
    taken = {o.value for r in readings for o in r.observations}
    assert not any("Safety Committee" in value for value in taken)
    assert all(titles(r) == ["Head of Procurement"] for r in readings[2:])
