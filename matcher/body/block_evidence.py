"""How sure ``find_signature`` is that a candidate block is a signature.

Each line of a candidate block is weighed on its own (``line_kind``): contact
data (a phone, an address, a home page), a title, address or company
("other"), the author's name, prose, or a form field. The counts, with what
opened the block (a "-- " delimiter, a closing phrase, the last prose
line, the top of the zone), are the block's ``BlockEvidence``, and a
``Judge`` turns them into a confidence: at least ``MIN_CONFIDENCE`` for a
block at the end of a zone, ``MIN_INNER_CONFIDENCE`` for one above other
text.

The shipped judge, ``shipped_confidence``, weighs the counts (``weighed``)
with the weights in ``matcher/data/block_weights.json`` (``SHIPPED_WEIGHTS``).
They are not written by hand: ``bench/fit_block_weights.py`` fits them on the
development sets by the procedure whose held-out figures
``bench/signatures.py --cv K --judge fitted`` reports, so the shipped weights
have an honest figure. Hand-written ones had only their figure on the mail
they were written on. The bench can pass another judge to the same extractor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources

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
    """What each count adds to a block's confidence (``weighed``). No defaults:
    a judge names every weight, and the shipped ones come from their file."""

    phone: float  # at most one
    legal: float  # a company's legal form ("Corp.", "GmbH"), at most one
    contact: float  # at most two
    other: float  # at most two
    name: float  # at most one
    prose: float  # per prose or form line
    delimiter: float  # a block opened by "-- "
    closing: float  # a block opened by a closing phrase


WEIGHTS_FILE = "block_weights.json"


def shipped_weights(text: str | None = None) -> Weights:
    """The weights in ``matcher/data/block_weights.json`` (or in ``text``, that
    file's form): every weight named once, nothing else, each a number."""
    if text is None:
        text = resources.files("matcher").joinpath("data", WEIGHTS_FILE).read_text("utf-8")
    given = json.loads(text)["weights"]
    names = {f.name for f in fields(Weights)}
    if set(given) != names:
        raise ValueError(f"{WEIGHTS_FILE}: weights {sorted(given)}, expected {sorted(names)}")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in given.values()):
        raise ValueError(f"{WEIGHTS_FILE}: every weight must be a number")
    return Weights(**{n: float(v) for n, v in given.items()})


SHIPPED_WEIGHTS = shipped_weights()


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


def shipped_confidence(ev: BlockEvidence) -> float:
    """The shipped judge: ``SHIPPED_WEIGHTS`` over the counts."""
    return weighed(ev, SHIPPED_WEIGHTS)


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
    if sl.is_legal_particular(line):
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
