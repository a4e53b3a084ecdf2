"""Storage errors, described without the values involved.

Hierarchy::

    StorageError      a statement failed; ``transient`` says whether retrying
                      the same batch can succeed (lost connection, lock
                      timeout, deadlock, serialization failure)
    └── DatabaseUnavailable  the database cannot be opened as asked: not
                      writable, missing, or of another schema version

A database's own message can quote the failing row (PostgreSQL's "Failing
row contains (...)"), and rows hold subjects, snippets and addresses, so the
message is rebuilt from the error's structured fields: its class, SQLSTATE,
table, column or constraint. The original exception is not chained, for the
same reason.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

# PostgreSQL SQLSTATEs after which the same transaction can simply be retried.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57014"})


class StorageError(Exception):
    def __init__(self, what: str, sqlstate: str | None = None, transient: bool = False) -> None:
        super().__init__(what)
        self.sqlstate = sqlstate
        self.transient = transient


class DatabaseUnavailable(StorageError):
    """A one-line reason a command cannot use the database (say it, never a traceback)."""

    def __init__(self, what: str) -> None:
        super().__init__(what)


def described(exc: sa.exc.DBAPIError) -> StorageError:
    """A ``StorageError`` naming where ``exc`` happened, never which values."""
    orig: Any = exc.orig
    kind = type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: structured fields, no need for the message text
        place = ".".join(p for p in (diag.table_name, diag.column_name) if p)
        place = place or diag.constraint_name or "statement"
        what = f"{kind} ({sqlstate}) on {place}"
    else:  # sqlite3 names the constraint or condition, never the row's values
        what = f"{kind}: {orig}"
    transient = isinstance(exc, sa.exc.OperationalError) or sqlstate in RETRYABLE_SQLSTATES
    return StorageError(what, sqlstate, transient)
