"""What each CLI command does. Argument parsing lives in ``agent.cli``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import heap, render
from agent.redact import redact, register_secret

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2


class CommandError(Exception):
    """A one-line failure for stderr, with its exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED, prefix: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.prefix = prefix


def load_settings(path: Path) -> Any:
    from config.errors import ConfigError
    from config.loader import load

    if not path.exists():
        raise CommandError(
            f"no configuration at {path}; copy config/example.yaml there or pass --config FILE",
            EXIT_CONFIG,
        )
    try:
        return load(path)
    except ConfigError as exc:
        # One "file:line path: message" per line, as editors and CI annotators read them.
        raise CommandError(str(exc), EXIT_CONFIG, prefix=False) from None


def register_account_secrets(settings: Any) -> None:
    """Resolve every account's secrets now, so redaction knows them before anything logs.

    A secret that cannot be resolved is skipped: the account that needs it
    fails later with its own message, and the other accounts go on.
    """
    for account in settings.accounts:
        for name in ("password", "oauth_token", "token", "client_secret", "refresh_token"):
            secret = getattr(account, name, None)
            if secret is None:
                continue
            try:
                register_secret(secret.resolve())
            except Exception:  # an unavailable secret fails later, with its own message
                continue


def open_db(settings: Any) -> Any:
    import storage

    return storage.open_database(settings.database_url)


def cmd_config_check(args: argparse.Namespace, _: Path) -> int:
    """Problems and warnings (world-readable secret files, unset variables) on stderr."""
    from config.check import run_check

    return run_check(args.file, sys.stderr)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT ask running passes to stop after the batch in hand."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def cmd_run(args: argparse.Namespace, path: Path) -> int:
    from agent.poller import Poller

    settings = load_settings(path)
    register_account_secrets(settings)
    db = open_db(settings)
    heap.settle()
    with stop_on_signals() as stop:
        Poller(settings, db, stop).run()
    return EXIT_OK


def cmd_sync(args: argparse.Namespace, path: Path) -> int:
    from agent.progress import batch_progress
    from agent.sync import sync_once

    settings = load_settings(path)
    register_account_secrets(settings)
    db = open_db(settings)
    heap.settle()
    with stop_on_signals() as stop, batch_progress() as listener:
        try:
            reports = sync_once(settings, db, args.account, stop=stop, listener=listener)
        except KeyError:
            raise CommandError(f"no enabled account named {args.account!r}", EXIT_CONFIG) from None
    for r in reports:
        line = (
            f"{r.account}: {r.outcome} - {r.records} records, {r.new_interactions} new "
            f"interactions, {r.new_contacts} new contacts, {r.errors} errors"
        )
        print(line + (f" ({r.message})" if r.message else ""))
    failed = any(r.outcome in ("error", "needs_reauth") for r in reports)
    return EXIT_FAILED if failed else EXIT_OK


def _listing(args: argparse.Namespace, rows: list[Any], columns: list[str]) -> int:
    if args.json:
        render.json_lines(rows)
    else:
        render.table(render.records(rows), columns)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path))
    rows = db.account_status()
    if args.json:
        render.json_lines(rows)
        return EXIT_OK
    now = datetime.now(UTC)
    table = [
        {
            **render.plain(r),
            "last_success": _ago(now, r.last_success_at),
            "newest_item": _ago(now, r.newest_interaction_at),
            "last_error": _ago(now, r.last_error_at),
        }
        for r in rows
    ]
    cols = [
        "name",
        "kind",
        "state",
        "last_success",
        "items_captured",
        "newest_item",
        "last_error",
        "message",
    ]
    render.table(table, cols, max_width=80)
    return EXIT_OK


def _ago(now: datetime, when: datetime | None) -> str | None:
    """Lag as people read it: "4m ago"."""
    if when is None:
        return None
    seconds = max(0, int((now - when).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def cmd_contacts(args: argparse.Namespace, path: Path) -> int:
    from agent.contact_view import print_contact

    if args.action == "import":
        return import_contacts(args, load_settings(path))
    db = open_db(load_settings(path))
    if args.action == "show":
        contact = db.get_contact(args.id)
        if contact is None:
            raise CommandError(f"no contact with id {args.id}")
        if args.json:
            render.json_lines([contact])
        else:
            print_contact(contact)
        return EXIT_OK
    rows = (
        db.search_contacts(args.text)
        if args.action == "search"
        else db.list_contacts(limit=args.limit, offset=args.offset)
    )
    return _listing(args, rows, ["id", "name", "emails", "company"])


MAX_IMPORT_BYTES = 512 * 1024 * 1024


def import_contacts(args: argparse.Namespace, settings: Any) -> int:
    """``contacts import FILE``: bad cards on stderr as FILE:LINE, the rest imported; exit 1 if any."""
    from connectors.contact_files import CARD_FIELDS, Card, read_csv, read_vcards
    from matcher.mailboxes import mailbox_key

    mapping = dict(m.partition("=")[::2] for m in args.map)
    if any(f not in (*CARD_FIELDS, "email") or not h for f, h in mapping.items()):
        raise CommandError(
            f"--map takes FIELD=HEADER, FIELD one of email, {', '.join(CARD_FIELDS)}", EXIT_CONFIG
        )
    try:
        if args.file.stat().st_size > MAX_IMPORT_BYTES:
            raise CommandError(f"{args.file}: larger than {MAX_IMPORT_BYTES // 2**20} MiB")
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    text = _decoded(data)
    vcard = args.format == "vcard" or (
        args.format is None and args.file.suffix.lower() in (".vcf", ".vcard")
    )
    cards = list(read_vcards(text) if vcard else read_csv(text, mapping))
    domains = settings.subaddressing.domains_for(settings.org_domains)
    emails = {e for c in cards if isinstance(c, Card) for e in c.emails}
    done = open_db(settings).import_contacts(cards, {e: mailbox_key(e, domains) for e in emails})
    for error in done.errors:
        detail = f": {error.detail}" if error.detail else ""
        print(f"{args.file}:{error.line}: {error.reason}{detail}", file=sys.stderr)
    print(
        f"{args.file}: {done.created} created, {done.updated} updated, "
        f"{done.unchanged} unchanged, {len(done.errors)} not imported"
    )
    return EXIT_FAILED if done.errors else EXIT_OK


def _decoded(data: bytes) -> str:
    """Exports are UTF-8 (often with a BOM, Excel) or, from older Outlook, Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def cmd_interactions(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path))
    rows = db.list_interactions(contact_id=args.contact, limit=args.limit)
    if args.json:
        render.json_lines(rows)
        return EXIT_OK
    table = [
        {
            **render.plain(r),
            "occurred_at": r.occurred_at,
            "copies": len(r.sources),
            "with": [p.email for p in r.participants if p.klass != "internal"],
        }
        for r in rows
    ]
    cols = ["id", "kind", "occurred_at", "direction", "status", "subject", "with", "copies"]
    render.table(table, cols)
    return EXIT_OK


def cmd_errors(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path))
    rows = db.list_errors(account=args.account)
    return _listing(args, rows, ["account", "stream", "provider_id", "reason", "detail", "count"])


def cmd_changes(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path))
    rows = db.changes_since(args.since, limit=args.limit)
    return _listing(args, rows, ["id", "entity", "entity_id", "operation", "at"])


def cmd_forget(args: argparse.Namespace, path: Path) -> int:
    """Erase a person; only a salted digest of their addresses stays (storage.forget)."""
    from connectors.records import normalize_email
    from matcher.mailboxes import mailbox_key

    settings = load_settings(path)
    target = args.target.strip()
    if target.isdigit():
        where: dict[str, Any] = {"contact_id": int(target)}
    elif email := normalize_email(target):
        domains = settings.subaddressing.domains_for(settings.org_domains)
        where = {"addresses": sorted({email, mailbox_key(email, domains)})}
    else:
        raise CommandError("forget takes a contact id or an email address", EXIT_CONFIG)
    try:
        done = open_db(settings).forget(**where)
    except LookupError:
        raise CommandError(f"nothing stored for {target}") from None
    who = f"contact {done.contact_id}" if done.contact_id is not None else "the address"
    print(
        f"forgot {who}: {done.addresses} addresses kept only as salted digests, "
        f"{done.anonymised} participations anonymised, "
        f"{done.erased_interactions} interactions with nobody else erased"
    )
    return EXIT_OK


def cmd_purge(args: argparse.Namespace, path: Path) -> int:
    """Apply today's blocklist to what was captured before it (storage.purge)."""
    from agent.policy import blocklist_of

    settings = load_settings(path)
    done = open_db(settings).purge(blocklist_of(settings), apply=args.apply)
    verb = "removed" if args.apply else "would remove"
    print(
        f"{verb} {done.contacts} contacts, {done.addresses} contact addresses, "
        f"{done.participants} participants and {done.interactions} interactions"
    )
    return EXIT_OK


def cmd_inspect(args: argparse.Namespace, path: Path) -> int:
    from agent.inspect import inspect_file, policy_for_inspect

    settings = load_settings(path) if (args.account or args.config) else None
    policy = policy_for_inspect(settings, args.account, args.owner)
    return inspect_file(args.file, policy, as_json=args.json)


COMMANDS: dict[str, Callable[[argparse.Namespace, Path], int]] = {
    "run": cmd_run,
    "sync": cmd_sync,
    "status": cmd_status,
    "contacts": cmd_contacts,
    "interactions": cmd_interactions,
    "errors": cmd_errors,
    "changes": cmd_changes,
    "forget": cmd_forget,
    "purge": cmd_purge,
    "inspect": cmd_inspect,
    "config": cmd_config_check,
}


def dispatch(args: argparse.Namespace, path: Path) -> int:
    try:
        return COMMANDS[args.command](args, path)
    except CommandError as exc:
        prefix = "autocapture: " if exc.prefix else ""
        print(prefix + redact(str(exc)), file=sys.stderr)
        return exc.code
