"""What goes wrong with a configuration, and how it is reported.

Hierarchy::

    ConfigError        the file cannot become Settings; ``.problems`` lists
                       every mistake at once, each with file:line and key path
    SecretUnavailable  a ``${ENV_VAR}`` / ``file:/path`` reference cannot be
                       resolved at the time of use; names the reference only

Neither message ever contains a secret value: problems quote the offending
input only for keys that cannot hold secrets (durations, kinds, names).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake (or, with severity "warning", one risk) in a config file."""

    file: str
    line: int  # 1-based; 0 when the problem concerns the whole file
    path: str  # key path such as "accounts[1].poll_interval"; "" for the whole document
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"warning: {self.message}" if self.severity == "warning" else self.message
        return f"{where} {self.path}: {text}" if self.path else f"{where}: {text}"


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` holds every mistake found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class SecretUnavailable(Exception):
    """A secret reference cannot be resolved now (unset variable, unreadable file).

    ``key`` is the setting that holds the reference ("password"), when known.
    """

    def __init__(self, reference: str, reason: str, key: str = "") -> None:
        super().__init__(f"{key or 'secret'} {reference} is unavailable: {reason}")
        self.reference = reference
        self.reason = reason
        self.key = key

    def __reduce__(self) -> tuple[object, ...]:
        # Pickled by the agent's read-ahead process, which rebuilds from ``args``.
        return type(self), (self.reference, self.reason, self.key)
