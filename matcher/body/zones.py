"""Split a mail body into the author's own text, quoted replies and forwards.

A zone starts at an inline header or at a change of ">" quote depth:

* separators: "-----Original Message-----", "---------- Forwarded message
  ---------", Lotus Notes' "----- Forwarded by NAME/ORG on DATE -----",
  Apple Mail's "Begin forwarded message:", in EN/DE/FR/ES/NL;
* attribution lines: "On DATE, NAME <addr> wrote:" and its translations
  ("Am ... schrieb", "Le ... a écrit", "El ... escribió", "Op ... schreef");
* field blocks: Outlook/Gmail/Thunderbird "From:/Sent:/To:/Subject:" (and
  "Von:/An:/Betreff:", "De :/À :/Objet :", "De:/Para:/Asunto:",
  "Van:/Aan:/Onderwerp:"), and Lotus Notes blocks where the author line
  ("NAME <addr> on DATE", or NAME over DATE) precedes "To:/cc:/Subject:".

Pure and linear: every regex is anchored or bounded, only lines shorter than
a cap are tried as headers, and the input and the zone count are capped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import accumulate, count, repeat
from operator import add
from typing import NamedTuple

from connectors.records import Address, pickled_by_fields
from matcher.body.zone_headers import Header, find_headers
from matcher.body.zone_headers import ZoneKind as ZoneKind  # part of a Zone's interface
from matcher.plan import Role

MAX_TEXT_CHARS = 256 * 1024  # four times the pipeline's 64 KiB text cap
MAX_ZONES = 40  # past this, the rest of the thread stays in the last zone

# Each match is one whole line, its quote prefix (if any) in the group: findall
# gives every line's prefix at once. (An extra empty match may follow a last
# line that has no "\n".)
_QUOTE_PREFIXES = re.compile(r"([ \t]{0,8}(?:>[ \t]?){1,40})?[^\n]*\n?")


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Zone:
    """One author's stretch of a body; ``start``/``end`` are offsets in the input.

    ``line_starts`` gives the input offset of each line of ``text`` (after its
    quote prefix), so positions found in ``text`` map back to the input.
    """

    kind: ZoneKind
    author: Address | None
    author_name: str | None
    people: tuple[tuple[Role, Address], ...]
    text: str
    start: int
    end: int
    line_starts: tuple[int, ...] = ()

    def input_offset(self, text_offset: int) -> int:
        """The input offset of position ``text_offset`` of ``text``."""
        if not self.line_starts:
            return self.start + text_offset
        line = self.text.count("\n", 0, text_offset)
        line_begin = self.text.rfind("\n", 0, text_offset) + 1
        return self.line_starts[min(line, len(self.line_starts) - 1)] + text_offset - line_begin


class Lines(NamedTuple):
    """A body's lines as parallel lists, one entry per line.

    Parallel lists rather than an object per line: every body is split, and
    building one object per line was most of the splitting's cost.
    """

    depths: list[int]  # ">" quote depth
    body_offsets: list[int]  # input offset where the content starts
    contents: list[str]  # the line without its quote prefix and its "\r"


@dataclass(slots=True)
class _Open:
    """The zone being filled while lines are read: lines ``first`` up to the current one."""

    kind: ZoneKind
    author: Address | None
    author_name: str | None
    people: tuple[tuple[Role, Address], ...]
    depth: int
    first: int
    headed: bool = False  # opened by an inline header, so its body may sit deeper


def split_lines(text: str) -> Lines:
    # Every body is split, so the work per line stays in C: map, accumulate
    # and findall instead of a Python loop.
    raw = text.split("\n")
    # A line starts one past the end of the one before it and its "\n".
    offsets = [0, *map(add, accumulate(map(len, raw)), count(1))]
    offsets.pop()
    # Each line loses one "\r" at its end (CRLF mail).
    contents = list(map(str.removesuffix, raw, repeat("\r"))) if "\r" in text else raw
    quote = text.find(">")
    if quote < 0:
        return Lines([0] * len(raw), offsets, contents)
    # One quote prefix per line, "" for most (and for every line before the
    # first ">"). A prefix holds only blanks and ">", so it is the same with
    # or without the line's "\r".
    first = text.count("\n", 0, quote)
    prefixes = [""] * first + _QUOTE_PREFIXES.findall(text, offsets[first])
    del prefixes[len(raw) :]
    depths = list(map(str.count, prefixes, repeat(">")))
    body_offsets = list(map(add, offsets, map(len, prefixes)))
    return Lines(depths, body_offsets, list(map(str.removeprefix, contents, prefixes)))


def split_zones(text: str, sender: Address | None) -> list[Zone]:
    """The zones of ``text`` in order; the first is the sender's own text."""
    lines = split_lines(text[:MAX_TEXT_CHARS])
    contents, depths = lines.contents, lines.depths
    headers = {h.first: h for h in find_headers(contents, depths, MAX_ZONES)}
    own = _Open("own", sender, sender.name if sender else None, (), 0, 0)
    zones: list[Zone] = []
    if not headers and not any(depths):
        # No header and no quoting (most mail): the loop below would put
        # every line in the sender's zone, so do that directly.
        _close(own, len(contents), lines, zones)
        return zones
    stack: list[_Open] = [own]
    current = own
    start = 0
    # Headers come in order and do not overlap: read the lines between them,
    # then let each header open its zone.
    for header in [*headers.values(), None]:
        stop = header.first if header is not None else len(contents)
        depth = current.depth
        for index in range(start, stop):
            # Most lines sit at the zone's depth: one comparison each.
            changed = depths[index] != depth and contents[index].strip()
            if changed and not _wrapped(lines, index, depth, headers):
                current = _on_depth_change(current, index, lines, stack, zones)
                depth = current.depth
        if header is not None:
            _close(current, header.first, lines, zones)
            current = _from_header(header, depths[header.first])
            stack.append(current)
            start = header.last + 1
    _close(current, len(contents), lines, zones)
    return zones[:MAX_ZONES]


def _wrapped(lines: Lines, index: int, depth: int, headers: dict[int, Header]) -> bool:
    """A lone line at another depth between two lines at ``depth``.

    Clients re-wrap long quoted lines after quoting, leaving the tail of a
    ">" line without its prefix; that tail is not a new zone.
    """
    for ahead in range(index + 1, min(len(lines.contents), index + 4)):
        if lines.contents[ahead].strip():
            return lines.depths[ahead] == depth and ahead not in headers
    return False


def _from_header(header: Header, depth: int) -> _Open:
    # An attribution line ("... wrote:") introduces text one level deeper.
    body_depth = depth + 1 if header.style == "wrote" else depth
    return _Open(
        header.kind,
        header.author,
        header.author_name,
        header.people,
        body_depth,
        header.last + 1,
        True,
    )


def _on_depth_change(
    current: _Open, index: int, lines: Lines, stack: list[_Open], zones: list[Zone]
) -> _Open:
    depth = lines.depths[index]
    if current.headed and not any(c.strip() for c in lines.contents[current.first : index]):
        # A header's body sits where its first line does: deeper than the
        # header ("> ..."), or not quoted at all (HTML blockquotes lose the
        # ">" when rendered to text).
        current.depth = depth
        return current
    _close(current, index, lines, zones)
    if depth > current.depth:
        opened = _Open("reply", None, None, (), depth, index)
        stack.append(opened)
        return opened
    # Back to a shallower level: the text continues the zone that owned it
    # (interleaved replies, a signature after a quote).
    owner = next((z for z in reversed(stack) if z.depth <= depth), stack[0])
    resumed = _Open(owner.kind, owner.author, owner.author_name, owner.people, depth, index)
    stack.append(resumed)
    return resumed


def _close(zone: _Open, end: int, lines: Lines, zones: list[Zone]) -> None:
    """Add the zone of lines ``zone.first`` up to ``end``, blank lines at both ends dropped."""
    contents = lines.contents
    first = zone.first
    while end > first and not contents[end - 1].strip():
        end -= 1
    while first < end and not contents[first].strip():
        first += 1
    if first == end:
        return
    body_offsets = lines.body_offsets
    zones.append(
        Zone(
            kind=zone.kind,
            author=zone.author,
            author_name=zone.author_name,
            people=zone.people,
            text="\n".join(contents[first:end]),
            start=body_offsets[first],
            end=body_offsets[end - 1] + len(contents[end - 1]),
            line_starts=tuple(body_offsets[first:end]),
        )
    )
