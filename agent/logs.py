"""Logging for the command line: stderr (and optionally a rotated file), every record redacted.

The level is the command line's when -v/-vv is given; otherwise the
configuration's ``log_level`` once a command has loaded it; before that (and
for commands that read no configuration) WARNING.

Lines are text for people, or JSON for log collectors (``--log-format
json``): a JSON line carries the record's fields as keys, so a collector
(journald's JSON export, Loki, an ELK pipeline) can filter by level or logger
without parsing prose. Its message is the one ``RedactingFilter`` already
rendered and redacted, and it adds no field that could hold a secret (no
args, no exception objects, no environment).
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path

from agent.redact import RedactingFilter

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# launchd and Task Scheduler keep no journal: the agent rotates its own file.
FILE_BYTES, FILE_BACKUPS = 10 << 20, 5

# Libraries that narrate their own start-up at INFO (alembic: one line per
# plugin on every command) speak below WARNING only when DEBUG is asked for.
CHATTY_LIBRARIES = ("alembic",)
# Libraries that log what must stay secret below WARNING: requests-oauthlib
# the token endpoint's answer (access and refresh token) at DEBUG,
# google-auth-oauthlib the loopback request line (the authorization code) at
# INFO. They are never let below WARNING, whatever the level.
SECRET_NARRATORS = ("requests_oauthlib", "oauthlib", "google_auth_oauthlib")

_from_flag = False


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        return json.dumps(line, ensure_ascii=False)


def setup(verbose: int, log_file: Path | None = None, log_format: str = "text") -> None:
    """Install the handlers; ``verbose`` (the -v count) fixes the level when above 0."""
    global _from_flag
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=FILE_BYTES, backupCount=FILE_BACKUPS
            )
        )
    for handler in handlers:
        handler.setFormatter(JsonLines() if log_format == "json" else logging.Formatter(TEXT))
        handler.addFilter(RedactingFilter())
    logging.getLogger().handlers[:] = handlers
    # A library's warning printed by the warnings module skips these handlers:
    # no redaction, no JSON, and a site-packages path on a rep's terminal.
    # Captured, it is a WARNING record of "py.warnings" like any other line.
    logging.captureWarnings(True)
    _from_flag = verbose > 0
    _set_level(logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)


def follow_config(level: str) -> None:
    """The configuration's ``log_level``, unless the command line chose one."""
    if not _from_flag:
        _set_level(logging.getLevelNamesMapping()[level])


def _set_level(level: int) -> None:
    logging.getLogger().setLevel(level)
    for name in CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(
            logging.NOTSET if level <= logging.DEBUG else logging.WARNING
        )
    for name in SECRET_NARRATORS:
        logging.getLogger(name).setLevel(logging.WARNING)
