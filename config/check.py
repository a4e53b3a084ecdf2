"""`autocapture config check FILE`: every problem at once, plus risks worth a warning.

Checking reads the YAML file and, for warnings, the secret references and
archive paths it names; it never opens the database, so an admin can check
a file on a machine where the agent is running without disturbing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from config.document import Document, KeyPath, format_path
from config.errors import Problem
from config.loader import check, parse_file
from config.settings import ArchiveAccount, CaldavAccount, Settings
from config.values import Secret

__all__ = ["EXIT_INVALID", "Review", "check", "review", "run_check", "settings_warnings"]

EXIT_INVALID = 2  # the acceptance criterion: an invalid config exits 2


@dataclass(frozen=True, slots=True)
class Review:
    """A checked file: Settings if valid, its problems, and warnings that do not block."""

    settings: Settings | None
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]


def review(path: Path) -> Review:
    parsed = parse_file(path)
    if parsed.settings is None:
        return Review(None, tuple(parsed.problems), ())
    found = settings_warnings(parsed.settings, str(path), parsed.document)
    return Review(parsed.settings, (), tuple(found))


def run_check(path: Path, out: TextIO) -> int:
    """Print problems and warnings one per line; the process exit status (0 or 2)."""
    result = review(path)
    for item in (*result.problems, *result.warnings):
        print(item, file=out)
    if result.settings is None:
        print(f"{_count(len(result.problems), 'problem')} in {path}", file=out)
        return EXIT_INVALID
    print(f"{path}: OK, {_count(len(result.settings.accounts), 'account')}", file=out)
    return 0


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
        for name in type(account).model_fields:
            value = getattr(account, name)
            if isinstance(value, Secret):
                risks += [((*at, name), risk) for risk in value.risks()]
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
        found += [
            Problem(filename, document.line_of(key), format_path(key), risk, "warning")
            for key, risk in risks
        ]
    return found


def _clear_text(account: CaldavAccount) -> bool:
    credentials = account.password is not None or account.token is not None
    return credentials and account.url.startswith("http://")
