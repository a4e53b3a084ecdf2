"""Signature blocks per zone, and the contact fields each author gives away.

``observations_by_author`` is the one call the pipeline makes: it splits a
body into zones (``matcher.body.zones``), finds the signature at the end of each
zone's text and turns its lines into ``Observation`` values attributed to the
zone's author (``matcher.body.signature_fields``).

A block is the run of lines at the end of a zone, after client footers and
disclaimers are set aside, that starts below a "-- " delimiter, a closing
phrase ("Best regards,") or the last line of prose, and that carries
evidence of being a signature: contact data, a title, a company, an address
or the author's own name over another signature line
(``matcher.body.block_evidence`` counts it, and a judge weighs the counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from connectors.records import Address
from matcher.body import signature_lines as sl
from matcher.body.block_evidence import (
    MIN_CONFIDENCE,
    MIN_INNER_CONFIDENCE,
    BlockEvidence,
    Judge,
    evidence_of,
    shipped_confidence,
)
from matcher.body.html import html_to_text
from matcher.body.signature_fields import SignatureBlock, signature_fields
from matcher.body.signature_names import addressed_names
from matcher.body.zones import MAX_TEXT_CHARS, Zone, ZoneKind, split_zones
from matcher.plan import Observation, Role

__all__ = [
    "AuthorSignature",
    "Candidate",
    "SignatureBlock",
    "find_signature",
    "observations_by_author",
    "signature_fields",
]

MAX_BLOCK_LINES = 14  # signatures with a postal address run to about ten lines
MAX_FOOTER_LINES = 60  # disclaimers are long; past this the bottom is not a footer
MAX_INNER_SCAN = 400  # lines searched upwards for an inner "-- " or closing


@dataclass(frozen=True, slots=True)
class AuthorSignature:
    """One zone's author and what their signature says about them."""

    author: Address | None
    author_name: str | None
    zone_index: int
    kind: ZoneKind
    observations: tuple[Observation, ...]
    people: tuple[tuple[Role, Address], ...] = ()  # named in the zone's inline header
    block: SignatureBlock | None = None


def observations_by_author(
    text: str,
    text_is_html: bool,
    sender: Address | None,
    default_region: str | None,
    to: frozenset[str] = frozenset(),
    judge: Judge = shipped_confidence,
) -> list[AuthorSignature]:
    """Every zone's author with the observations of that zone's signature.

    ``to``: compact names of the message's recipients (``addressed_names``);
    ``judge``: how sure a candidate block is (``matcher.body.block_evidence``).
    Raises ``InvalidInput`` only for HTML that cannot be rendered at all.
    """
    if text_is_html:
        text = html_to_text(text, MAX_TEXT_CHARS, quotes=True)
    found: list[AuthorSignature] = []
    for index, zone in enumerate(split_zones(text, sender)):
        block, observations = read_zone(zone, default_region, to, judge)
        author = zone.author or _signed_address(observations, zone.author_name)
        found.append(
            AuthorSignature(
                author, zone.author_name, index, zone.kind, observations, zone.people, block
            )
        )
    return found


def read_zone(
    zone: Zone,
    default_region: str | None,
    to: frozenset[str] = frozenset(),
    judge: Judge = shipped_confidence,
) -> tuple[SignatureBlock | None, tuple[Observation, ...]]:
    """The signature block at the end of ``zone`` and the fields it gives its author.

    ``to``: the message's recipients, for its own zone; a quoted zone's are
    the people its inline header addresses.
    """
    block = find_signature(zone, judge)
    if block is None:
        return None, ()
    recipients = to if zone.kind == "own" else addressed_names(zone.people)
    return block, signature_fields(block, zone.author, default_region, recipients)


def _signed_address(observations: tuple[Observation, ...], name: str | None) -> Address | None:
    """The author of a zone whose header named no address, from the one address
    their own signature gives (Lotus Notes headers carry names only)."""
    emails = {o.value for o in observations if o.field == "email"}
    if len(emails) != 1:
        return None
    signed = next((o.value for o in observations if o.field == "name"), None)
    return Address.of(emails.pop(), name or signed)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A run of lines at the end of a zone that may be its signature."""

    start: int  # line index in the zone's text
    end: int
    evidence: BlockEvidence


def candidates(zone: Zone) -> Iterator[Candidate]:
    """The blocks ``find_signature`` weighs at the end of ``zone``, in the order it does."""
    return _candidates(zone, zone.text.split("\n"), sl.name_tokens(zone.author, zone.author_name))


def _candidates(zone: Zone, lines: list[str], known: frozenset[str]) -> Iterator[Candidate]:
    for end in _candidate_ends(lines):
        start, opener = _block_start(lines, end)
        while start < end and not lines[start].strip():
            start += 1
        if start < end:
            yield Candidate(start, end, evidence_of(lines[start:end], zone.author, known, opener))


def find_signature(zone: Zone, judge: Judge = shipped_confidence) -> SignatureBlock | None:
    """The signature block at the end of ``zone``'s text, or None."""
    lines = zone.text.split("\n")
    known = sl.name_tokens(zone.author, zone.author_name)
    for candidate in _candidates(zone, lines, known):
        confidence = judge(candidate.evidence)
        if confidence >= MIN_CONFIDENCE:
            return _block(zone, lines, candidate.start, candidate.end, confidence)
    return _inner_block(zone, lines, known, judge)


def _inner_block(
    zone: Zone, lines: list[str], known: frozenset[str], judge: Judge
) -> SignatureBlock | None:
    """A signature above text that is not the author's own: a forwarded article
    or memo pasted without a header, a P.S. Only a "-- " delimiter or a closing
    phrase opens one, and it needs stronger evidence than a block at the end."""
    for index in range(len(lines) - 1, max(0, len(lines) - MAX_INNER_SCAN) - 1, -1):
        line = lines[index].strip()
        if sl.DELIMITER.fullmatch(line):
            opener = "delimiter"
        elif line and sl.closing_rest(line) is not None:
            opener = "closing"
        else:
            continue
        start, end = _paragraph_after(lines, index + 1)
        if start < end:
            confidence = judge(evidence_of(lines[start:end], zone.author, known, opener))
            if confidence >= MIN_INNER_CONFIDENCE:
                return _block(zone, lines, start, end, confidence)
    return None


def _paragraph_after(lines: list[str], index: int) -> tuple[int, int]:
    """The run of non-prose lines from ``index`` (blank lines skipped at its
    top, a single blank line allowed inside), at most MAX_BLOCK_LINES long."""
    while index < len(lines) and not lines[index].strip():
        index += 1
    end, taken = index, 0
    while end < len(lines) and taken < MAX_BLOCK_LINES:
        line = lines[end].strip()
        if not line and (end + 1 >= len(lines) or not lines[end + 1].strip()):
            break
        if line and sl.is_prose(line):
            break
        taken += 1 if line else 0
        end += 1
    while end > index and not lines[end - 1].strip():
        end -= 1
    return index, end


def _candidate_ends(lines: list[str]) -> list[int]:
    """Where a block may end: the end of the author's text, else just above a
    rule line near it (a signature boxed in "*****" rules, a tagline below)
    or above a "--" that opens a mailing list's footer (Nabble's "View this
    message in context"), or above a P.S."""
    end = content_end(lines)
    ends = [end]
    for index in range(end - 1, max(0, end - MAX_BLOCK_LINES) - 1, -1):
        line = lines[index].strip()
        if (sl.RULE.fullmatch(line) or sl.DELIMITER.fullmatch(line)) and index not in ends:
            ends.append(index)
        elif _POSTSCRIPT.match(line) and index and not lines[index - 1].strip():
            above = index - 1  # a letter's P.S. follows its signature, a blank line between
            while above and not lines[above - 1].strip():
                above -= 1
            ends.append(above)
    return ends


_POSTSCRIPT = re.compile(r"P\.?\s?(?:P\.?\s?)?S\b\.?[\s:,\-]*\S")  # "PS:", "P.S.", "P.P.S."


def block_at(zone: Zone, start: int, end: int, confidence: float) -> SignatureBlock:
    """Lines ``start`` to ``end`` of ``zone``'s text as a block, with input offsets."""
    return _block(zone, zone.text.split("\n"), start, end, confidence)


def _block(zone: Zone, lines: list[str], start: int, end: int, confidence: float) -> SignatureBlock:
    text_start = _line_offset(lines, start)
    text_end = text_start + len("\n".join(lines[start:end]))
    return SignatureBlock(
        text="\n".join(line.rstrip() for line in lines[start:end]),
        start=zone.input_offset(text_start),
        end=zone.input_offset(text_end),
        confidence=round(min(confidence, 1.0), 2),
        author_name=zone.author_name or (zone.author.name if zone.author else None),
    )


def _line_offset(lines: list[str], index: int) -> int:
    """Where ``lines[index]`` starts in the text the lines were split from."""
    return sum(map(len, lines[:index])) + index  # each line ends in one "\n"


def content_end(lines: list[str]) -> int:
    """Index past the last line of the author's own text: footers, legal notices,
    attachment notes and rules at the bottom are set aside.

    A notice may run over several paragraphs of which only some carry legal
    words, so the cut goes above the highest notice paragraph that has only
    prose, rules and footers below it.
    """
    floor = max(0, len(lines) - MAX_FOOTER_LINES)
    end = cut = _skip_trailing(lines, len(lines), floor)
    while end > floor:
        start = _paragraph_start(lines, end - 1)
        notice = _disclaimer_start(lines, start, end)
        if notice is not None:
            cut = notice
            if notice > start:
                break  # the signature sits right above the notice
        elif not all(sl.is_prose(line) or _is_trailing(line) for line in lines[start:end]):
            break
        end = _skip_trailing(lines, start, floor)
    return _skip_trailing(lines, cut, floor)


# A letter or digit: ``\w`` less "_" is exactly ``str.isalnum`` per character.
_ALNUM = re.compile(r"[^\W_]")


def _is_trailing(line: str) -> bool:
    stripped = line.strip()
    # Lines without a letter or digit are rules or mis-decoded characters ("?").
    return not _ALNUM.search(stripped) or sl.is_footer(stripped)


def _skip_trailing(lines: list[str], end: int, floor: int) -> int:
    while end > floor and _is_trailing(lines[end - 1]):
        end -= 1
        # An attachment note wrapped over two lines: " - Long name of\nthe file.doc".
        if end > floor and lines[end - 1].strip().startswith("- "):
            end -= 1
    return end


# Stems, so one entry serves several languages (confidential/confidentiel/
# confidencial, destinataire/destinatario/destinatarios).
_DISCLAIMER_WORDS = (
    "confidenti", "confidenci", "intended recipient", "intended only", "intended solely",
    "privileg", "disclaimer", "unauthori", "prohibited", "if you have received this",
    "in error", "erreur", "vertraulich", "destinata", "geadresseerde", "is the property of",
    "virus", "notify the sender", "delete", "disclosure", "legally", "interdit", "prohibid",
)  # fmt: skip
# Most paragraphs have none of the words: one scan tells, before they are counted.
_ANY_DISCLAIMER_WORD = re.compile("|".join(map(re.escape, _DISCLAIMER_WORDS)))


def _disclaimer_start(lines: list[str], start: int, end: int) -> int | None:
    """Where a legal notice begins in the paragraph ``lines[start:end]``, if it is one.

    A notice is prose of some length with a legal keyword; it may follow the
    signature without a blank line, so the cut is at its first keyword line.
    """
    paragraph = " ".join(line.strip() for line in lines[start:end]).lower()
    if (
        len(paragraph) < 80
        or not _ANY_DISCLAIMER_WORD.search(paragraph)
        or sum(word in paragraph for word in _DISCLAIMER_WORDS) < 2
    ):
        return None  # one legal word in a long paragraph is still the author's prose
    for index in range(start, end):
        lowered = lines[index].lower()
        if any(word in lowered for word in _DISCLAIMER_WORDS):
            # Short lines above the keyword line are a signature the notice
            # follows without a blank line; long ones are the notice's own start.
            above = lines[start:index]
            return index if above and all(len(ln.strip()) < 45 for ln in above) else start
    return start


def _paragraph_start(lines: list[str], index: int) -> int:
    while index > 0 and lines[index - 1].strip():
        index -= 1
    return index


def _block_start(lines: list[str], end: int) -> tuple[int, str]:
    """Where the block starts and what opened it: "delimiter", "closing", "prose" or "top"."""
    taken = 0
    index = end
    while index > 0:
        line = lines[index - 1].strip()
        if sl.DELIMITER.fullmatch(line):
            return index, "delimiter"
        if line and sl.closing_rest(line) is not None:
            return index, "closing"
        if line and (sl.is_prose(line) or sl.is_salutation(line) or taken >= MAX_BLOCK_LINES):
            return index, "prose"
        if not line and taken and _prose_above(lines, index - 1):
            return index, "prose"
        taken += 1 if line else 0
        index -= 1
    return 0, "top"


def _prose_above(lines: list[str], blank: int) -> bool:
    """The paragraph above the blank line ``blank`` reads as prose: the block
    stops at the paragraph break rather than swallow its last short line."""
    index = blank
    while index > 0 and not lines[index - 1].strip():
        index -= 1
    seen = 0
    while index > 0 and lines[index - 1].strip() and seen < MAX_BLOCK_LINES:
        line = lines[index - 1].strip()
        if sl.closing_rest(line) is not None or sl.DELIMITER.fullmatch(line):
            return False
        if sl.is_prose(line):
            return True
        seen += 1
        index -= 1
    return False
