"""Engines for SQLite (the embedded default) and PostgreSQL, migrated to head on open.

SQLite is tuned for one agent process with readers beside it: WAL so a CRM
can read while the agent writes, ``busy_timeout`` so a second writer waits
instead of failing, ``foreign_keys=ON`` because SQLite leaves them off.
Write transactions start with ``BEGIN IMMEDIATE``: a deferred transaction
that reads and then writes can fail with SQLITE_BUSY at once, whatever the
timeout, when another writer got there first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

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


def create_engine(url: str) -> sa.Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    engine = sa.create_engine(parsed, pool_pre_ping=True, hide_parameters=True)
    # psycopg 3 would send an executemany INSERT without RETURNING row by row
    # (pipelined); batching it into multi-row VALUES like the RETURNING case
    # cut apply() of a 500-message batch by a third in bench/storage_apply.py.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _sqlite_engine(url: sa.URL) -> sa.Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _prepare_sqlite_file(Path(url.database))
    engine = sa.create_engine(url, hide_parameters=True)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
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


def _prepare_sqlite_file(path: Path) -> None:
    """Create the folder 0700 and the file 0600: the database holds people's data."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    # SQLite gives the -wal and -shm files the main file's mode.
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
