"""How sure ``find_signature`` is that a candidate block is a signature.

Each line of a candidate block is weighed on its own (``line_kind``): contact
data (a phone, an address, a home page), a title, address or company
("other"), the author's name, prose, or a form field. The counts, with what
opened the block (a "-- " delimiter, a closing phrase, the last prose
line, the top of the zone), are the block's ``BlockEvidence``, and a
``Judge`` turns them into a confidence: at least ``MIN_CONFIDENCE`` for a
block at the end of a zone, ``MIN_INNER_CONFIDENCE`` for one above other
text.

The shipped judge, ``hand_confidence``, weighs the counts with fixed
weights (``HAND_WEIGHTS``) written while reading the development mail
(``bench/signatures.py``). The bench can pass another judge to the same
extractor, e.g. the same weighing with weights fitted on the training folds
only (``weighed``), to see what these features support on mail they were
not written on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from connectors.records import Address
from matcher.body import signature_lines as sl

MIN_CONFIDENCE = 0.4
MIN_INNER_CONFIDENCE = 0.7  # a block above other text must be plainly a signature


@dataclass(frozen=True, slots=True)
class BlockEvidence:
    """The non-blank lines of a candidate block, counted by what each one is."""

    opener: str  # "delimiter", "closing", "prose" or "top"
    lines: int = 0
    contact: int = 0  # lines with a phone, an email address or a home page
    phone: int = 0  # of them, lines with a phone
    other: int = 0  # a title, a postal address, a registration or the author's company
    legal: int = 0  # of them, lines with a company's legal form ("Corp.", "GmbH")
    name: int = 0  # a person's name
    prose: int = 0  # a long line that is none of the above
    form: int = 0  # a form's field ("Name: ...") rather than a signature's


Judge = Callable[[BlockEvidence], float]


def evidence_of(
    block: list[str], author: Address | None, known: frozenset[str], opener: str
) -> BlockEvidence:
    counts = dict.fromkeys(
        ("lines", "contact", "phone", "other", "legal", "name", "prose", "form"), 0
    )
    for line in block:
        line = line.strip()
        if not line:
            continue
        counts["lines"] += 1
        kind, phoned = line_kind(line, author, known)
        if kind in ("form", "contact", "other", "name", "prose"):
            counts[kind] += 1
        counts["phone"] += phoned and kind == "contact"
        counts["legal"] += kind == "other" and sl.has_legal_form(line)
    return BlockEvidence(opener, **counts)


@dataclass(frozen=True, slots=True)
class Weights:
    """What each count adds to a block's confidence (``weighed``); the defaults
    are the shipped weights, written while reading the development mail."""

    # A phone number is the strongest single sign: people sign off with one
    # (it counts as contact data too); a company's legal form ("Corp.",
    # "GmbH") is the next.
    phone: float = 0.1  # at most one
    legal: float = 0.2  # at most one
    contact: float = 0.3  # at most two
    other: float = 0.2  # at most two
    name: float = 0.2  # at most one
    prose: float = -0.2  # per prose or form line
    delimiter: float = 0.4  # a block opened by "-- "
    closing: float = 0.2  # a block opened by a closing phrase


HAND_WEIGHTS = Weights()


def weighed(ev: BlockEvidence, w: Weights) -> float:
    """The counts weighed by ``w``; 0 when they are not one person's signature at all."""
    if ev.phone > 4 or ev.form >= 2:
        return 0.0  # a phone list or a form, not one person's signature
    if ev.contact + ev.other == 0 and not (ev.opener == "delimiter" and ev.name):
        return 0.0
    score = (
        w.phone * min(ev.phone, 1)
        + w.legal * min(ev.legal, 1)
        + w.contact * min(ev.contact, 2)
        + w.other * min(ev.other, 2)
        + w.name * min(ev.name, 1)
        + w.prose * (ev.prose + ev.form)
    )
    score += {"delimiter": w.delimiter, "closing": w.closing}.get(ev.opener, 0.0)
    return max(score, 0.0)


def hand_confidence(ev: BlockEvidence) -> float:
    """The shipped judge: ``HAND_WEIGHTS`` over the counts."""
    return weighed(ev, HAND_WEIGHTS)


def line_kind(line: str, author: Address | None, known: frozenset[str]) -> tuple[str, bool]:
    """The stripped ``line`` as evidence: "form", "contact", "other", "name",
    "prose" or ""/"skip" (nothing), and whether it has a phone."""
    if len(line) > sl.MAX_LINE:  # not cached, so the caches stay small
        kind, phoned = _sign_of(line)
        return (_authors_sign_of(line, author, known) if kind == "rest" else kind), phoned
    kind, phoned = _line_sign(line)
    return (_authors_sign(line, author, known) if kind == "rest" else kind), phoned


def _sign_of(line: str) -> tuple[str, bool]:
    """What the stripped ``line`` is as evidence, as far as the tests that do
    not depend on the author tell, and whether it has a phone: "skip", "form",
    "contact", "other" (a title or an address) or "rest" (a company by the
    author's domain, a name, prose or nothing)."""
    if "imcea" in line.lower():
        return "skip", False  # an Exchange-encapsulated address: no person's data
    if sl.is_form_line(line):
        return "form", False
    if sl.is_registration(line):
        return "other", False
    if sl.has_phone(line):
        return "contact", True
    if sl.EMAIL.search(line) or sl.has_home_link(line):
        return "contact", False
    if sl.is_title(line) or sl.is_address(line):
        return "other", False
    return "rest", False


def _authors_sign_of(line: str, author: Address | None, known: frozenset[str]) -> str:
    """A "rest" line as evidence for this author: "other" (their company),
    "name" (a person's), "prose" (a long line) or "" (nothing)."""
    if sl.is_company(line, author):
        return "other"
    if sl.person_name(line, known) is not None:
        return "name"
    return "prose" if len(line.split()) > 6 else ""


# Blocks are evidenced line by line, and the same lines are weighed again for
# each candidate block and in each message a sender signs (sl.LINE_CACHE).
_line_sign = lru_cache(maxsize=sl.LINE_CACHE)(_sign_of)
_authors_sign = lru_cache(maxsize=sl.LINE_CACHE)(_authors_sign_of)
