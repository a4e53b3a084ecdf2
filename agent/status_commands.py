"""``autocapture status`` and ``autocapture verify``: how each account is doing.

``status`` reads the database only (it never logs in anywhere) and says
what the configuration would hide otherwise: archive paths with no mail
in them, and what each account's backfill window leaves out. ``verify``
asks the servers what they hold and compares it with what was captured.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import render
from agent.commands import (
    CommandError,
    load_settings,
    open_db,
    register_account_secrets,
)
from config.exit_codes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK


def archive_warnings(settings: Any) -> list[str]:
    """Archive paths that hold no mail to read: a sync of them says "0 items" and
    nothing else, so status says why."""
    from connectors.archive.files import no_mail_reason

    return [
        f"warning: {account.name}: {p} {reason}: no mail will be read from it"
        for account in settings.accounts
        if account.enabled and account.kind == "archive"
        for p in account.paths
        if (reason := no_mail_reason(p))
    ]


def cmd_status(args: argparse.Namespace, path: Path) -> int:
    settings = load_settings(path)
    for warning in archive_warnings(settings):
        print(warning, file=sys.stderr)
    from agent.health_view import completeness_lines, health_text, status_json

    db = open_db(settings, read_only=True)
    rows = db.account_status()
    leases = {h.account: h for h in db.leases().holdings()}
    checks = db.completeness()
    now = datetime.now(UTC)
    if args.json:
        starts = {a.name: (now - a.backfill).date() for a in settings.accounts}
        render.json_lines(
            [
                {**status_json(r, db, checks, starts.get(r.name)), **_lease(leases, r.name)}
                for r in rows
            ]
        )
        return EXIT_OK
    table = [
        {
            **render.plain(r),
            "health": health_text(r.health, r.health_since, r.health_detail),
            "last_success": _ago(now, r.last_success_at),
            "newest_item": _ago(now, r.newest_interaction_at),
            "last_error": _ago(now, r.last_error_at),
            "worker": _lease(leases, r.name)["worker"],
            "lease": _ahead(now, _lease(leases, r.name)["lease_until"]),
        }
        for r in rows
    ]
    cols = [
        "name",
        "kind",
        "health",
        "last_success",
        "items_captured",
        "newest_item",
        "last_error",
        "message",
    ]
    if any(h.worker for h in leases.values()):  # `run` workers share a PostgreSQL database
        cols[3:3] = ["worker", "lease"]
    render.table(table, cols, max_width=80, whole=("health",))  # the command must stay whole
    for note in window_notes(settings.accounts, db.window_starts(), now):
        print(note)
    for line in completeness_lines(checks):
        print(line)
    return EXIT_OK


def cmd_verify(args: argparse.Namespace, path: Path) -> int:
    from agent.completeness import verify_account
    from agent.health_view import completeness_json, verify_lines

    settings = load_settings(path)
    enabled = [a for a in settings.accounts if a.enabled]
    if args.account is not None and args.account not in {a.name for a in enabled}:
        raise CommandError(f"no enabled account named {args.account!r}", EXIT_CONFIG)
    register_account_secrets(settings)
    db = open_db(settings)
    chosen = [a for a in enabled if args.account in (None, a.name)]
    reports = [verify_account(settings, a, db) for a in chosen]
    if args.json:
        render.json_lines(
            {
                "account": r.account,
                "outcome": r.outcome,
                "message": r.message,
                "streams": [completeness_json(c) for c in r.streams],
            }
            for r in reports
        )
    else:
        for r in reports:
            print("\n".join(verify_lines(r)))
    failed = any(r.outcome in ("error", "needs_reauth") for r in reports)
    return EXIT_FAILED if failed else EXIT_OK


# What a backfill window leaves out, by account kind.
_OLDER = {
    "imap": "mail is",
    "gmail": "mail is",
    "caldav": "meetings are",
    "google_calendar": "meetings are",
}


def window_notes(accounts: Any, covered: dict[str, datetime], now: datetime) -> list[str]:
    """One line per account: where its backfill window starts, and whether the
    next sync still has to reach back to it (``backfill`` was widened)."""
    notes = []
    for account in accounts:
        start = now - account.backfill
        reached = covered.get(account.name)
        if reached is not None and start < reached:
            tail = f"the next sync captures what lies before {reached.date()}"
        else:
            tail = f"older {_OLDER.get(account.kind, 'mail and meetings are')} not captured"
        notes.append(f"{account.name}: backfill window starts {start.date()}; {tail}")
    return notes


def _lease(leases: dict[str, Any], account: str) -> dict[str, Any]:
    """Which ``run`` worker holds the account's lease, and until when (None: nobody)."""
    held = leases.get(account)
    if held is None or held.worker is None:
        return {"worker": None, "lease_until": None}
    return {"worker": held.worker, "lease_until": held.expires_at}


def _ahead(now: datetime, when: datetime | None) -> str | None:
    """A lease's end as people read it: "for 42s"."""
    if when is None:
        return None
    return f"for {max(0, int((when - now).total_seconds()))}s"


def _ago(now: datetime, when: datetime | None) -> str | None:
    """Lag as people read it: "4m ago"."""
    if when is None:
        return None
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"
