"""PostgreSQL at 127.0.0.1:5432 (trust auth): each test gets a fresh database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.servers import missing_server

PG_ADMIN_URL = os.environ.get(
    "AUTOCAPTURE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _admin_engine() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


@contextmanager
def _scratch_database() -> Iterator[str]:
    engine = _admin_engine()
    name = f"autocapture_test_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        missing_server(f"PostgreSQL at {PG_ADMIN_URL} ({type(exc).__name__})")
    url = sa.engine.make_url(PG_ADMIN_URL).set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with _scratch_database() as url:
        yield url


@pytest.fixture
def another_pg_url() -> Iterator[str]:
    """A second fresh database, for tests that compare two captures."""
    with _scratch_database() as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'autocapture.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs a storage test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'autocapture.db'}"
    return str(request.getfixturevalue("pg_url"))
