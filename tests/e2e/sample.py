"""Capturing the shipped sample archive (examples/) in tests, and reading the result back.

``snapshot`` reduces a database to its natural keys (no surrogate ids, no
wall-clock timestamps), so two captures can be compared for equality: the
kill test and the replay tests assert "exactly the same content".
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from agent.sync import sync_once
from config.loader import load_text
from storage import open_database
from storage import schema as t

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DEMO = EXAMPLES / "demo.yaml"


def demo_config_text(db_url: str, person: str = "on_exchange") -> str:
    """demo.yaml with another database and person policy; archive paths made absolute."""
    text = DEMO.read_text()
    text = re.sub(r"(?m)^database_url:.*$", f"database_url: {db_url}", text)
    text = re.sub(r"(?m)^(\s*person:\s*)\S+", rf"\g<1>{person}", text)
    return text.replace("sample-archive/", f"{EXAMPLES}/sample-archive/")


def demo_settings(db_url: str, person: str = "on_exchange") -> Any:
    return load_text(demo_config_text(db_url, person), str(DEMO), base_dir=EXAMPLES)


def _rows(conn: sa.Connection, query: Any) -> set[tuple[Any, ...]]:
    return {tuple(r) for r in conn.execute(query)}


def snapshot(engine: sa.Engine) -> dict[str, Any]:
    """Everything a CRM could read, by natural key."""
    i, s, p, c, ce = (
        t.interactions,
        t.interaction_sources,
        t.interaction_participants,
        t.contacts,
        t.contact_emails,
    )
    a, e, o = t.accounts, t.ingest_errors, t.contact_observations
    owner = sa.select(ce.c.email).where(ce.c.contact_id == c.c.id).order_by(ce.c.email)

    def first_email(contact_id: Any) -> Any:
        """A contact by its first email: surrogate ids differ between two databases."""
        inner = t.contact_emails.alias("inner_emails")
        return (
            sa.select(sa.func.min(inner.c.email))
            .where(inner.c.contact_id == contact_id)
            .scalar_subquery()
        )

    with engine.connect() as conn:
        return {
            "contacts": _rows(
                conn,
                sa.select(
                    owner.limit(1).scalar_subquery(),
                    c.c.name,
                    c.c.given_name,
                    c.c.family_name,
                    c.c.title,
                    c.c.company,
                    c.c.created_rule,
                ),
            ),
            "emails": _rows(conn, sa.select(ce.c.email, first_email(ce.c.contact_id))),
            "interactions": _rows(
                conn,
                sa.select(
                    i.c.identity,
                    i.c.kind,
                    i.c.occurred_at,
                    i.c.ended_at,
                    i.c.subject,
                    i.c.snippet,
                    i.c.direction,
                    i.c.thread_key,
                    i.c.status,
                    i.c.sequence,
                ),
            ),
            "sources": _rows(
                conn,
                sa.select(i.c.identity, a.c.name, s.c.stream, s.c.provider_id, s.c.removed_at)
                .join(i, i.c.id == s.c.interaction_id)
                .join(a, a.c.id == s.c.account_id),
            ),
            "participants": _rows(
                conn,
                sa.select(
                    i.c.identity,
                    p.c.email,
                    p.c.name,
                    p.c.role,
                    p.c.klass,
                    p.c.decision,
                    p.c.rule,
                    p.c.response_status,
                    first_email(p.c.contact_id),
                ).join(i, i.c.id == p.c.interaction_id),
            ),
            "observations": _rows(
                conn,
                sa.select(
                    first_email(o.c.contact_id),
                    o.c.field,
                    o.c.value,
                    o.c.confidence,
                    i.c.identity,
                    o.c.observed_at,
                ).join(i, i.c.id == o.c.interaction_id),
            ),
            "errors": _rows(
                conn,
                sa.select(a.c.name, e.c.stream, e.c.provider_id, e.c.reason, e.c.detail).join(
                    a, a.c.id == e.c.account_id
                ),
            ),
            "cursors": _rows(
                conn,
                sa.select(
                    a.c.name, t.sync_cursors.c.stream, sa.cast(t.sync_cursors.c.cursor, sa.Text)
                ).join(a, a.c.id == t.sync_cursors.c.account_id),
            ),
            "evidence": _rows(conn, sa.select(t.address_evidence)),
        }


def contact_emails(engine: sa.Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(sa.select(t.contact_emails.c.email)))


def autocapture(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def capture(db_url: str, person: str = "on_exchange") -> tuple[Any, list[Any]]:
    settings = demo_settings(db_url, person)
    db = open_database(settings.database_url)
    return db, sync_once(settings, db)


# One engine per database URL a test polls (every 10 ms while it waits to kill).
_POLLED: dict[str, sa.Engine] = {}


def captured_so_far(db: Path | str) -> int:
    """Source copies committed so far in ``db``: a SQLite file, or a database's URL."""
    if isinstance(db, str):
        engine = _POLLED.setdefault(db, sa.create_engine(db))
        try:
            with engine.connect() as conn:
                return int(
                    conn.scalar(sa.select(sa.func.count()).select_from(t.interaction_sources)) or 0
                )
        except sa.exc.ProgrammingError:  # the schema is not migrated yet
            return 0
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM interaction_sources").fetchone()[0])
    except sqlite3.OperationalError:  # the schema is not migrated yet
        return 0


def demo_config(folder: Path, name: str, batch_size: int, db_url: str | None = None) -> Path:
    """The demo's config in ``folder`` (database ``name``.db there unless ``db_url``)."""
    text = demo_config_text(db_url or f"sqlite:///{folder / (name + '.db')}")
    text = re.sub(r"(?m)^(\s*)kind: archive$", rf"\g<0>\n\g<1>batch_size: {batch_size}", text)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path
