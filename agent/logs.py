"""Logging for the command line: one stderr handler, every record redacted.

The level is the command line's when -v/-vv is given; otherwise the
configuration's ``log_level`` once a command has loaded it; before that (and
for commands that read no configuration) WARNING.
"""

from __future__ import annotations

import logging
import sys

from agent.redact import RedactingFilter

# Libraries that narrate their own start-up at INFO (alembic: one line per
# plugin on every command) speak below WARNING only when DEBUG is asked for.
CHATTY_LIBRARIES = ("alembic",)

_from_flag = False


def setup(verbose: int) -> None:
    """Install the handler; ``verbose`` (the -v count) fixes the level when above 0."""
    global _from_flag
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    logging.getLogger().handlers[:] = [handler]
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
