"""What a capture left in the database, read back the way the agent-level tests compare it."""

from __future__ import annotations

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
