"""Signature-block judges fitted on the training folds, for ``bench/signatures.py --judge``.

The shipped judge (``matcher.body.block_evidence.shipped_confidence``) weighs
a candidate block's evidence with weights fitted on the whole development
set (``bench/fit_block_weights.py``, by ``FittedWeightsExtractor``), so its
cross-validated figures are its full-set figures. Two judges here are
fitted on the training folds alone instead. The line
tests behind the evidence (titles, phones, names, lexicons) are still the
shipped ones, so their figures say what that evidence supports on mail the
weighing never saw, not what the whole extractor would score on unseen mail.

- ``--judge fitted`` (``FittedWeightsExtractor``) keeps the shipped weighing
  (``weighed``) and chooses its weights, by coordinate ascent on the
  training messages' block F1: the shipped weights' procedure, so its
  held-out figures are theirs.
- ``--judge learned`` (``LearnedExtractor``) replaces the weighing with a
  model: every candidate block ``find_signature`` weighs in a training
  message (its ``BlockEvidence`` counts) is an example, positive when it
  overlaps a labelled signature. The model is scikit-learn's gradient
  boosting with its default settings (the ``learn`` extra installs it;
  ``make`` does not), not tuned on these figures: trials with 50 and 200
  trees and a logistic regression moved the block F1 between 0.85 and
  0.89. Its probability ``p`` is mapped to a confidence of ``0.8 * p``: a
  block at the end of a zone is taken from ``p >= 0.5``, one above other
  text from ``p >= 0.875``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from functools import lru_cache, partial
from typing import Any

from bench.signature_cv import Blocks, Tally, f1_of, score_blocks
from connectors.records import Address
from matcher.body.block_evidence import BlockEvidence, Judge, Weights, weighed
from matcher.body.signatures import (
    AuthorSignature,
    block_at,
    candidates,
    observations_by_author,
)
from matcher.body.zones import split_zones

OPENERS = ("delimiter", "closing", "prose", "top")
COUNTS = ("lines", "contact", "phone", "other", "legal", "name", "prose", "form")
CONFIDENCE_PER_PROBABILITY = 0.8


def features(ev: BlockEvidence) -> list[float]:
    return [float(getattr(ev, c)) for c in COUNTS] + [float(ev.opener == o) for o in OPENERS]


def labelled_spans(gold: Any) -> list[tuple[int, int]]:
    """A ``bench.signatures.Labelled`` message's signature spans, its persons' and the
    ones it labels but does not score."""
    return [b for p in gold.persons for b in p.blocks] + list(gold.ignored)


def examples(
    text: str, sender: Address | None, labelled: Sequence[tuple[int, int]]
) -> Iterable[tuple[list[float], int]]:
    """Each candidate block of each zone, and whether it overlaps a labelled signature."""
    for zone in split_zones(text, sender):
        for c in candidates(zone):
            block = block_at(zone, c.start, c.end, 1.0)
            hit = any(block.start < end and start < block.end for start, end in labelled)
            yield features(c.evidence), int(hit)


class LearnedExtractor:
    """The shipped extractor with its block judge fitted on the training folds."""

    learns = True

    def __init__(self) -> None:
        self.judge: Judge | None = None

    def fit(self, train: Sequence[Any], blocks: Sequence[Any]) -> None:
        try:
            from sklearn.ensemble import GradientBoostingClassifier
        except ImportError:
            raise SystemExit(
                "--judge learned needs scikit-learn: pip install -e '.[learn]'"
            ) from None
        rows: list[tuple[list[float], int]] = []
        for gold in train:
            rows += examples(gold.text, gold.sender, labelled_spans(gold))
        for message in blocks:  # bench.signature_cv.Blocks
            rows += examples(message.text, None, message.spans)
        model = GradientBoostingClassifier(random_state=0)
        model.fit([x for x, _ in rows], [y for _, y in rows])

        @lru_cache(maxsize=4096)
        def judge(ev: BlockEvidence) -> float:
            p = float(model.predict_proba([features(ev)])[0][1])
            return CONFIDENCE_PER_PROBABILITY * p

        self.judge = judge

    def extract(
        self, text: str, sender: Address | None, region: str | None
    ) -> list[AuthorSignature]:
        assert self.judge is not None, "fit first"
        return observations_by_author(text, False, sender, region, judge=self.judge)


# The values each weight may take when fitted: a tenth apart, as the shipped
# ones are, over a range wider than theirs.
STEPS = tuple(round(-0.4 + 0.1 * i, 1) for i in range(11))
PASSES = 2
_BLOCK = "block (block-only set)"


class FittedWeightsExtractor:
    """The shipped extractor and the shipped weighing (``weighed``), its weights
    chosen on the training folds alone.

    Starting from every weight at 0 (no block at all, nothing borrowed from
    the shipped values), each weight in turn takes the value of ``STEPS``
    that most raises the block F1 on the training messages of both sets
    (overlap scoring, as on the block-only set), kept only when strictly
    better; ``PASSES`` rounds. The held-out figures then say how the
    shipped form of the judge does when its weights are not written on the
    mail it is scored on.
    """

    learns = True

    def __init__(self) -> None:
        self.weights = Weights(**{f.name: 0.0 for f in fields(Weights)})
        self.training_f1 = 0.0

    def fit(self, train: Sequence[Any], blocks: Sequence[Blocks]) -> None:
        labelled = [(Blocks("", g.text, labelled_spans(g)), g.sender) for g in train]
        labelled += [(b, None) for b in blocks]
        best = self._f1(self.weights, labelled)
        for _ in range(PASSES):
            for name in (f.name for f in fields(Weights)):
                for value in STEPS:
                    trial = replace(self.weights, **{name: value})
                    f1 = self._f1(trial, labelled)
                    if f1 > best:
                        best, self.weights = f1, trial
        self.training_f1 = best
        chosen = " ".join(f"{f.name} {getattr(self.weights, f.name):+.1f}" for f in fields(Weights))
        print(f"fitted weights (training block F1 {best:.3f}): {chosen}")

    @staticmethod
    def _f1(weights: Weights, labelled: Sequence[tuple[Blocks, Address | None]]) -> float:
        judge = partial(weighed, w=weights)
        tally = Tally()
        for message, sender in labelled:
            score_blocks(
                message,
                observations_by_author(message.text, False, sender, None, judge=judge),
                tally,
            )
        return f1_of(tally.counts, _BLOCK)

    def extract(
        self, text: str, sender: Address | None, region: str | None
    ) -> list[AuthorSignature]:
        judge = partial(weighed, w=self.weights)
        return observations_by_author(text, False, sender, region, judge=judge)
