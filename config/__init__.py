"""YAML -> frozen, typed settings; every problem reported at once with file:line.

Only ``agent`` reads configuration (docs/ARCHITECTURE.md, "Layers"); nothing below it reads YAML
or the environment. Typical use::

    settings = config.load(Path("autocapture.yaml"))   # raises ConfigError
    password = account.password.resolve()              # at the time of use
"""

from config.accounts import (
    AccountSettings,
    ArchiveAccount,
    CaldavAccount,
    GmailAccount,
    ImapAccount,
    MicrosoftAccount,
)
from config.check import Review, check, review, run_check
from config.errors import ConfigError, Problem, SecretUnavailable
from config.loader import load, load_text
from config.settings import BlocklistSettings, CreationSettings, Settings, default_database_url
from config.values import Secret, parse_duration

__all__ = [
    "AccountSettings",
    "ArchiveAccount",
    "BlocklistSettings",
    "CaldavAccount",
    "ConfigError",
    "CreationSettings",
    "GmailAccount",
    "ImapAccount",
    "MicrosoftAccount",
    "Problem",
    "Review",
    "Secret",
    "SecretUnavailable",
    "Settings",
    "check",
    "default_database_url",
    "load",
    "load_text",
    "parse_duration",
    "review",
    "run_check",
]
