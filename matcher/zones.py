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
from typing import Literal, NamedTuple

from connectors.records import Address
from matcher.plan import Role
from matcher.zone_headers import Header, find_headers

ZoneKind = Literal["own", "reply", "forward"]

MAX_TEXT_CHARS = 256 * 1024  # four times the pipeline's 64 KiB text cap
MAX_ZONES = 40  # past this, the rest of the thread stays in the last zone

_QUOTE_PREFIX = re.compile(r"[ \t]{0,8}((?:>[ \t]?){1,40})")


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


class Line(NamedTuple):
    """One input line: its offset, quote depth, and text without the quote prefix.

    A NamedTuple rather than a frozen dataclass: one is built for every line
    of every body, and a tuple is built several times faster (immutable all
    the same).
    """

    offset: int
    depth: int
    body_offset: int  # input offset where ``content`` starts
    content: str
    raw_len: int


@dataclass(slots=True)
class _Open:
    """The zone being filled while lines are read."""

    kind: ZoneKind
    author: Address | None
    author_name: str | None
    people: tuple[tuple[Role, Address], ...]
    depth: int
    lines: list[Line]
    headed: bool = False  # opened by an inline header, so its body may sit deeper


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    offset = 0
    for raw in text.split("\n"):
        stripped = raw[:-1] if raw.endswith("\r") else raw
        depth, cut = 0, 0
        # The prefix is at most 8 blanks before its first ">": most lines
        # have none, and the test is cheaper than the regex.
        prefix = _QUOTE_PREFIX.match(stripped) if ">" in stripped[:9] else None
        if prefix:
            depth, cut = prefix.group(1).count(">"), prefix.end()
        lines.append(Line(offset, depth, offset + cut, stripped[cut:], len(stripped)))
        offset += len(raw) + 1
    return lines


def split_zones(text: str, sender: Address | None) -> list[Zone]:
    """The zones of ``text`` in order; the first is the sender's own text."""
    lines = split_lines(text[:MAX_TEXT_CHARS])
    headers = {h.first: h for h in find_headers(lines, MAX_ZONES)}
    own = _Open("own", sender, sender.name if sender else None, (), 0, [])
    zones: list[Zone] = []
    if not headers and not any(line.depth for line in lines):
        # No header and no quoting (most mail): the loop below would put
        # every line in the sender's zone, so do that directly.
        own.lines = lines
        _close(own, zones)
        return zones
    stack: list[_Open] = [own]
    current = own
    index = 0
    while index < len(lines):
        header = headers.get(index)
        if header is not None:
            _close(current, zones)
            current = _from_header(header, lines[index].depth)
            stack.append(current)
            index = header.last + 1
            continue
        line = lines[index]
        changed = line.content.strip() and line.depth != current.depth
        if changed and not _wrapped(lines, index, current.depth, headers):
            current = _on_depth_change(current, line.depth, stack, zones)
        current.lines.append(line)
        index += 1
    _close(current, zones)
    return zones[:MAX_ZONES]


def _wrapped(lines: list[Line], index: int, depth: int, headers: dict[int, Header]) -> bool:
    """A lone line at another depth between two lines at ``depth``.

    Clients re-wrap long quoted lines after quoting, leaving the tail of a
    ">" line without its prefix; that tail is not a new zone.
    """
    for ahead in range(index + 1, min(len(lines), index + 4)):
        if lines[ahead].content.strip():
            return lines[ahead].depth == depth and ahead not in headers
    return False


def _from_header(header: Header, depth: int) -> _Open:
    # An attribution line ("... wrote:") introduces text one level deeper.
    body_depth = depth + 1 if header.style == "wrote" else depth
    return _Open(
        header.kind, header.author, header.author_name, header.people, body_depth, [], True
    )


def _on_depth_change(current: _Open, depth: int, stack: list[_Open], zones: list[Zone]) -> _Open:
    if current.headed and not any(ln.content.strip() for ln in current.lines):
        # A header's body sits where its first line does: deeper than the
        # header ("> ..."), or not quoted at all (HTML blockquotes lose the
        # ">" when rendered to text).
        current.depth = depth
        return current
    _close(current, zones)
    if depth > current.depth:
        opened = _Open("reply", None, None, (), depth, [])
        stack.append(opened)
        return opened
    # Back to a shallower level: the text continues the zone that owned it
    # (interleaved replies, a signature after a quote).
    owner = next((z for z in reversed(stack) if z.depth <= depth), stack[0])
    resumed = _Open(owner.kind, owner.author, owner.author_name, owner.people, depth, [])
    stack.append(resumed)
    return resumed


def _close(zone: _Open, zones: list[Zone]) -> None:
    lines = zone.lines
    while lines and not lines[-1].content.strip():
        lines.pop()
    first = 0
    while first < len(lines) and not lines[first].content.strip():
        first += 1
    lines = lines[first:]
    if not lines:
        return
    zones.append(
        Zone(
            kind=zone.kind,
            author=zone.author,
            author_name=zone.author_name,
            people=zone.people,
            text="\n".join(ln.content for ln in lines),
            start=lines[0].body_offset,
            end=lines[-1].offset + lines[-1].raw_len,
            line_starts=tuple(ln.body_offset for ln in lines),
        )
    )
