"""Opening a database: the migration on both engines, SQLite settings, accounts, cursors."""

from __future__ import annotations

import stat
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from matcher.plan import Plan
from storage import AccountStatus, Database, StorageError, open_database
from storage.engine import MIGRATIONS, WRITE, create_engine
from storage.schema_types import Base
from tests.plans import T0, first_batch, mail, person, ticking_clock


def test_migration_builds_exactly_the_models(db_url: str) -> None:
    first = open_database(db_url)
    first.close()
    again = open_database(db_url)  # at head already: nothing to do, nothing fails
    with again.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0017"
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        tables = set(sa.inspect(conn).get_table_names())
    assert tables == {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    again.close()


def test_sqlite_file_is_private_and_tuned(tmp_path: Path) -> None:
    path = tmp_path / "new" / "data" / "autocapture.db"
    database = open_database(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with database.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}
    database.close()


def test_repr_hides_the_password(pg_url: str) -> None:
    url = sa.make_url(pg_url).set(password="hunter2-secret")
    database = open_database(url.render_as_string(hide_password=False))  # trust auth ignores it
    assert "hunter2" not in repr(database)
    assert "hunter2" not in repr(database.engine)
    database.close()


def test_cursors_per_account_and_stream(db: Database) -> None:
    assert db.load_cursor("alice", "INBOX") is None
    db.apply(Plan("alice"), "INBOX", {"uidvalidity": 7, "last_uid": 10})
    db.apply(Plan("alice"), "Sent", {"uidvalidity": 7, "last_uid": 3})
    db.apply(first_batch(), "INBOX", {"uidvalidity": 7, "last_uid": 12})
    db.apply(Plan("bob"), "INBOX", {"history": "99"})
    assert db.load_cursor("alice", "INBOX") == {"uidvalidity": 7, "last_uid": 12}
    db.reset_cursors("alice")
    assert db.load_cursor("alice", "INBOX") is None
    assert db.load_cursor("alice", "Sent") is None
    assert db.load_cursor("bob", "INBOX") == {"history": "99"}
    assert db.counts()["interactions"] == 3  # data stays; upserts absorb the resync


def test_account_status(db_url: str) -> None:
    database = open_database(db_url, clock=ticking_clock())
    database.ensure_account("alice", "imap")
    database.ensure_account("bob", "gmail")
    database.ensure_account("alice", "imap")  # idempotent
    later = T0 + timedelta(days=3)
    plan = Plan("alice", (mail("1@x", person("c@acme.com", "from")), mail("2@x", at=later)))
    database.apply(plan, "INBOX", None)
    database.record_success("alice")
    database.apply(plan, "INBOX", None)  # a replay stores no second copy
    database.record_success("alice")
    database.record_failure("bob", "needs_reauth", "token revoked; sign in again")
    alice, bob = database.account_status()
    assert alice == AccountStatus(
        name="alice",
        kind="imap",
        state="ok",
        message=None,
        last_success_at=alice.last_success_at,
        last_error_at=None,
        items_captured=2,
        newest_interaction_at=later,
    )
    assert alice.last_success_at is not None
    assert (bob.kind, bob.state, bob.message) == (
        "gmail",
        "needs_reauth",
        "token revoked; sign in again",
    )
    assert (bob.items_captured, bob.newest_interaction_at, bob.last_success_at) == (0, None, None)
    assert bob.last_error_at is not None
    database.record_success("bob")  # recovered: the error message goes
    bob = database.account_status()[1]
    assert (bob.state, bob.message, bob.items_captured) == ("ok", None, 0)
    database.close()


def test_upgrade_from_0001_keeps_the_rows(db_url: str) -> None:
    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect().execution_options(**WRITE) as conn, conn.begin():
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO interactions (identity, kind, occurred_at, direction, status, sequence,"
                " created_at, updated_at) VALUES ('msgid:old@x', 'email', :t, 'inbound', 'received',"
                " 0, :t, :t)"
            ),
            {"t": T0.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO interaction_participants (interaction_id, email, role, klass, decision,"
                " rule) SELECT id, 'ann@acme.com', 'from', 'person', 'skip', 'policy' FROM interactions"
            )
        )
    engine.dispose()
    database = open_database(db_url)
    (view,) = database.list_interactions()
    (ann,) = view.participants
    assert (ann.email, ann.rule, ann.class_reason, ann.meeting_role) == (
        "ann@acme.com",
        "policy",
        "",
        None,
    )
    database.close()


def test_participants_keep_why_they_were_classified(db: Database) -> None:
    chair = replace(
        person("ann@acme.com", "organizer", "skip", rule="class:role"),
        class_reason="local-part:sales",
        meeting_role="CHAIR",
    )
    db.apply(Plan("alice", (mail("1@x", chair),)), "INBOX", None)
    (view,) = db.list_interactions()
    assert [(p.class_reason, p.meeting_role) for p in view.participants] == [
        ("local-part:sales", "CHAIR")
    ]


def test_a_read_only_open_reads_and_never_writes(db_url: str) -> None:
    writer = open_database(db_url)
    writer.ensure_account("alice", "imap")
    reader = open_database(db_url, read_only=True)
    try:
        assert [s.name for s in reader.account_status()] == ["alice"]
        with pytest.raises(StorageError):
            reader.apply(Plan("alice"), "INBOX", {"uidvalidity": 1, "last_uid": 1})
        assert writer.load_cursor("alice", "INBOX") is None
    finally:
        reader.close()
        writer.close()
