"""What a capture left in the database, read back the way the agent-level tests compare it."""

from __future__ import annotations

import sqlalchemy as sa

from storage.database import Database


def interactions(db: Database) -> dict[str, tuple[str, list[str], list[tuple[str, bool]]]]:
    """identity -> (status, participant emails, [(account, removed)] of its sources)."""
    found = {}
    for view in db.list_interactions(limit=1000):
        assert view.identity not in found, f"{view.identity} stored twice"
        found[view.identity] = (
            view.status,
            sorted({p.email for p in view.participants}),
            sorted((s.account, s.removed) for s in view.sources),
        )
    return found


def contacts(db: Database) -> list[tuple[tuple[str, ...], str | None]]:
    return sorted((c.emails, c.name) for c in db.list_contacts(limit=1000))


def text_in_every_column(db: Database) -> str:
    """Every text value of every row of every table, one string (for planted-secret tests)."""
    values: list[str] = []
    meta = sa.MetaData()
    meta.reflect(db.engine)
    with db.engine.connect() as conn:
        for table in meta.sorted_tables:
            for row in conn.execute(sa.select(table)):
                values += [str(v) for v in row if isinstance(v, str | bytes)]
    return "\n".join(values)
