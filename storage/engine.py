"""Engines for SQLite (the embedded default) and PostgreSQL, migrated to head on open.

SQLite is tuned for one agent process with readers beside it: WAL so a CRM
can read while the agent writes, ``busy_timeout`` so a second writer waits
instead of failing, ``foreign_keys=ON`` because SQLite leaves them off.
Write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction
that reads and then writes can fail with SQLITE_BUSY at once, whatever the
timeout, when another writer got there first.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.errors import DatabaseUnavailable
from storage.identity_keys import reindex

# Engines use hide_parameters: a database error's message would otherwise
# carry the statement's values (subjects, snippets, addresses) into logs.
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 30_000
WAL_CHECKPOINT_PAGES = 10_000  # of 4 KiB
# Any constant works; it only has to be the same in every agent process so
# two processes opening one PostgreSQL database do not migrate it at once.
MIGRATION_LOCK_KEY = 0x6175746F63617074  # "autocapt"

# Execution option a connection sets to make its transactions writers.
WRITE = {"autocapture_write": True}


def create_engine(url: str, read_only: bool = False) -> sa.Engine:
    """An engine for ``url``; ``read_only`` never writes, not even a journal file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, read_only)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    args = {"options": "-c default_transaction_read_only=on"} if read_only else {}
    engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True, connect_args=args)
    # psycopg 3 would send an executemany INSERT without RETURNING row by row
    # (pipelined); batching it into multi-row VALUES like the RETURNING case
    # cut apply() of a 500-message batch by a third in bench/storage_apply.py.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _sqlite_engine(url: sa.URL, read_only: bool) -> sa.Engine:
    path = url.database
    on_disk = bool(path) and path != ":memory:" and not str(path).startswith("file:")
    if read_only and on_disk:
        engine = _read_only_sqlite(Path(str(path)))
    else:
        if on_disk:
            _prepare_sqlite_file(Path(str(path)))
        engine = sa.create_engine(url, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        if not read_only:
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")  # WAL stays durable across crashes of the app
            # A backfill batch writes more than the default 1,000-page WAL, so every
            # commit also copied the WAL into the database, a fifth of apply()'s time;
            # index pages rewritten by the next batches were copied again each time.
            # Checkpointing every ~40 MB of WAL copies them once per ten batches.
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        immediate = conn.get_execution_options().get("autocapture_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _read_only_sqlite(path: Path) -> sa.Engine:
    """``mode=ro``; where SQLite cannot make the WAL index a reader needs (a
    read-only folder), ``immutable``, but only when no WAL holds rows the
    file lacks: immutable reads the file alone."""
    if not path.is_file():
        raise DatabaseUnavailable(f"no database at {path} yet: `autocapture sync` creates it")
    engine = _uri_engine(path, "mode=ro")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master")
        return engine
    except sa.exc.OperationalError as exc:
        engine.dispose()
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            raise DatabaseUnavailable(
                f"cannot read the database {path}: {exc.orig}; its write-ahead log "
                "needs an agent with write access to fold it in"
            ) from None
    return _uri_engine(path, "mode=ro&immutable=1")


def _uri_engine(path: Path, flags: str) -> sa.Engine:
    uri = f"file:{quote(str(path))}?{flags}"
    return sa.create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=sa.pool.QueuePool,  # "sqlite://" alone would mean one in-memory connection
        hide_parameters=True,
    )


def _prepare_sqlite_file(path: Path) -> None:
    """Create the folder 0700 and the file 0600: the database holds people's data.

    Also where a writer learns, in one line, what it may not write: the
    file, or the folder where SQLite keeps its journal (-wal, -shm).
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the database's folder {path.parent} ({exc.strerror})"
        ) from None
    try:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"the database file {path} is not writable ({exc.strerror})"
        ) from None
    os.close(fd)
    try:
        tempfile.TemporaryFile(dir=path.parent).close()
    except OSError as exc:
        raise DatabaseUnavailable(
            f"the database's folder {path.parent} is not writable ({exc.strerror}); "
            "SQLite keeps its journal there"
        ) from None
    # SQLite gives the -wal and -shm files the main file's mode.
    with contextlib.suppress(PermissionError):  # not ours: its owner chose the mode
        os.chmod(path, 0o600)


def schema_revisions(engine: sa.Engine) -> tuple[str | None, str | None]:
    """(the database's revision, this version's head), read without writing."""
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def require_current(engine: sa.Engine, where: str) -> None:
    """For a reader that must not migrate: the schema is this version's, or a clear error."""
    current, head = schema_revisions(engine)
    if current != head:
        has = f"has schema {current}" if current else "holds no autocapture schema"
        raise DatabaseUnavailable(
            f"the database {where} {has} and this autocapture needs {head}: "
            "run `autocapture sync` once with write access to upgrade it"
        )


# The revision that added ``contact_keys`` (storage.identity_keys,
# migrations/versions/0014_identity_resolution.py).
KEYS_REVISION = "0014"


def migrate(engine: sa.Engine) -> None:
    """Upgrade the schema to head inside one transaction.

    A database already at head is only read: opening it takes no write lock,
    so it opens while another agent holds one (and from a read-only file).
    """
    current, head = schema_revisions(engine)
    if current == head:
        return
    config = _alembic_config()
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(MIGRATION_LOCK_KEY)))
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        if current is None or current < KEYS_REVISION:
            # Contacts stored before blocking keys existed get theirs, in the
            # upgrade's transaction: scored resolution must find them from now on.
            reindex(conn)
