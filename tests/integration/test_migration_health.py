"""Migration 0015 (health and the ledger) on a database that already holds capture,
on SQLite and PostgreSQL: every captured row references ``accounts``, so the new
columns must be added in place, and a downgrade must give the rows back unchanged."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from storage import open_database
from storage.engine import MIGRATIONS, WRITE, create_engine
from tests.plans import first_batch


def migrate_to(db_url: str, revision: str, down: bool = False) -> None:
    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
    engine.dispose()


def test_upgrade_from_0014_with_captured_rows_and_back(db_url: str) -> None:
    database = open_database(db_url)
    database.apply(first_batch(), "INBOX", {"n": 1})
    before = [
        (r.name, r.items_captured, len(database.list_interactions()))
        for r in database.account_status()
    ]
    database.close()
    migrate_to(db_url, "0014", down=True)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("accounts")}
        assert "health" not in columns
        assert "provider_items" not in sa.inspect(conn).get_table_names()
    engine.dispose()

    upgraded = open_database(db_url)  # migrates 0014 -> head with the rows in place
    rows = upgraded.account_status()
    assert [(r.name, r.items_captured, len(upgraded.list_interactions())) for r in rows] == before
    assert [(r.health, r.health_since, r.health_detail) for r in rows] == [(None, None, None)]
    assert upgraded.record_health(rows[0].name, "live", {}) is True
    upgraded.close()
