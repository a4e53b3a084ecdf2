"""``autocapture review list|show|accept|reject``: the addresses scoring was not sure of.

Scored resolution (``matcher.scoring``) sends an address to review when it
probably belongs to a contact but the evidence is not strong enough to link
it alone. ``accept`` makes the address the contact's (with its earlier mail
and the fields it brought); ``reject`` remembers the pair so it is never
proposed again, and the next mail from the address follows the creation
policy. Both write a change-feed row (entity ``review``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent import render
from agent.commands import CommandError, load_settings, open_db
from config.exit_codes import EXIT_OK

COLUMNS = ["id", "email", "name", "contact_id", "contact_name", "score", "reasons", "state"]


def add_review_parser(sub: Any) -> None:
    review = sub.add_parser(
        "review",
        help="addresses that probably belong to a contact: list, show, accept or reject them",
    )
    rsub = review.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = rsub.add_parser("list", help="open proposals, most likely first")
    p.add_argument(
        "--state",
        choices=["open", "accepted", "rejected", "closed", "all"],
        default="open",
        help="which proposals (default: open)",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p = rsub.add_parser("show", help="one proposal with the score's reasons and the contact")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    for action, text in (
        ("accept", "the address is the contact's: link it and its earlier mail"),
        ("reject", "not this contact: never propose the pair again"),
    ):
        p = rsub.add_parser(action, help=text)
        p.add_argument("id", type=int)


def cmd_review(args: argparse.Namespace, path: Path) -> int:
    from storage.reviews import ReviewError

    settings = load_settings(path)
    if args.action in ("list", "show"):
        db = open_db(settings, read_only=True)
        if args.action == "list":
            rows = db.reviews(None if args.state == "all" else args.state)
        else:
            item = db.review(args.id)
            if item is None:
                raise CommandError(f"no review {args.id}")
            rows = [item]
        if args.json:
            render.json_lines(rows)
        elif args.action == "show":
            _print_item(rows[0])
        else:
            render.table(render.records(rows), COLUMNS)
        return EXIT_OK
    try:
        item = open_db(settings).decide_review(args.id, accept=args.action == "accept")
    except ReviewError as exc:
        raise CommandError(str(exc)) from None
    if args.action == "accept":
        print(f"{item.email} is now an address of contact {item.contact_id}")
    else:
        print(f"{item.email} will not be proposed for contact {item.contact_id} again")
    return EXIT_OK


def _print_item(item: Any) -> None:
    out = sys.stdout
    out.write(f"review {item.id} ({item.state})\n")
    shown = f"{item.name} <{item.email}>" if item.name else item.email
    out.write(f"  address   {shown}\n")
    out.write(f"  contact   {item.contact_id} {item.contact_name or ''}\n".rstrip() + "\n")
    out.write(f"  score     {item.score:.2f}: {item.reasons}\n")
    out.write(f"  proposed  {item.created_at:%Y-%m-%d}\n")
    if item.decided_at is not None:
        out.write(f"  decided   {item.decided_at:%Y-%m-%d}\n")
    out.write(f"see also: autocapture contacts show {item.contact_id}\n")
