"""A sender's signature learned from their own mail: the lines that recur at
the end of their own zones.

One message can only guess which of its last lines are a signature; a
sender's mail answers it: their block comes back, message after message,
whatever they wrote above it and whatever they quote below. So each
sender keeps a small model - the normalized lines seen at the end of their
own text, with how many messages carried each - and a new message's block
is the run of lines at the end of its own text that the model has seen
before, delimiter or closing phrase or not.

A line the model has not seen recur (a new title, a one-off line that only
looks like a title) is held back: it is read only once a later message
repeats it, so a one-off is never taken and a changed title is taken from
its second message on. Fields read from a block confirmed by repetition
are surer than those of a single message.

Pure: the model is a value, updated and returned; the caller stores it
(per address) and passes message dates in.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from connectors.records import Address
from matcher.body import signature_lines as sl
from matcher.body.signature_fields import SignatureBlock, signature_fields
from matcher.body.signatures import MAX_BLOCK_LINES, _content_end, find_signature
from matcher.body.zones import Zone
from matcher.plan import Observation

MIN_REPEATS = 2  # messages, this one included, a line must end to be part of the block
MAX_KNOWN_LINES = 64  # per sender; the least recently seen lines go first
TAIL_LINES = MAX_BLOCK_LINES + 2  # lines read at the end of each own zone
MAX_GAP = 1  # unconfirmed lines in a row allowed inside a confirmed block
CONFIRMED = 0.95  # the block's confidence when repetition confirms it


@dataclass(frozen=True, slots=True)
class KnownLine:
    text: str  # normalized: whitespace collapsed, case folded
    seen: int  # messages whose own text ended with it
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class SenderSignature:
    """What one sender's own mail has shown so far."""

    lines: tuple[KnownLine, ...] = ()
    messages: int = 0

    def repeats(self, line: str) -> bool:
        key = normalized(line)
        return any(k.text == key and k.seen >= MIN_REPEATS - 1 for k in self.lines)


@dataclass(frozen=True, slots=True)
class SenderReading:
    """One message's block and fields as the sender's history reads them."""

    model: SenderSignature  # updated with this message
    block: SignatureBlock | None
    observations: tuple[Observation, ...]
    confirmed: bool  # the block was found by repetition, not by one message's evidence


def normalized(line: str) -> str:
    return " ".join(line.split()).casefold()


def observe(model: SenderSignature, zone: Zone, when: datetime) -> SenderSignature:
    """``model`` with the last lines of the sender's own ``zone`` counted."""
    lines = zone.text.split("\n")
    tail = {normalized(x) for x in lines[: _content_end(lines)][-TAIL_LINES:] if x.strip()}
    known = {k.text: k for k in model.lines}
    for text in tail:
        old = known.get(text)
        known[text] = (
            replace(old, seen=old.seen + 1, last=max(old.last, when))
            if old is not None
            else KnownLine(text, 1, when, when)
        )
    kept = sorted(known.values(), key=lambda k: (k.last, k.seen), reverse=True)
    return SenderSignature(tuple(kept[:MAX_KNOWN_LINES]), model.messages + 1)


def recurring_block(model: SenderSignature, zone: Zone) -> tuple[int, int, list[int]] | None:
    """(first line, end line, lines held back) of the run at the end of
    ``zone`` that the sender's earlier mail confirms, or None."""
    lines = zone.text.split("\n")
    end = _content_end(lines)
    first = last = None
    held: list[int] = []
    gap: list[int] = []
    for index in range(end - 1, max(0, end - TAIL_LINES) - 1, -1):
        if not lines[index].strip():
            continue
        line = lines[index].strip()
        if sl.closing_rest(line) is not None or sl.is_prose(line):
            break  # "Best regards," and stock sentences recur too, above the block
        if model.repeats(lines[index]):
            first, last = index, last if last is not None else index
            held += gap
            gap = []
        elif last is not None:
            gap.append(index)
            if len(gap) > MAX_GAP:
                break
    if first is None or last is None:
        return None
    if sum(1 for i in range(first, last + 1) if model.repeats(lines[i])) < MIN_REPEATS:
        return None
    return first, last + 1, held


def read_own_zone(
    model: SenderSignature,
    zone: Zone,
    author: Address | None,
    when: datetime,
    default_region: str | None,
) -> SenderReading:
    """The sender's block in ``zone`` and its fields, by their history when it
    confirms one, else by this message's evidence alone; the model learns
    from the message either way."""
    found = recurring_block(model, zone)
    updated = observe(model, zone, when)
    if found is None:
        block = find_signature(zone)
        fields = signature_fields(block, author, default_region) if block else ()
        return SenderReading(updated, block, fields, False)
    first, end, held = found
    lines = zone.text.split("\n")
    text = "\n".join(lines[i].rstrip() for i in range(first, end) if i not in held)
    start_at = sum(len(x) + 1 for x in lines[:first])
    block = SignatureBlock(
        text="\n".join(x.rstrip() for x in lines[first:end]),
        start=zone.input_offset(start_at),
        end=zone.input_offset(start_at + len("\n".join(lines[first:end]))),
        confidence=CONFIRMED,
        author_name=zone.author_name or (author.name if author else None),
    )
    confirmed = SignatureBlock(text, block.start, block.end, CONFIRMED, block.author_name)
    fields = signature_fields(confirmed, author, default_region)
    surer = tuple(replace(o, confidence=round(o.confidence + (1 - o.confidence) / 2, 2))
                  for o in fields)  # fmt: skip
    return SenderReading(updated, block, surer, True)
