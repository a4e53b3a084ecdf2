"""Keeps secrets out of logs and stored error messages (docs/ARCHITECTURE.md, invariant 5).

Connectors already avoid putting credentials in their messages; this is the
second line: every secret the agent resolves is registered here, and every
log record and stored account error passes through ``redact`` first, so a
library that echoes a URL with a token in it cannot leak it either.
"""

from __future__ import annotations

import logging
import os
import re
import threading

_lock = threading.Lock()
_secrets: set[str] = set()
_order: list[str] = []  # registration order, so a process can pass on what came later


def _unlock_in_child() -> None:
    # The agent forks its read-ahead process while other accounts' threads
    # may hold this lock; the child must not inherit it taken.
    global _lock
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_unlock_in_child)

# Credentials that can appear in URLs or headers even when never registered.
# A key counts only with a separator ("password=x", "password: x", JSON's
# "password": "x"): prose such as "update the password or re-authorize" has
# none. A key inside a config key path ("accounts[0].password: missing
# required key") names a setting; config problems never quote secret values.
_PATTERNS = (
    re.compile(r"(?i)(authorization:\s*(?:bearer|basic)\s+)\S+"),
    re.compile(
        r"(?i)((?<![.\]])(?:(?:access|refresh|id)_token|password)[\"']?\s*[=:]\s*[\"']?)"
        r"[^\s\"'&,]+"
    ),
    re.compile(r"(//[^/\s:@]+:)[^@\s/]+(@)"),
)


def register_secret(value: str) -> None:
    """Remember a secret so it is masked wherever it would be printed."""
    if value and len(value) >= 4:
        with _lock:
            if value not in _secrets:
                _secrets.add(value)
                _order.append(value)


def registered_since(mark: int) -> tuple[list[str], int]:
    """The secrets registered after the first ``mark``, and the new mark.

    The read-ahead process reads (and refreshes) tokens the agent never saw;
    it hands them over with its batches so the agent masks them too.
    """
    with _lock:
        return _order[mark:], len(_order)


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + "***" + (m.group(2) if m.lastindex == 2 else ""), text
        )
    return text


class RedactingFilter(logging.Filter):
    """Renders each record's message once, redacted, before any handler sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info:
            formatter = logging.Formatter()
            message = message + "\n" + formatter.formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True
