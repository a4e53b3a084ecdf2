"""``autocapture inspect FILE``: what would be captured from one file, and why.

Nothing touches the database: the matcher runs against an empty in-memory
directory, so the decisions shown are those a first capture would make from
this file alone; with ``--database`` it reads (never writes) the configured
database, and shows which contact each address would be linked to and why
(an exact match, or a scored link or review with its reasons). Any file a user points it at must end in a one-line error,
never a traceback, so every failure below is caught and reported by reason.
"""

from __future__ import annotations

import io
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from agent import render
from agent.contact_view import explain_rule
from agent.policy import account_policy
from config.exit_codes import EXIT_OK
from config.settings import Settings
from connectors.base import InvalidInput, Limits, Window
from connectors.mail.mbox import MboxEntry, read_mbox
from connectors.records import IngestError, Message, Record, SourceRef
from matcher.plan import AccountPolicy, Directory, Plan

MAX_MBOX_MESSAGES = 200


class InspectError(Exception):
    pass


def policy_for_inspect(
    settings: Settings | None, account: str | None, owners: Sequence[str]
) -> AccountPolicy:
    if settings is not None:
        accounts = [a for a in settings.accounts if account is None or a.name == account]
        if account is not None and not accounts:
            raise InspectError(f"no account named {account!r} in the configuration")
        if accounts:
            policy = account_policy(settings, accounts[0])
            if owners:
                extra = frozenset(o.lower() for o in owners)
                policy = AccountPolicy(**{**_fields(policy), "owner_addresses": extra})
            return policy
    return AccountPolicy(
        account="inspect", owner_addresses=frozenset(o.lower() for o in owners), privacy="full"
    )


def _fields(policy: AccountPolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in policy.__dataclass_fields__}


def default_window(now: datetime) -> Window:
    """Ten years back, two forward: the span a first capture commonly covers."""
    return Window(since=now - timedelta(days=3650), until=now + timedelta(days=730), now=now)


@dataclass(frozen=True, slots=True)
class FileRead:
    """What one file gives inside the window, and how many occurrences lie outside it."""

    records: list[Record]
    errors: list[IngestError]
    outside: int = 0


def read_records(path: Path, limits: Limits, window: Window) -> FileRead:
    from connectors.archive.emlx import stored_message
    from connectors.archive.files import read_regular
    from connectors.base import ALL_TIME

    # A FIFO or device would block or never end: only regular files are read.
    data, file_time = read_regular(path, limits.max_message_bytes, "file-too-large")
    data = stored_message(path.name, data)  # InvalidInput("bad-emlx") as for any unreadable file
    records, errors = _records_of(data, path, file_time, limits, window)
    # Read again for the spans either side; at most max_occurrences per series.
    outside = sum(
        _occurrences(_records_of(data, path, file_time, limits, span)[0])
        for span in (Window(ALL_TIME.since, window.since), Window(window.until, ALL_TIME.until))
        if span.since < span.until
    )
    return FileRead(records, errors, outside)


def _occurrences(records: Sequence[Record]) -> int:
    return sum(len(r.meetings) if isinstance(r, Message) else 1 for r in records)


def _records_of(
    data: bytes, path: Path, file_time: datetime, limits: Limits, window: Window
) -> tuple[list[Record], list[IngestError]]:
    from connectors.archive.connector import read_message
    from connectors.calendar.ical import parse_calendar

    if (
        path.suffix.lower() in (".ics", ".ical", ".ifb")
        or data.lstrip()[:15].upper() == b"BEGIN:VCALENDAR"
    ):
        meetings, errors = parse_calendar(
            data, SourceRef("inspect", "file", path.name), window, limits
        )
        return list(meetings), list(errors)
    found: list[Record] = []
    failures: list[IngestError] = []
    for index, entry in enumerate(mail_of(data, limits)):
        source = SourceRef("inspect", "file", f"{path.name}#{index + 1}")
        if entry.raw is None:
            failures.append(IngestError(source, "message-too-large", "over the limit"))
            continue
        # Read as the archive connector reads it; mail without a usable Date
        # is dated as sync dates it.
        messages, errors = read_message(
            entry.raw, source, limits, window, partial(entry.dated, file_time)
        )
        found.extend(messages)
        failures.extend(errors)
    return found, failures


def mail_of(data: bytes, limits: Limits) -> list[MboxEntry]:
    """The messages of an .eml (one) or an mbox (the archive connector's reader)."""
    if not data.startswith(b"From "):
        return [MboxEntry(0, len(data), data)]
    entries = read_mbox(io.BytesIO(data), 0, limits.max_message_bytes)
    return list(itertools.islice(entries, MAX_MBOX_MESSAGES))


def inspect_file(
    path: Path,
    policy: AccountPolicy,
    as_json: bool = False,
    window: Window | None = None,
    directory: Directory | None = None,
) -> int:
    """``directory``: the contacts to resolve against (default none: a first capture)."""
    import matcher
    from matcher.directory import InMemoryDirectory

    window = window or default_window(datetime.now(UTC))
    try:
        read = read_records(path, Limits(), window)
        known = directory if directory is not None else InMemoryDirectory()
        plan = matcher.plan_batch(read.records, policy, known, errors=read.errors)
        if plan.errors and not plan.interactions:
            first = plan.errors[0]
            raise InspectError(f"{first.reason} ({first.detail})" if first.detail else first.reason)
        signatures = signature_report(read.records, policy.phone_region)
    except (OSError, InspectError, InvalidInput, ValueError) as exc:
        return _failed(path, _reason(exc), as_json)
    except Exception as exc:  # hostile input must never produce a traceback
        return _failed(path, type(exc).__name__, as_json)
    if as_json:
        span = {"since": window.since, "until": window.until}
        report = {"plan": plan, "signatures": signatures, "window": span}
        render.json_lines([{**report, "outside_window": read.outside}])
        return EXIT_OK
    print_plan(plan, signatures)
    if read.outside:
        since, until = (f"{d:%Y-%m-%d}" for d in (window.since, window.until))
        print(
            f"{read.outside} meeting occurrence(s) outside {since}..{until} not shown;"
            " see them with --since/--until"
        )
    return EXIT_OK


def _failed(path: Path, reason: str, as_json: bool) -> int:
    """One line on stderr; with --json also a JSON object, so a script always gets JSON."""
    print(f"autocapture: cannot inspect {path}: {reason}", file=sys.stderr)
    if as_json:
        render.json_lines([{"file": str(path), "error": reason}])
    return 1


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc) or type(exc).__name__


def signature_report(records: Sequence[Record], region: str | None = None) -> list[dict[str, Any]]:
    """Each message's zones (kind, author, people named in its inline header,
    line range and character offsets of the rendered text) with the signature
    block and fields found in it, as the pipeline reads them."""

    report: list[dict[str, Any]] = []
    for record in records:
        if isinstance(record, Message) and record.text:
            report.extend(_zones_of(record, region))
    return report


def _zones_of(message: Any, region: str | None) -> list[dict[str, Any]]:
    from matcher.addresses import parse_address_list
    from matcher.body.html import html_to_text
    from matcher.body.signatures import observations_by_author
    from matcher.body.zones import MAX_TEXT_CHARS, split_zones

    senders = parse_address_list(message.header("from") or "")
    sender = senders[0] if senders else None
    name = message.source.provider_id
    try:
        text = (
            html_to_text(message.text, MAX_TEXT_CHARS, quotes=True)
            if message.text_is_html
            else message.text
        )
        zones = split_zones(text, sender)
        found = observations_by_author(text, False, sender, region)
    except InvalidInput as exc:  # the pipeline keeps the message, without signatures
        return [{"message": name, "error": exc.reason}]
    # Same text and sender: split_zones gives the zones observations_by_author read.
    return [
        {
            "message": name,
            "zone": sig.zone_index,
            "kind": sig.kind,
            "author": sig.author.email if sig.author else None,
            "author_name": sig.author_name,
            "lines": [_line_of(text, zone.start), _line_of(text, max(zone.start, zone.end - 1))],
            "chars": [zone.start, zone.end],
            "people": [{"role": role, "email": a.email} for role, a in sig.people],
            "signature": (
                {
                    "lines": [_line_of(text, sig.block.start), _line_of(text, sig.block.end - 1)],
                    "confidence": sig.block.confidence,
                }
                if sig.block is not None
                else None
            ),
            "fields": [
                {"field": o.field, "value": o.value, "confidence": o.confidence}
                for o in sig.observations
            ],
        }
        for zone, sig in zip(zones, found, strict=True)
    ]


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(offset, 0)) + 1


def print_plan(plan: Plan, signatures: list[dict[str, Any]]) -> None:
    for item in plan.interactions:
        when = item.occurred_at.strftime("%Y-%m-%d %H:%M UTC")
        print(f"{item.kind} {item.identity}")
        print(f"  {when}  {item.direction}  {item.status}  {item.subject or ''}".rstrip())
        rows = [
            {
                "role": p.role,
                "email": p.email,
                "name": p.name,
                "class": p.klass,
                "decision": p.decision,
                "contact": p.contact_id,
                "rule": explain_rule(p.rule),
            }
            for p in item.participants
        ]
        render.table(rows, ["role", "email", "name", "class", "decision", "contact", "rule"])
        print()
    for sig in signatures:
        print_zone(sig)
    for err in plan.errors:
        print(f"error {err.source.provider_id}: {err.reason} {err.detail}".rstrip())


def print_zone(sig: dict[str, Any]) -> None:
    if "error" in sig:
        print(f"{sig['message']}: no signatures ({sig['error']})")
        return
    author = sig["author"] or "?"
    if sig["author_name"]:
        author += f" ({sig['author_name']})"
    first, last = sig["lines"]
    start, end = sig["chars"]
    print(f"zone {sig['zone']} ({sig['kind']}) lines {first}-{last} [{start}:{end}] by {author}")
    if sig["people"]:
        print("  named: " + ", ".join(f"{p['role']} {p['email']}" for p in sig["people"]))
    block = sig["signature"]
    if block is not None:
        first, last = block["lines"]
        print(f"  signature lines {first}-{last}, confidence {block['confidence']:.2f}")
    for f in sig["fields"]:
        print(f"  {f['field']}: {f['value']}  (confidence {f['confidence']:.2f})")
