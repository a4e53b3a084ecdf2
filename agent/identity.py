"""``contacts merge``, ``contacts unmerge``, ``contacts show`` of a merged id, ``--stale``.

A merge is named ``m<id>`` wherever it is printed, so ``contacts unmerge``
tells a merge (``m12``) from a contact (``57``) without a flag. The caller
(``agent.commands``) opens the database and turns ``MergeRefused`` into a
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

    target = db.resolve_contact(args.id)
    contact = db.get_contact(target) if target is not None else None
    if contact is None:
        return False
    if args.json:
        render.json_lines([contact])
        return True
    if target != args.id:
        print(f"contact {args.id} was merged into contact {target}")
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
