"""What each CLI command does. Argument parsing lives in ``agent.cli``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent import heap, logs, render
from agent.redact import redact, register_secret
from config.exit_codes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK

log = logging.getLogger("autocapture.cli")


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
        settings = load(path)
    except ConfigError as exc:
        # One "file:line path: message" per line, as editors and CI annotators read them.
        raise CommandError(str(exc), EXIT_CONFIG, prefix=False) from None
    logs.follow_config(settings.log_level)
    log.debug("configuration %s: %s", path, describe(settings))
    return settings


DESCRIBED_ACCOUNTS = 20


def describe(settings: Any, detailed: bool = False) -> str:
    """The enabled accounts and the database, for a log line: no secret can be in it."""
    from sqlalchemy.engine import make_url

    from config.values import format_duration

    enabled = [a for a in settings.accounts if a.enabled]
    database = redact(make_url(settings.database_url).render_as_string(hide_password=True))
    text = f"{len(enabled)} account{'' if len(enabled) == 1 else 's'}, database {database}"
    if len(enabled) < len(settings.accounts):
        text += f" ({len(settings.accounts) - len(enabled)} disabled)"
    if detailed and enabled:
        text += ": " + ", ".join(
            f"{a.name} ({a.kind}, every {format_duration(a.poll_interval)})"
            for a in enabled[:DESCRIBED_ACCOUNTS]
        )
        if len(enabled) > DESCRIBED_ACCOUNTS:  # a team's 1,000 accounts are no log line
            text += f" and {len(enabled) - DESCRIBED_ACCOUNTS} more"
    return text


def register_account_secrets(settings: Any) -> None:
    """Resolve every account's secrets now, so redaction knows them before anything logs.

    A secret that cannot be resolved is skipped: the account that needs it
    fails later with its own message, and the other accounts go on.
    """
    for account in settings.accounts:
        for secret in account.secrets().values():
            try:
                register_secret(secret.resolve())
            except Exception:  # an unavailable secret fails later, with its own message
                continue


def open_db(settings: Any, *, read_only: bool = False) -> Any:
    """The database; read commands open it read-only (no migration, no journal)."""
    import storage

    try:
        return storage.open_database(settings.database_url, read_only=read_only)
    except storage.DatabaseUnavailable as exc:
        raise CommandError(str(exc)) from None


def cmd_config_check(args: argparse.Namespace, path: Path) -> int:
    """Problems and warnings on stderr; without FILE, the config every other command reads."""
    from agent.registry import CONNECTORS
    from config.check import run_check
    from connectors.archive.files import no_mail_reason

    return run_check(args.file or path, sys.stderr, CONNECTORS.kinds(), no_mail_reason)


# How long a stop request waits for the batch in hand. A connector blocked
# in a system call (a server that never answers within its timeout, a file
# system that hangs) cannot see the request; past this the process ends
# anyway. Data and cursor commit together, so what was cut off is redone.
STOP_GRACE_SECONDS = 20.0


def _end_after(seconds: float, code: int) -> None:
    time.sleep(seconds)
    os.write(2, b"autocapture: still busy after a stop request; exiting\n")
    os._exit(code)


@contextmanager
def stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM/SIGINT ask running passes to stop after the batch in hand;
    the process ends within ``STOP_GRACE_SECONDS`` whatever it is blocked on,
    and at once on a second request."""
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        if stop.is_set():
            os._exit(128 + signum)
        stop.set()
        end = threading.Thread(
            target=_end_after, args=(STOP_GRACE_SECONDS, 128 + signum), daemon=True
        )
        end.start()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def cmd_run(args: argparse.Namespace, path: Path) -> int:
    from agent.leases import LeasedPoller
    from agent.poller import Poller

    settings = load_settings(path)
    register_account_secrets(settings)
    db = open_db(settings)
    # PostgreSQL: any number of workers share the accounts by leases.
    shared = db.engine.url.get_backend_name() == "postgresql"
    with single_run(db), metrics_endpoint(settings, db) as activity:
        heap.settle()
        logging.getLogger("autocapture.run").info("polling %s", describe(settings, detailed=True))
        with stop_on_signals() as stop:
            poller = LeasedPoller if shared else Poller
            poller(settings, db, stop, activity=activity).run()
    return EXIT_OK


@contextmanager
def metrics_endpoint(settings: Any, db: Any) -> Iterator[Any]:
    """The Prometheus endpoint while ``run`` runs, if the config turns it on."""
    from agent.metrics import Activity, MetricsServer

    activity = Activity()
    if not settings.metrics.enabled:
        yield activity
        return
    where = f"{settings.metrics.address}:{settings.metrics.port}"
    try:
        server = MetricsServer(settings.metrics, db, activity)
    except OSError as exc:
        raise CommandError(f"metrics endpoint {where}: {exc.strerror or exc}") from None
    logging.getLogger("autocapture.run").info("metrics at http://%s/metrics", where)
    try:
        yield activity
    finally:
        server.close()


# Not a possible account name (config allows letters, digits and - _ . @).
RUN_LOCK = ":run"


@contextmanager
def single_run(db: Any) -> Iterator[None]:
    """One ``run`` per SQLite database: a second would only find every account busy.

    PostgreSQL is shared by design (several agents divide the accounts), so
    only the per-account holds apply there.
    """
    from storage.account_lock import AccountBusy, hold

    if db.engine.url.get_backend_name() != "sqlite":
        yield
        return
    with ExitStack() as held:
        try:
            held.enter_context(hold(db.engine, RUN_LOCK))
        except AccountBusy as exc:
            who = f"pid {exc.holder}" if exc.holder else "another process"
            raise CommandError(
                f"`autocapture run` is already running against {db.engine.url.database} "
                f"({who}); stop it first, or use `autocapture sync` for a one-off pass"
            ) from None
        yield


def cmd_sync(args: argparse.Namespace, path: Path) -> int:
    from agent.progress import batch_progress
    from agent.sync import sync_once

    settings = load_settings(path)
    enabled = [a.name for a in settings.accounts if a.enabled]
    if args.account is not None and args.account not in enabled:
        raise CommandError(f"no enabled account named {args.account!r}", EXIT_CONFIG)
    if not enabled:  # an empty file loads; say so rather than create an empty database
        print(
            f"autocapture: warning: no enabled accounts in {path}; nothing to sync", file=sys.stderr
        )
        return EXIT_OK
    register_account_secrets(settings)
    db = open_db(settings)
    heap.settle()
    with stop_on_signals() as stop, batch_progress() as listener:
        reports = sync_once(settings, db, args.account, stop=stop, listener=listener)
    for r in reports:
        if r.outcome == "busy":
            print(f"{r.account}: busy - {r.message}")
            continue
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


# Longer than any email address (RFC 5321 allows 254 characters) or name;
# SQLite refuses LIKE patterns past 50,000 bytes with a traceback.
MAX_SEARCH_CHARS = 256


def search_text(text: str) -> str:
    """The argument of ``contacts search``, or a usage error before any database is opened."""
    try:
        # Undecodable bytes in argv arrive as lone surrogates (PEP 383).
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandError(
            "contacts search: the search text is not valid UTF-8", EXIT_CONFIG
        ) from None
    if len(text) > MAX_SEARCH_CHARS:
        raise CommandError(
            f"contacts search: the search text is longer than {MAX_SEARCH_CHARS} characters",
            EXIT_CONFIG,
        )
    return text


def cmd_contacts(args: argparse.Namespace, path: Path) -> int:
    if args.action == "import":
        return import_contacts(args, load_settings(path))
    if args.action == "reindex":
        print(f"{open_db(load_settings(path)).reindex_contacts()} contacts indexed")
        return EXIT_OK
    text = search_text(args.text) if args.action == "search" else ""
    if args.action in ("merge", "unmerge", "show"):
        return _identity(args, load_settings(path))
    if args.action == "list" and args.stale is not None:
        from agent.identity import stale_rows

        rows = stale_rows(args, open_db(load_settings(path), read_only=True))
        return _listing(args, rows, ["id", "name", "emails", "company", "last_seen_at"])
    db = open_db(load_settings(path), read_only=True)
    rows = (
        db.search_contacts(text)
        if args.action == "search"
        else db.list_contacts(limit=args.limit, offset=args.offset)
    )
    return _listing(args, rows, ["id", "name", "emails", "company"])


def _identity(args: argparse.Namespace, settings: Any) -> int:
    """``contacts merge|unmerge|show`` (agent.identity): refusals are one line, exit 1."""
    from agent import identity
    from storage import MergeRefused

    if args.action == "show":
        if not identity.show(args, open_db(settings, read_only=True)):
            raise CommandError(f"no contact with id {args.id}")
        return EXIT_OK
    where = identity.unmerge_target(args.target) if args.action == "unmerge" else {}
    if where is None:
        raise CommandError("unmerge takes a merge (m12) or a contact id (57)", EXIT_CONFIG)
    try:
        db = open_db(settings)
        line = (
            identity.merge(args, db)
            if args.action == "merge"
            else identity.unmerge(args, db, where)
        )
    except MergeRefused as exc:
        raise CommandError(str(exc)) from None
    print(line)
    return EXIT_OK


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


def cmd_dedupe(args: argparse.Namespace, path: Path) -> int:
    """Duplicate pairs on stdout, the summary (and merges) on stderr (agent.identity)."""
    from agent.identity import dedupe
    from agent.policy import thresholds_of

    settings = load_settings(path)
    db = open_db(settings, read_only=args.apply_above is None)
    for line in dedupe(args, db, thresholds_of(settings)):
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_interactions(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path), read_only=True)
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
    db = open_db(load_settings(path), read_only=True)
    rows = db.list_errors(account=args.account)
    if args.json:
        render.json_lines(rows)
        return EXIT_OK
    # What a person needs to find the item: the whole stream (a folder or a
    # file path), and the locator, else the provider id (a file name, a UID).
    table = [{**render.plain(r), "where": r.locator or r.provider_id} for r in rows]
    cols = ["account", "stream", "where", "reason", "detail", "count"]
    render.table(table, cols, whole=("stream", "where"))
    return EXIT_OK


def cmd_changes(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path), read_only=True)
    rows = db.changes_since(args.since, limit=args.limit)
    return _listing(args, rows, ["id", "entity", "entity_id", "operation", "other_id", "at"])


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
    from agent.inspect import default_window, inspect_file, policy_for_inspect
    from connectors.base import Window

    wants_db = args.database
    settings = load_settings(path) if (args.account or args.config or wants_db) else None
    policy = policy_for_inspect(settings, args.account, args.owner)
    window = default_window(datetime.now(UTC))
    window = Window(args.since or window.since, args.until or window.until, now=window.now)
    if window.since >= window.until:
        raise CommandError("--since must come before --until", EXIT_CONFIG)
    directory = open_db(settings, read_only=True).directory() if wants_db else None
    return inspect_file(args.file, policy, as_json=args.json, window=window, directory=directory)


def cmd_service(args: argparse.Namespace, path: Path) -> int:
    from agent import service

    platform = args.platform or service.current_platform()
    try:
        version = service.systemd_version() if platform == "systemd" else 0
        plan = service.plan(platform, path, system=args.system, version=version)
        if args.action == "install" and args.print:
            sys.stdout.buffer.write(plan.content)
            return EXIT_OK
        if args.action == "install":
            load_settings(path)  # a service that cannot start is worse than no service
            lines = service.install(plan, system=args.system)
        else:
            lines = (service.uninstall if args.action == "uninstall" else service.status)(plan)
    except service.ServiceError as exc:
        raise CommandError(str(exc), EXIT_FAILED) from None
    print("\n".join(lines))
    return EXIT_OK


Command = Callable[[argparse.Namespace, Path], int]
COMMANDS: dict[str, Command] = {
    "run": cmd_run,
    "sync": cmd_sync,
    "status": cmd_status,
    "contacts": cmd_contacts,
    "interactions": cmd_interactions,
    "errors": cmd_errors,
    "changes": cmd_changes,
    "dedupe": cmd_dedupe,
    "forget": cmd_forget,
    "purge": cmd_purge,
    "inspect": cmd_inspect,
    "config": cmd_config_check,
    "service": cmd_service,
    "verify": cmd_verify,
}


def dispatch(
    args: argparse.Namespace, path: Path, commands: dict[str, Command] | None = None
) -> int:
    """Run ``args.command`` from ``commands`` (default ``COMMANDS``); a ``CommandError``
    becomes its one line on stderr and its exit code."""
    try:
        return (commands or COMMANDS)[args.command](args, path)
    except CommandError as exc:
        prefix = "autocapture: " if exc.prefix else ""
        print(prefix + redact(str(exc)), file=sys.stderr)
        return exc.code
