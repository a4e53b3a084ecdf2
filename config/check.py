"""`autocapture config check FILE`: every problem at once, plus risks worth a warning.

Checking reads the YAML file and, for warnings, the secret references and
archive paths it names; it never opens the database, so an admin can check
a file on a machine where the agent is running without disturbing it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.accounts import AccountBase, ArchiveAccount, CaldavAccount
from config.document import Document, KeyPath, format_path
from config.errors import Problem, SecretUnavailable, Severity
from config.exit_codes import EXIT_CONFIG, EXIT_OK
from config.loader import check, parse_file
from config.settings import Settings

__all__ = ["Review", "check", "review", "run_check", "settings_warnings", "unsyncable"]


@dataclass(frozen=True, slots=True)
class Review:
    """A checked file: Settings if valid, its problems, and warnings that do not block."""

    settings: Settings | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


# Why a configured archive path gives no mail, or None. The archive connector
# knows its file formats; config may not import it (docs/ARCHITECTURE.md,
# layers), so the agent passes its reader in.
PathCheck = Callable[[Path], str | None]


def review(
    path: Path, syncable: Collection[str] | None = None, path_check: PathCheck | None = None
) -> Review:
    """The file's problems and warnings: secrets the agent could not read here, and with
    ``syncable`` (the kinds this version has a connector for), an enabled account of
    another kind. ``settings`` is set whenever the file loads."""
    parsed = parse_file(path)
    if parsed.settings is None:
        return Review(None, tuple(parsed.problems), ())
    found = settings_warnings(parsed.settings, str(path), parsed.document, path_check)
    if syncable is not None:
        found += unsyncable(parsed.settings, syncable, str(path), parsed.document)
    return Review(
        parsed.settings,
        tuple(p for p in found if p.severity == "error"),
        tuple(p for p in found if p.severity == "warning"),
    )


def unsyncable(
    settings: Settings, syncable: Collection[str], filename: str, document: Document
) -> list[Problem]:
    """Accounts of a kind no connector serves yet: a problem if enabled (the account would
    fail at its first sync), a warning if not."""
    known = ", ".join(sorted(syncable))
    found = []
    for index, account in enumerate(settings.accounts):
        if account.kind in syncable:
            continue
        key = ("accounts", index, "kind")
        message = (
            f'account kind "{account.kind}" has no connector in this version (available: {known})'
        )
        severity: Severity = "error" if account.enabled else "warning"
        if account.enabled:
            message += "; set enabled: false until it has"
        found.append(Problem(filename, document.line_of(key), format_path(key), message, severity))
    return found


def run_check(
    path: Path,
    out: TextIO,
    syncable: Collection[str] | None = None,
    path_check: PathCheck | None = None,
) -> int:
    """Print problems and warnings one per line; the process exit status (0 or 2)."""
    result = review(path, syncable, path_check)
    for item in (*result.problems, *result.warnings):
        print(item, file=out)
    if result.settings is None or result.problems:
        print(f"{_count(len(result.problems), 'problem')} in {path}", file=out)
        return EXIT_CONFIG
    print(f"{path}: OK, {_count(len(result.settings.accounts), 'account')}", file=out)
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def settings_warnings(
    settings: Settings, filename: str, document: Document, path_check: PathCheck | None = None
) -> list[Problem]:
    """Secrets unreadable here (errors: the agent could not run) or readable by others,
    archive paths not there, weak transport.

    Disabled accounts are skipped: they read no secrets and no files.
    """
    found = _idle(settings, filename, document)
    key_leak = settings.token_key.exposure()  # it opens every stored token
    if key_leak:
        line = document.line_of(("token_key",))
        found.append(Problem(filename, line, "token_key", key_leak, "warning"))
    for index, account in enumerate(settings.accounts):
        if not account.enabled:
            continue
        at = ("accounts", index)
        found += _secret_problems(account, at, filename, document)
        risks: list[tuple[KeyPath, str]] = []
        if getattr(account, "verify_tls", True) is False:
            risks.append(((*at, "verify_tls"), "server certificates are not checked"))
        if getattr(account, "tls", None) == "none":
            risks.append(((*at, "tls"), "the password crosses the network in clear text"))
        if isinstance(account, CaldavAccount) and _clear_text(account):
            risks.append(((*at, "url"), "the credentials cross the network in clear text"))
        if isinstance(account, ArchiveAccount):
            risks += [
                ((*at, "paths", n), f"{p} does not exist (yet)")
                for n, p in enumerate(account.paths)
                if not p.exists()
            ]
            risks += [
                ((*at, "paths", n), f"{p} {reason}: no mail will be read from it")
                for n, p in enumerate(account.paths)
                if path_check is not None and p.exists() and (reason := path_check(p))
            ]
        found += [
            Problem(filename, document.line_of(key), format_path(key), risk, "warning")
            for key, risk in risks
        ]
    return found


def _idle(settings: Settings, filename: str, document: Document) -> list[Problem]:
    """A warning when no account would run: an empty file loads, but captures nothing."""
    if any(account.enabled for account in settings.accounts):
        return []
    reason = "every account is disabled" if settings.accounts else "no accounts"
    line = document.key_lines.get(("accounts",), 0)
    path = "accounts" if line else ""
    return [Problem(filename, line, path, f"{reason}: nothing would be captured", "warning")]


def _secret_problems(
    account: AccountBase, at: KeyPath, filename: str, document: Document
) -> list[Problem]:
    found: list[Problem] = []
    for name, secret in account.secrets().items():
        key = (*at, name)
        try:
            secret.resolve()
        except SecretUnavailable as exc:
            message = f"{exc.reference} is unavailable: {exc.reason}"
            found.append(Problem(filename, document.line_of(key), format_path(key), message))
            continue
        leak = secret.exposure()
        if leak:
            found.append(
                Problem(filename, document.line_of(key), format_path(key), leak, "warning")
            )
    return found


def _clear_text(account: CaldavAccount) -> bool:
    credentials = account.password is not None or account.token is not None
    return credentials and account.url.startswith("http://")
