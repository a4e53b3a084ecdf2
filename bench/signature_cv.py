"""Grouped cross-validation and the block-only set for ``bench/signatures.py``.

Figures on the messages a rule was written against say little about mail it
was not: folds here are grouped by mailbox (a file name's prefix before the
first "_", "beck-s" in "beck-s__sent_mail_19.txt.ann") so no mailbox is both
trained on and scored. Anything learned goes through ``Extractor.fit`` with
the training folds only.

The block-only set (Quagga's ASF split: bodies without headers, labelled
``Body/Signature`` spans, no fields) has one name prefix for every file, so
its folds are contiguous runs of the file numbers instead: messages were
numbered in crawl order, and a thread's messages sit near each other.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from connectors.records import Address
from matcher.body.signatures import AuthorSignature, observations_by_author

T = TypeVar("T")


@dataclass
class Blocks:
    """A block-only labelled message: its text and its labelled signature spans."""

    name: str
    text: str
    spans: list[tuple[int, int]] = field(default_factory=list)


def blocks_labelled(name: str, data: dict[str, Any]) -> Blocks:
    text = str(data["text"])
    spans = [
        (int(d["start"]), int(d["end"]))
        for d in data.get("denotations") or []
        if d.get("type") == "Body/Signature"
    ]
    return Blocks(name, text, sorted(spans))


class Extractor(Protocol):
    """What the bench measures: trained on the training folds, then run per message."""

    learns: bool  # whether ``fit`` takes anything from the training folds

    def fit(self, train: Sequence[Any], blocks: Sequence[Blocks]) -> None: ...

    def extract(
        self, text: str, sender: Address | None, region: str | None
    ) -> list[AuthorSignature]: ...


class RuleExtractor:
    """The shipped extractor: nothing to learn, the pipeline's own call."""

    learns = False

    def fit(self, train: Sequence[Any], blocks: Sequence[Blocks]) -> None:
        return None

    def extract(
        self, text: str, sender: Address | None, region: str | None
    ) -> list[AuthorSignature]:
        return observations_by_author(text, False, sender, region)


# Printed under CV figures of an extractor that learns nothing: its rules and
# lexicons were written while reading the whole development set, so no fold
# is unseen by them, and the pooled counts are the full-set counts.
NOTHING_LEARNED = (
    "note: the extractor learns nothing from the training folds, so these are the "
    "full-set figures split by mailbox.\n      They show the spread over mailboxes, "
    "not how rules written on this set generalise."
)


def mailbox(name: str) -> str:
    return name.split("_", 1)[0]


def grouped_folds(names: Sequence[str], weights: Sequence[int], k: int) -> list[int]:
    """A fold per item, whole mailboxes to one fold, folds balanced by weight.

    Largest mailbox first into the lightest fold (ties: fewest items, then
    lowest index), so the assignment is deterministic and even.
    """
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(mailbox(name), []).append(index)
    order = sorted(groups, key=lambda g: (-sum(weights[i] for i in groups[g]), -len(groups[g]), g))
    load = [(0, 0)] * k
    fold_of = [0] * len(names)
    for group in order:
        target = min(range(k), key=lambda f: (*load[f], f))
        members = groups[group]
        load[target] = (
            load[target][0] + sum(weights[i] for i in members),
            load[target][1] + len(members),
        )
        for i in members:
            fold_of[i] = target
    return fold_of


def contiguous_folds(names: Sequence[str], k: int) -> list[int]:
    """A fold per item by the number in its name: k contiguous runs of about equal size."""
    numbers = [int(m.group()) if (m := re.search(r"\d+", n)) else 0 for n in names]
    order = sorted(range(len(names)), key=lambda i: (numbers[i], names[i]))
    fold_of = [0] * len(names)
    for rank, index in enumerate(order):
        fold_of[index] = rank * k // len(names)
    return fold_of


def split(items: Sequence[T], fold_of: Sequence[int], fold: int) -> tuple[list[T], list[T]]:
    """(training items, test items) for ``fold``."""
    train = [x for x, f in zip(items, fold_of, strict=True) if f != fold]
    test = [x for x, f in zip(items, fold_of, strict=True) if f == fold]
    return train, test


class Tally:
    """True and false positives and misses per scored row (``row`` prints one)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, key: str, tp: int = 0, fp: int = 0, fn: int = 0) -> None:
        self.counts[f"{key}:tp"] += tp
        self.counts[f"{key}:fp"] += fp
        self.counts[f"{key}:fn"] += fn

    def row(self, key: str) -> str:
        tp, fp, fn = (self.counts[f"{key}:{x}"] for x in ("tp", "fp", "fn"))
        p = tp / (tp + fp) if tp + fp else 0.0
        r = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return f"{key:<28}{tp:>6}{fp:>6}{fn:>6}{p:>11.3f}{r:>9.3f}{f1:>8.3f}"


def score_blocks(message: Blocks, found: Iterable[AuthorSignature], tally: Tally) -> None:
    """Overlap only: the set has no authors. A predicted block is right when it
    overlaps a labelled one; a labelled block is found when one overlaps it."""
    predicted = [(f.block.start, f.block.end) for f in found if f.block is not None]
    for start, end in predicted:
        hit = any(start < e and s < end for s, e in message.spans)
        tally.add("block (block-only set)", tp=int(hit), fp=int(not hit))
    missed = sum(1 for s, e in message.spans if not any(a < e and s < b for a, b in predicted))
    tally.add("block (block-only set)", fn=missed)


def f1_of(counts: Any, key: str) -> float:
    tp, fp, fn = (counts[f"{key}:{x}"] for x in ("tp", "fp", "fn"))
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def spread_row(key: str, pooled: float, per_fold: Sequence[float]) -> str:
    """Pooled F1 (all test folds' counts together), mean and spread of the folds' F1."""
    mean = statistics.fmean(per_fold)
    sd = statistics.pstdev(per_fold) if len(per_fold) > 1 else 0.0
    folds = " ".join(f"{x:.2f}" for x in per_fold)
    return f"{key:<28}{pooled:>8.3f}{mean:>8.3f}{sd:>7.3f}{min(per_fold):>7.3f}{max(per_fold):>7.3f}  [{folds}]"


SPREAD_HEADER = f"{'':<28}{'pooled':>8}{'mean':>8}{'sd':>7}{'min':>7}{'max':>7}  [per fold F1]"

ExtractorFactory = Callable[[], Extractor]
