"""What the capture commands do (``run``, ``sync``, ``config check``, ``inspect``,
``service``), and what every command shares: loading the configuration,
opening the database, one-line failures. Argument parsing and the table of
commands live in ``agent.cli``; the other commands in ``agent.status_commands``,
``agent.data_commands`` and ``agent.review_commands``."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
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


def listing(args: argparse.Namespace, rows: list[Any], columns: list[str]) -> int:
    if args.json:
        render.json_lines(rows)
    else:
        render.table(render.records(rows), columns)
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


def dispatch(args: argparse.Namespace, path: Path, commands: Mapping[str, Command]) -> int:
    """Run ``args.command`` from ``commands`` (``agent.cli.COMMANDS``); a ``CommandError``
    becomes its one line on stderr and its exit code."""
    try:
        return commands[args.command](args, path)
    except CommandError as exc:
        prefix = "autocapture: " if exc.prefix else ""
        print(prefix + redact(str(exc)), file=sys.stderr)
        return exc.code
