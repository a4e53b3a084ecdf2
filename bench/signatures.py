"""Measure signature extraction against a labelled set (Quagga-annotated Enron mail).

Usage: ``python bench/signatures.py DIR [--blocks DIR] [--cv K [--judge shipped|fitted|learned]] [--region US] [--show N]``

DIR holds ``NAME.txt.ann`` JSON files (see the data set's README); empty or
unreadable ones are skipped. The data set is never copied into the repo.

Scoring, per message:

* **Sender**: ``meta.header`` From (address) and X-From (display name).
* **Labelled zones**: the ``Body`` spans in order. A zone's author is the set
  of ``Header/Person/From`` texts between the previous ``Body`` and this one
  (a name, an address, or both); a zone with no such header before it (the
  first zone, normally) belongs to the sender. A ``Body/Signature*`` span
  belongs to the zone that contains its start.
* **Labelled persons**: authors of zones with labelled signature fields
  (Name, Position, Organisation, Phone, Fax, Mail, Address). Zones of the
  same person (same normalized name or address) are merged. A labelled
  signature block is the zone's ``Body/Signature`` span, or the span of its
  field labels when the annotators marked fields only.
* **Attribution**: a predicted zone author matches a labelled person when the
  addresses are equal or the names share enough tokens (all tokens of the
  shorter name, at most two; an address's local part counts as a name).
* **Block detection**: a predicted block is correct when it overlaps a
  labelled block of a matching person. Predicted blocks that overlap a
  labelled ``Body/Signature`` without fields (provider ads) or a
  ``Disclaimer`` are not counted either way. Recall counts labelled blocks
  hit by a correct prediction.
* **Fields**: per (message, person, field) the sets of normalized values are
  compared (case-folded alphanumerics; phones as E.164 digits parsed with
  the region). Predictions for persons with no labels are false positives.
  Field map: name->name, title->position, company->organisation,
  phone/phone:office/phone:mobile->phone, phone:fax->fax, email->mail,
  address->address.
* **Reference**: ``mail-parser-reply``'s per-reply ``signatures`` text, mapped
  back to offsets by its first and last lines, scored by overlap only (it
  has no authors); our own overlap-only figure is printed beside it.
* **Speed**: messages/s of ``observations_by_author`` alone (no JSON parsing).
* **Block-only set** (``--blocks DIR``, Quagga's ASF split: no headers, no
  field labels): predicted blocks against labelled ``Body/Signature`` spans
  by overlap, reported on a row of its own.
* **Cross-validation** (``--cv K``): K folds, whole mailboxes to one fold
  (``bench.signature_cv``); the extractor is fitted on the other folds and
  scored on the held-out one. Counts are pooled over the held-out folds, and
  each figure's mean and spread over the folds is printed below them. The
  shipped extractor (``--judge shipped``, ``RuleExtractor``) learns nothing
  per fold: its rules and lexicons were written while reading this set, and
  its block weights were fitted on all of it (``bench/fit_block_weights.py``),
  so its CV figures equal its full-set figures, and the run says so. Two
  judges fit the one weighing step, which candidate block is a signature, on
  the training folds (``bench.signature_judge``), for an honest figure of
  that step: ``--judge fitted`` is the procedure that made the shipped
  weights, run per fold; ``--judge learned`` replaces the weighing with a
  gradient-boosted model.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # this checkout's packages, not an installed copy
    sys.path.insert(0, str(ROOT))

from bench import signature_cv as cv  # noqa: E402
from bench.signature_judge import FittedWeightsExtractor, LearnedExtractor  # noqa: E402
from connectors.records import Address  # noqa: E402
from matcher.body.signatures import AuthorSignature  # noqa: E402
from matcher.body.zone_headers import parse_person  # noqa: E402

FIELDS = ("name", "position", "organisation", "phone", "fax", "mail", "address")
_OURS = {
    "name": "name", "title": "position", "company": "organisation", "phone": "phone",
    "phone:office": "phone", "phone:mobile": "phone", "phone:fax": "fax", "email": "mail",
    "address": "address",
}  # fmt: skip
_LABEL = {f"Body/Signature/{f.capitalize()}": f for f in FIELDS}


@dataclass
class Person:
    identity: set[str]
    values: dict[str, set[str]] = field(default_factory=dict)
    blocks: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Labelled:
    text: str
    sender: Address | None
    sender_identity: set[str]
    persons: list[Person]
    ignored: list[tuple[int, int]]


def load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("text") else None


def labelled(data: dict[str, Any]) -> Labelled:
    text = str(data["text"])
    header = data.get("meta", {}).get("header", {})
    sender_email = str(header.get("From") or "")
    display = str(header.get("X-From") or "")
    sender, name = parse_person(f"{display} <{sender_email}>")
    sender_identity = {x for x in (sender_email, name) if x}
    marks = sorted(data.get("denotations") or [], key=lambda d: d["start"])
    bodies = [(d["start"], d["end"]) for d in marks if d["type"] == "Body"]
    froms = [
        (d["start"], text[d["start"] : d["end"]])
        for d in marks
        if d["type"] == "Header/Person/From"
    ]
    persons: list[Person] = []
    ignored: list[tuple[int, int]] = []
    for zone_index, (start, end) in enumerate(bodies):
        previous_end = bodies[zone_index - 1][1] if zone_index else 0
        identity = _nearest_author([f for f in froms if previous_end <= f[0] < start]) or (
            sender_identity if zone_index == 0 else set()
        )
        inside = [
            d
            for d in marks
            if start <= d["start"] < end and str(d["type"]).startswith("Body/Signature")
        ]
        _label_zone(text, inside, identity, persons, ignored)
    return Labelled(text, sender, sender_identity, persons, ignored)


def _label_zone(
    text: str,
    inside: list[dict[str, Any]],
    identity: set[str],
    persons: list[Person],
    ignored: list[tuple[int, int]],
) -> None:
    """Add one labelled zone's signature to its person (or to the ignored spans)."""
    fields = [d for d in inside if d["type"] in _LABEL]
    spans = [(d["start"], d["end"]) for d in inside if d["type"] == "Body/Signature"]
    ignored += [(d["start"], d["end"]) for d in inside if d["type"] == "Body/Signature/Disclaimer"]
    if not fields:
        ignored += spans
        return
    person = _person(persons, identity)
    for d in fields:
        value = normalize(_LABEL[d["type"]], text[d["start"] : d["end"]])
        if value:
            person.values.setdefault(_LABEL[d["type"]], set()).add(value)
    person.blocks.append(
        (min(s for s, _ in spans), max(e for _, e in spans)) if spans
        else (min(d["start"] for d in fields), max(d["end"] for d in fields))
    )  # fmt: skip


def _nearest_author(froms: list[tuple[int, str]]) -> set[str]:
    """The From person(s) of the header right above a zone: the last labelled
    one and those just before it (a name and its address). Earlier ones in
    the same gap are forwarders ("Forwarded by NAME")."""
    kept: list[tuple[int, str]] = []
    for at, who in reversed(froms):
        if kept and kept[-1][0] - (at + len(who)) > 80:
            break
        kept.append((at, who))
    return {who for _, who in kept}


def _person(persons: list[Person], identity: set[str]) -> Person:
    for person in persons:
        if identity and same_person(person.identity, identity):
            person.identity |= identity
            return person
    persons.append(Person(set(identity)))
    return persons[-1]


def _tokens(who: str) -> set[str]:
    who = who.split("@")[0] if "@" in who else who
    return {t for t in re.split(r"[^a-z]+", who.lower()) if len(t) > 1}


def same_person(a: Iterable[str], b: Iterable[str]) -> bool:
    a, b = set(a), set(b)
    if {x.lower() for x in a if "@" in x} & {x.lower() for x in b if "@" in x}:
        return True
    for x in a:
        for y in b:
            tx, ty = _tokens(x), _tokens(y)
            if tx and ty and len(tx & ty) >= min(2, len(tx), len(ty)):
                return True
    return False


def _closeness(a: Iterable[str], b: Iterable[str]) -> tuple[int, int]:
    """Sort key: most name tokens shared, then fewest left over (best match first)."""
    ta, tb = set().union(*map(_tokens, a)), set().union(*map(_tokens, b))
    return -len(ta & tb), len(ta ^ tb)


def normalize(kind: str, value: str, region: str = "US") -> str:
    if kind in ("phone", "fax"):
        try:
            number = phonenumbers.parse(" ".join(value.split()), region)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            return re.sub(r"\D", "", value)
    return re.sub(r"[\W_]+", "", value.casefold())


def identity_of(found: AuthorSignature) -> set[str]:
    who = {found.author_name or ""}
    if found.author:
        who |= {found.author.email, found.author.name or ""}
    return {x for x in who if x}


def overlaps(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    return any(span[0] < end and start < span[1] for start, end in spans)


def score(gold: Labelled, found: list[AuthorSignature], tally: cv.Tally, region: str) -> None:
    gold_blocks = [(p, b) for p in gold.persons for b in p.blocks]
    hit: set[int] = set()
    predicted: dict[int, dict[str, set[str]]] = {}
    for item in found:
        persons = sorted(
            (i for i, p in enumerate(gold.persons) if same_person(p.identity, identity_of(item))),
            key=lambda i: _closeness(gold.persons[i].identity, identity_of(item)),
        )
        if item.block is not None:
            _score_block(gold, (item.block.start, item.block.end), persons, hit, tally)
        key = persons[0] if persons else -1 - len(predicted)
        values = predicted.setdefault(key, {})
        for obs in item.observations:
            if obs.field in _OURS:
                values.setdefault(_OURS[obs.field], set()).add(
                    normalize(_OURS[obs.field], obs.value, region)
                )
    tally.add("block", fn=len(gold_blocks) - len(hit))
    any_hit = sum(1 for _, b in gold_blocks if any(overlaps(b, [s]) for s in _spans(found)))
    tally.add("block (overlap only)", fn=len(gold_blocks) - any_hit)
    for index in set(predicted) | set(range(len(gold.persons))):
        want = gold.persons[index].values if index >= 0 else {}
        got = predicted.get(index, {})
        for kind in FIELDS:
            w, g = want.get(kind, set()), got.get(kind, set())
            tally.add(kind, tp=len(w & g), fp=len(g - w), fn=len(w - g))


def _score_block(
    gold: Labelled, span: tuple[int, int], persons: list[int], hit: set[int], tally: cv.Tally
) -> None:
    """One predicted block: correct when it overlaps a block of its own author."""
    gold_blocks = [(gold.persons.index(p), b) for p in gold.persons for b in p.blocks]
    matched = [
        i for i, (who, b) in enumerate(gold_blocks) if who in persons and overlaps(span, [b])
    ]
    if matched:
        hit.update(matched)
        tally.add("block", tp=1)
    elif not overlaps(span, gold.ignored):
        tally.add("block", fp=1)
    if overlaps(span, [b for _, b in gold_blocks]):
        tally.add("block (overlap only)", tp=1)
    elif not overlaps(span, gold.ignored):
        tally.add("block (overlap only)", fp=1)


def _spans(found: list[AuthorSignature]) -> list[tuple[int, int]]:
    return [(f.block.start, f.block.end) for f in found if f.block is not None]


def reference_spans(text: str) -> list[tuple[int, int]]:
    """mail-parser-reply's signature texts as offsets in ``text`` (by first/last line)."""
    from mailparser_reply import EmailReplyParser

    spans: list[tuple[int, int]] = []
    cursor = 0
    for reply in EmailReplyParser(languages=["en", "de", "fr", "es", "nl"]).read(text).replies:
        lines = [ln.strip() for ln in (reply.signatures or "").split("\n") if ln.strip()]
        if not lines:
            continue
        first = text.find(lines[0], cursor)
        if first < 0:
            continue
        last = text.find(lines[-1], first)
        end = last + len(lines[-1]) if last >= 0 else first + len(lines[0])
        spans.append((first, end))
        cursor = first + 1
    return spans


def score_reference(gold: Labelled, tally: cv.Tally) -> None:
    gold_blocks = [b for p in gold.persons for b in p.blocks]
    spans = reference_spans(gold.text)
    for span in spans:
        if overlaps(span, gold_blocks):
            tally.add("mail-parser-reply block", tp=1)
        elif not overlaps(span, gold.ignored):
            tally.add("mail-parser-reply block", fp=1)
    missed = sum(1 for b in gold_blocks if not overlaps(b, spans))
    tally.add("mail-parser-reply block", fn=missed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--blocks", type=Path, help="a block-only set (no headers), e.g. ASF")
    parser.add_argument("--cv", type=int, default=0, help="K-fold CV, folds grouped by mailbox")
    parser.add_argument("--region", default="US", help="default phone region (config's)")
    parser.add_argument("--show", type=int, default=0, help="print N messages' predictions")
    parser.add_argument(
        "--judge",
        choices=JUDGES,
        default="shipped",
        help="the block judge: the shipped weights; the shipped weighing with weights "
        "fitted per fold; or a model fitted per fold (fitted and learned need --cv)",
    )
    args = parser.parse_args(argv)
    if args.judge != "shipped" and args.cv < 2:
        parser.error(f"--judge {args.judge} is fitted on training folds: give --cv K")
    golds, blocks = load_sets(args.directory, args.blocks)
    if not golds:
        print(f"no readable .ann files in {args.directory}", file=sys.stderr)
        return 2
    if args.cv > 1:
        return cross_validate(golds, blocks, args.cv, args.region, JUDGES[args.judge])
    tally = cv.Tally()
    elapsed = run(cv.RuleExtractor(), golds, blocks, args.region, tally, args.show)
    print_tally(tally, bool(blocks))
    persons = sum(len(g.persons) for _, g in golds)
    print(f"messages: {len(golds)}  labelled persons: {persons}  "
          f"messages/s: {len(golds) / elapsed:,.0f}")  # fmt: skip
    return 0


def load_sets(
    directory: Path, blocks: Path | None
) -> tuple[list[tuple[str, Labelled]], list[cv.Blocks]]:
    """The labelled messages of ``directory`` by file name, and the block-only set's."""
    messages = [(p.name, d) for p in sorted(directory.glob("*.ann")) if (d := load(p))]
    block_only = [
        cv.blocks_labelled(p.name, d)
        for p in (sorted(blocks.glob("*.ann")) if blocks else [])
        if (d := load(p))
    ]
    return [(name, labelled(d)) for name, d in messages], block_only


def run(
    extractor: cv.Extractor,
    golds: list[tuple[str, Labelled]],
    blocks: list[cv.Blocks],
    region: str,
    tally: cv.Tally,
    show: int = 0,
) -> float:
    """Score ``extractor`` on both sets into ``tally``; seconds spent extracting the first."""
    started = time.perf_counter()
    results = [extractor.extract(g.text, g.sender, region) for _, g in golds]
    elapsed = time.perf_counter() - started
    for (name, gold), found in zip(golds, results, strict=True):
        score(gold, found, tally, region)
        score_reference(gold, tally)
        if show and (gold.persons or any(f.block for f in found)):
            show -= 1
            _show(name, gold, found)
    for message in blocks:
        cv.score_blocks(message, extractor.extract(message.text, None, region), tally)
    return elapsed


ROWS = ("block", *FIELDS, "block (overlap only)", "mail-parser-reply block")
JUDGES: dict[str, cv.ExtractorFactory] = {
    "shipped": cv.RuleExtractor,
    "fitted": FittedWeightsExtractor,
    "learned": LearnedExtractor,
}


def print_tally(tally: cv.Tally, with_blocks: bool) -> None:
    print(f"{'':<28}{'TP':>6}{'FP':>6}{'FN':>6}{'precision':>11}{'recall':>9}{'F1':>8}")
    for key in (*ROWS, *(("block (block-only set)",) if with_blocks else ())):
        print(tally.row(key))


def cross_validate(
    golds: list[tuple[str, Labelled]],
    blocks: list[cv.Blocks],
    k: int,
    region: str,
    extractor_of: cv.ExtractorFactory = cv.RuleExtractor,
) -> int:
    """Train on k-1 folds, score the held-out one; whole mailboxes stay in one fold."""
    weights = [1 + 4 * len(g.persons) for _, g in golds]
    fold_of = cv.grouped_folds([name for name, _ in golds], weights, k)
    block_fold_of = cv.contiguous_folds([b.name for b in blocks], k) if blocks else []
    pooled, per_fold = cv.Tally(), []
    for fold in range(k):
        train, test = cv.split(golds, fold_of, fold)
        block_train, block_test = cv.split(blocks, block_fold_of, fold)
        extractor = extractor_of()
        extractor.fit([g for _, g in train], block_train)
        tally = cv.Tally()
        run(extractor, test, block_test, region, tally)
        pooled.counts.update(tally.counts)
        per_fold.append(tally)
    print(f"{k}-fold CV, folds grouped by mailbox; counts pooled over the held-out folds")
    print_tally(pooled, bool(blocks))
    print(cv.SPREAD_HEADER)
    for key in (*ROWS[:-2], *(("block (block-only set)",) if blocks else ())):
        folds = [cv.f1_of(t.counts, key) for t in per_fold]
        print(cv.spread_row(key, cv.f1_of(pooled.counts, key), folds))
    sizes = [sum(1 for f in fold_of if f == i) for i in range(k)]
    print(f"messages per fold: {sizes}  block-only set: {len(blocks)}")
    if not extractor.learns:
        print(cv.NOTHING_LEARNED)
    return 0


def _show(name: str, gold: Labelled, found: list[AuthorSignature]) -> None:
    print(f"== {name}")
    for person in gold.persons:
        print(f"  gold {sorted(person.identity)} {person.blocks} {person.values}")
    for item in found:
        if item.block or item.observations:
            block = (item.block.start, item.block.end) if item.block else None
            print(f"  ours {sorted(identity_of(item))} {block}")
            for obs in item.observations:
                print(f"      {obs.field}: {obs.value}")


if __name__ == "__main__":
    sys.exit(main())
