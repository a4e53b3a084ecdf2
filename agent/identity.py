"""``contacts merge``, ``unmerge``, ``show`` of a merged id, ``list --stale``; ``dedupe``.

A merge is named ``m<id>`` wherever it is printed, so ``contacts unmerge``
tells a merge (``m12``) from a contact (``57``) without a flag. The caller
(``agent.data_commands``) opens the database and turns ``MergeRefused`` into a
one-line failure.
"""

from __future__ import annotations

import argparse
import getpass
from datetime import UTC, datetime, timedelta
from typing import Any

from agent import render

DEFAULT_REASON = "merged by hand"


def duration(text: str) -> timedelta:
    """``--stale 180d``: a duration in the config's notation."""
    from pydantic_core import PydanticCustomError

    from config.values import parse_duration

    try:
        return parse_duration(text, allow_zero=False)
    except PydanticCustomError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def contact_ref(text: str) -> int | str:
    """A contact as a rep names it on the command line: its id, or one of its addresses."""
    from connectors.records import normalize_email

    if text.isascii() and text.isdigit():
        return int(text)
    email = normalize_email(text) if "@" in text else ""
    if not email:
        raise argparse.ArgumentTypeError(f"expected a contact id or an email address, got {text!r}")
    return email


def contact_id(ref: int | str, db: Any) -> int | None:
    """The id ``contact_ref`` names; None for an address no contact holds."""
    return ref if isinstance(ref, int) else db.contact_of_email(ref)


def actor(args: argparse.Namespace) -> str:
    """Who did it, for the audit: --by, else the account running the command."""
    if args.by:
        return str(args.by)
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "unknown"


def merge_line(done: Any) -> str:
    when = done.merged_at.strftime("%Y-%m-%d %H:%M")
    return (
        f"m{done.id}: contact {done.merged_id} merged into {done.survivor_id} "
        f"on {when} UTC by {done.actor}: {done.reason}"
    )


def merge(args: argparse.Namespace, db: Any) -> str:
    reason = args.reason or DEFAULT_REASON
    done = db.merge_contacts(args.survivor, args.merged, actor=actor(args), reason=reason)
    return f"{merge_line(done)} ({done.rows} rows changed; undo: autocapture contacts unmerge m{done.id})"


def unmerge_target(text: str) -> dict[str, int] | None:
    """``m12`` names a merge, ``57`` a contact; None for anything else."""
    text = text.strip()
    if text[:1] in ("m", "M") and text[1:].isdigit():
        return {"merge_id": int(text[1:])}
    return {"contact_id": int(text)} if text.isdigit() else None


def unmerge(args: argparse.Namespace, db: Any, where: dict[str, int]) -> str:
    done = db.unmerge(**where, actor=actor(args))
    return (
        f"undid m{done.id}: contact {done.merged_id} is separate from {done.survivor_id} again "
        f"({done.rows} rows restored)"
    )


def show(args: argparse.Namespace, db: Any) -> bool:
    """One contact; a merged-away id shows its survivor, saying so. False: no such contact."""
    from agent.contact_view import print_contact

    named = contact_id(args.id, db)
    target = db.resolve_contact(named) if named is not None else None
    contact = db.get_contact(target) if target is not None else None
    if contact is None:
        return False
    if args.json:
        render.json_lines([contact])
        return True
    if target != named:
        print(f"contact {named} was merged into contact {target}")
    print_contact(contact)
    merges = db.merges_of(target)
    if merges:
        print("merges:")
        for m in merges:
            undone = f" (undone {m.undone_at:%Y-%m-%d} by {m.undone_by})" if m.undone_at else ""
            print(f"  {merge_line(m)}{undone}")
    return True


def stale_rows(args: argparse.Namespace, db: Any) -> list[Any]:
    """``contacts list --stale 180d``: not seen in that long (or never), longest first."""
    before = datetime.now(UTC) - args.stale
    return list(db.list_contacts(limit=args.limit, offset=args.offset, seen_before=before))


def dedupe(args: argparse.Namespace, db: Any, thresholds: Any) -> list[str]:
    """``dedupe --scan``: print each pair as found; with --apply-above, merge the strong ones.

    Only pairs resolution would link (strong evidence) are merged, never a
    review pair whatever its score: a name alone never merges two people.
    ``thresholds``: the configured ``identity`` ones capture scores with.
    Returns the summary lines for stderr.
    """
    from storage.dedupe import ScanCounts

    counts = ScanCounts()
    chosen = []
    outcomes = {"link": 0, "review": 0}
    for pair in db.duplicate_scan(thresholds, counts):
        outcomes[pair.outcome] += 1
        if args.json:
            render.json_lines([pair])
        else:
            print(f"{pair.first}\t{pair.second}\t{pair.outcome}\t{pair.score:.2f}\t{pair.reasons}")
        if (
            args.apply_above is not None
            and pair.outcome == "link"
            and pair.score >= args.apply_above
        ):
            chosen.append(pair)
    lines = [
        f"{counts.contacts} contacts, {counts.blocks} blocks compared: {counts.pairs} duplicate "
        f"pairs ({outcomes['link']} link, {outcomes['review']} review); "
        f"{len(counts.oversized)} keys too common to compare"
    ]
    if args.apply_above is not None:
        done = [_apply(args, db, pair) for pair in chosen]
        lines += [line for line, _ in done]
        lines.append(f"merged {sum(merged for _, merged in done)} pairs")
    return lines


def _apply(args: argparse.Namespace, db: Any, pair: Any) -> tuple[str, bool]:
    """Merge one pair (the older contact survives), following earlier merges of this run;
    what to say, and whether it merged."""
    from storage import MergeRefused

    a, b = db.resolve_contact(pair.first), db.resolve_contact(pair.second)
    if a is None or b is None or a == b:
        return f"skipped {pair.first} {pair.second}: already one contact", False
    reason = f"dedupe {pair.score:.2f}: {pair.reasons}"
    try:
        done = db.merge_contacts(min(a, b), max(a, b), actor=actor(args), reason=reason)
    except MergeRefused as exc:
        return f"skipped {pair.first} {pair.second}: {exc}", False
    return merge_line(done), True
