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

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from connectors.records import Address, pickled_by_fields
from matcher.body import signature_lines as sl
from matcher.body.signature_fields import SignatureBlock, signature_fields
from matcher.body.signatures import MAX_BLOCK_LINES, content_end, read_zone
from matcher.body.zones import Zone
from matcher.plan import KnownLine, Observation, SenderSignature
from matcher.remembered import remembered

MIN_REPEATS = 2  # confirmed lines (each ended an earlier message too) a block needs at least
MAX_KNOWN_LINES = 64  # per sender; the least recently seen lines go first
TAIL_LINES = MAX_BLOCK_LINES + 2  # lines read at the end of each own zone
MAX_GAP = 1  # unconfirmed lines in a row allowed inside a confirmed block
CONFIRMED = 0.95  # the block's confidence when repetition confirms it


def earlier_lines(model: SenderSignature, when: datetime) -> frozenset[str]:
    """The lines that ended the sender's own text in a message dated before ``when``.

    By date rather than by count, so mail read again (a replayed batch, an
    old message arriving late) is read as its earlier mail alone confirms it,
    as when it was first read, however much the model learned since.
    """
    if model.latest is not None and model.latest < when:
        # Mail in date order, the usual case: ``observe`` counted every line
        # from mail dated ``latest`` or before, so all of them are earlier.
        return frozenset([k.text for k in model.lines])
    return frozenset(k.text for k in model.lines if k.first < when)


@dataclass(frozen=True, slots=True)
class SenderReading:
    """One message's block and fields as the sender's history reads them."""

    model: SenderSignature  # updated with this message
    block: SignatureBlock | None
    observations: tuple[Observation, ...]
    confirmed: bool  # the block was found by repetition, not by one message's evidence


def normalized(line: str) -> str:
    return " ".join(line.split()).casefold()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class TailLine:
    """One non-blank line of the last ``TAIL_LINES`` of the own text, read once
    for both ``recurring_block`` and ``observe``."""

    index: int
    text: str  # ``normalized``
    # What ends a block above it: "mark" (a closing phrase or "-- ", which the
    # sender wrote to mark their block), "prose" (stock sentences recur too),
    # or "" for a line that may belong to a signature.
    stop: str


def own_tail(zone: Zone) -> tuple[TailLine, ...]:
    """``tail_lines`` of an own zone: what ``read_own_zone`` reads of the zone before
    the sender's model, read with the zones (in the read-ahead process,
    ``agent.readahead``) so that the process holding the models only compares."""
    lines = zone.text.split("\n")
    return tuple(tail_lines(lines, content_end(lines)))


def tail_lines(lines: list[str], end: int) -> list[TailLine]:
    """The non-blank lines above ``end`` (``content_end``), bottom up."""
    tail = []
    for index in range(end - 1, max(0, end - TAIL_LINES) - 1, -1):
        line = lines[index].strip()
        if line:
            tail.append(TailLine(index, *_line_reading(line)))
    return tail


# A sender's block ends message after message with the same lines: each
# distinct short line is read once (prose runs long and rarely recurs).
@remembered(maxsize=8192, chars=160)
def _line_reading(line: str) -> tuple[str, str]:
    """A stripped line's ``normalized`` text and its ``TailLine.stop``."""
    if sl.closing_rest(line) is not None or sl.DELIMITER.fullmatch(line):
        stop = "mark"
    else:
        stop = "prose" if sl.is_prose(line) else ""
    return normalized(line), stop


def observe(model: SenderSignature, tail: list[TailLine], when: datetime) -> SenderSignature:
    """``model`` with the last lines of the sender's own text (``tail_lines``) counted;
    unchanged when a message as new was counted already (a replay).

    Prose and closing phrases are left out: ``recurring_block`` stops at
    them, and counting each message's last sentences would fill the model
    (which storage reads and writes with every batch) with lines seen once.
    """
    if model.latest is not None and when <= model.latest:
        return model
    known = {k.text: k for k in model.lines}
    # A line the model holds passed the ``stop`` test when it was first counted.
    counted = {t.text for t in tail if t.text and (t.text in known or not t.stop)}
    for text in counted:
        old = known.get(text)
        known[text] = (
            KnownLine(text, old.seen + 1, old.first, max(old.last, when))
            if old is not None
            else KnownLine(text, 1, when, when)
        )
    # Ties broken by text: the set above iterates in hash order, which varies by process.
    kept = sorted(known.values(), key=_recency, reverse=True)
    return SenderSignature(tuple(kept[:MAX_KNOWN_LINES]), model.messages + 1, when)


def _recency(line: KnownLine) -> tuple[datetime, int, str]:
    return line.last, line.seen, line.text


@dataclass(frozen=True, slots=True)
class Run:
    """The lines at the end of an own zone that the sender's earlier mail confirms."""

    first: int  # index of its first line
    end: int  # index past its last line
    unconfirmed: frozenset[int]  # lines inside it no earlier message ended with
    # A closing phrase or a "-- " right above it: the sender marked the block
    # themselves, so its new lines (a new title, a new phone) are theirs at once.
    marked: bool


def recurring_block(tail: list[TailLine], earlier: frozenset[str]) -> Run | None:
    """The run at the end of the own text (``tail_lines``) that the sender's
    ``earlier`` lines confirm, or None."""
    if not earlier:
        return None  # a sender's first message: nothing to confirm it
    confirmed: set[int] = set()
    first = last = None
    held: list[int] = []
    gap: list[int] = []
    below: list[int] = []
    marked = False
    for line in tail:
        if line.stop:
            marked = line.stop == "mark"  # "Best regards," recurs too, above the block
            break
        index = line.index
        if line.text in earlier:
            confirmed.add(index)
            first, last = index, last if last is not None else index
            held += gap
            gap = []
        elif last is None:
            below.append(index)
        else:
            gap.append(index)
            if len(gap) > MAX_GAP:
                break
    if first is None or last is None:
        return None
    if len(confirmed) < MIN_REPEATS:
        return None
    if marked:
        return Run(min([first, *gap]), max([last, *below]) + 1, frozenset(held + gap + below), True)
    return Run(first, last + 1, frozenset(held), False)


def read_own_zone(
    model: SenderSignature,
    zone: Zone,
    author: Address | None,
    when: datetime,
    default_region: str | None,
    to: frozenset[str] = frozenset(),
    tail: tuple[TailLine, ...] | None = None,
) -> SenderReading:
    """The sender's block in ``zone`` and its fields, by their history when it
    confirms one, else by this message's evidence alone; the model learns
    from the message either way.

    Unconfirmed lines of an unmarked block are held back; fields read only
    from unconfirmed lines keep a single message's confidence. ``tail``: the
    zone's ``own_tail``, when read already.
    """
    lines = zone.text.split("\n")
    last = list(own_tail(zone) if tail is None else tail)
    run = recurring_block(last, earlier_lines(model, when))
    updated = observe(model, last, when)
    if run is None:
        block, fields = read_zone(zone, default_region, to)
        return SenderReading(updated, block, fields, False)
    # Where line ``run.first`` starts, counted from the end: the lines below it are few.
    start_at = len(zone.text) - len("\n".join(lines[run.first :]))
    whole = "\n".join(lines[run.first : run.end])
    block = SignatureBlock(
        text="\n".join(x.rstrip() for x in lines[run.first : run.end]),
        start=zone.input_offset(start_at),
        end=zone.input_offset(start_at + len(whole)),
        confidence=CONFIRMED,
        author_name=zone.author_name or (author.name if author else None),
    )

    def fields_of(indexes: Iterable[int]) -> tuple[Observation, ...]:
        text = "\n".join(lines[i].rstrip() for i in indexes)
        return signature_fields(replace(block, text=text), author, default_region, to)

    confirmed = [i for i in range(run.first, run.end) if i not in run.unconfirmed]
    sure = fields_of(confirmed)
    fields = fields_of(range(run.first, run.end)) if run.marked and run.unconfirmed else sure
    repeated = {(o.field, o.value) for o in sure}
    surer = tuple(
        Observation(o.field, o.value, round(o.confidence + (1 - o.confidence) / 2, 2))
        if (o.field, o.value) in repeated
        else o
        for o in fields
    )
    return SenderReading(updated, block, surer, True)
