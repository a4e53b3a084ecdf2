"""Storage: the schema, ``apply`` (one transaction per batch), the Directory, the change feed.

Entry point: ``open_database(url)`` returns a migrated ``Database``.
SQLite (``sqlite:///path``) is the embedded default; PostgreSQL
(``postgresql+psycopg://...``) serves teams and several agent processes.
"""

from storage.account_state import AccountStatus
from storage.apply import ApplyResult
from storage.changes import Change
from storage.database import Database, open_database
from storage.directory import StoredDirectory
from storage.errors import DatabaseUnavailable, StorageError
from storage.forget import Forgotten
from storage.imports import Imported
from storage.merges import MergeRecord, MergeRefused
from storage.purge import Purged
from storage.queries import (
    AddressView,
    ContactDetail,
    ContactSummary,
    ErrorView,
    FieldValue,
    InteractionView,
    Observed,
    ParticipantView,
    SourceView,
)

__all__ = [
    "AccountStatus",
    "AddressView",
    "ApplyResult",
    "Change",
    "ContactDetail",
    "ContactSummary",
    "Database",
    "DatabaseUnavailable",
    "ErrorView",
    "FieldValue",
    "Forgotten",
    "Imported",
    "InteractionView",
    "MergeRecord",
    "MergeRefused",
    "Observed",
    "ParticipantView",
    "Purged",
    "SourceView",
    "StorageError",
    "StoredDirectory",
    "open_database",
]
