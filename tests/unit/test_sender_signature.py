"""A sender's signature learned from their own mail (a generated history)."""

from __future__ import annotations

from datetime import timedelta

from matcher.body.sender_signature import SenderReading, read_own_zone
from matcher.body.zones import split_zones
from matcher.plan import SenderSignature
from tests.signature_history import BLOCK, SAM, START, message


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


def closed(n: int, block: list[str]) -> str:
    """Message ``n`` with the block under a closing phrase the sender typed."""
    return message(n, block).replace("\n\n" + block[0], "\n\nBest regards,\n" + block[0], 1)


def test_a_new_title_under_a_closing_phrase_is_taken_at_once() -> None:
    promoted = [BLOCK[0], "Director of Procurement", *BLOCK[2:]]
    model = SenderSignature()
    readings = []
    for n, block in enumerate([BLOCK] * 3 + [promoted]):
        [*_, zone] = [z for z in split_zones(closed(n, block), SAM) if z.kind == "own"]
        reading = read_own_zone(model, zone, SAM, START + timedelta(days=n), "US")
        model = reading.model
        readings.append(reading)
    # The sender marked the block: its new line is theirs on first sight, at a
    # single message's confidence; the lines their earlier mail confirms are surer.
    assert readings[3].confirmed
    assert [(o.field, o.value, o.confidence) for o in readings[3].observations] == [
        ("name", "Sam Carter", 0.95),
        ("title", "Director of Procurement", 0.8),
        ("company", "Northwind Traders", 0.9),
        ("address", "350 Mission Street, San Francisco, CA 94105", 0.75),
        ("phone", "+14155550134", 0.9),
    ]
