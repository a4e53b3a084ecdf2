"""`autocapture config check FILE`: every problem at once, plus risks worth a warning.

Checking reads the YAML file and, for warnings, the secret references and
archive paths it names; it never opens the database, so an admin can check
a file on a machine where the agent is running without disturbing it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.document import Document, KeyPath, format_path
from config.errors import Problem, Severity
from config.exit_codes import EXIT_CONFIG, EXIT_OK
from config.loader import check, parse_file
from config.settings import ArchiveAccount, Settings

__all__ = ["Review", "check", "review", "run_check", "settings_warnings", "unsyncable"]


@dataclass(frozen=True, slots=True)
class Review:
    """A checked file: Settings if valid, its problems, and warnings that do not block."""

    settings: Settings | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def review(path: Path, syncable: Collection[str] | None = None) -> Review:
    """The file's problems and warnings; with ``syncable`` (the kinds this version has a
    connector for), an enabled account of another kind is a problem too."""
    parsed = parse_file(path)
    if parsed.settings is None:
        return Review(None, tuple(parsed.problems), ())
    found = settings_warnings(parsed.settings, str(path), parsed.document)
    if syncable is not None:
        missing = unsyncable(parsed.settings, syncable, str(path), parsed.document)
        if any(p.severity == "error" for p in missing):
            return Review(None, tuple(p for p in missing if p.severity == "error"), ())
        found += missing
    return Review(parsed.settings, (), tuple(found))


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


def run_check(path: Path, out: TextIO, syncable: Collection[str] | None = None) -> int:
    """Print problems and warnings one per line; the process exit status (0 or 2)."""
    result = review(path, syncable)
    for item in (*result.problems, *result.warnings):
        print(item, file=out)
    if result.settings is None:
        print(f"{_count(len(result.problems), 'problem')} in {path}", file=out)
        return EXIT_CONFIG
    print(f"{path}: OK, {_count(len(result.settings.accounts), 'account')}", file=out)
    return EXIT_OK


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def settings_warnings(settings: Settings, filename: str, document: Document) -> list[Problem]:
    """Secrets unreadable here or readable by others, archive paths not there, weak transport.

    Disabled accounts are skipped: they read no secrets and no files.
    """
    found: list[Problem] = []
    for index, account in enumerate(settings.accounts):
        if not account.enabled:
            continue
        at = ("accounts", index)
        risks: list[tuple[KeyPath, str]] = []
        for name, secret in account.secrets().items():
            risks += [((*at, name), risk) for risk in secret.risks()]
        if getattr(account, "verify_tls", True) is False:
            risks.append(((*at, "verify_tls"), "server certificates are not checked"))
        if getattr(account, "tls", None) == "none":
            risks.append(((*at, "tls"), "the password crosses the network in clear text"))
        if isinstance(account, ArchiveAccount):
            risks += [
                ((*at, "paths", n), f"{p} does not exist (yet)")
                for n, p in enumerate(account.paths)
                if not p.exists()
            ]
        found += [
            Problem(filename, document.line_of(key), format_path(key), risk, "warning")
            for key, risk in risks
        ]
    return found
