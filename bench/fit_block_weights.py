"""Fit the signature-block judge's weights on the development sets and ship them.

    python bench/fit_block_weights.py ENRON_DIR --blocks ASF_DIR [--check]

Runs the procedure ``bench/signatures.py --cv K --judge fitted`` runs per
fold (``bench.signature_judge.FittedWeightsExtractor``: coordinate ascent
from all weights at 0 on the block F1 of both sets) once on every message,
and writes the weights to ``matcher/data/block_weights.json``, which
``matcher.body.block_evidence`` reads. The held-out figures of that
procedure are the shipped weights' honest figures; the weights were
written by hand before, and had only their figures on the mail they were
written on. ``--check`` writes nothing and says whether the file holds what
the fit gives (exit 1 if not).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.signature_judge import FittedWeightsExtractor  # noqa: E402
from bench.signatures import load_sets  # noqa: E402
from matcher.body.block_evidence import WEIGHTS_FILE  # noqa: E402

TARGET = ROOT / "matcher" / "data" / WEIGHTS_FILE


def fitted_file(enron: Path, asf: Path) -> str:
    """The weights file's text for the weights fitted on both sets."""
    golds, blocks = load_sets(enron, asf)
    if not golds or not blocks:
        sys.exit(f"no labelled messages in {enron}, or no blocks in {asf}")
    judge = FittedWeightsExtractor()
    judge.fit([g for _, g in golds], blocks)
    about = {
        "about": "Block-judge weights (matcher.body.block_evidence.Weights), written by "
        "bench/fit_block_weights.py; do not edit by hand.",
        "fitted_on": {enron.name: f"{len(golds)} messages", asf.name: f"{len(blocks)} messages"},
        "training_block_f1": round(judge.training_f1, 3),
        "weights": asdict(judge.weights),
    }
    return json.dumps(about, indent=2) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="the labelled set (Enron, Quagga .ann)")
    parser.add_argument("--blocks", type=Path, required=True, help="the block-only set (ASF)")
    parser.add_argument("--check", action="store_true", help="compare with the shipped file")
    args = parser.parse_args()
    text = fitted_file(args.directory, args.blocks)
    if args.check:
        same = TARGET.read_text("utf-8") == text
        print(f"{TARGET.relative_to(ROOT)}: {'as fitted' if same else 'differs from the fit'}")
        return 0 if same else 1
    TARGET.write_text(text, "utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
