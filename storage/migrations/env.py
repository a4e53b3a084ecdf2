"""Alembic environment: always run programmatically by ``storage.engine.migrate``.

The caller passes an open connection in ``config.attributes["connection"]``
so the migration runs inside the caller's transaction (and its lock).
"""

from __future__ import annotations

from alembic import context

import storage.schema  # noqa: F401  (every table registers on Base.metadata)
from storage.schema_types import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through storage.open_database(url)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
)
with context.begin_transaction():
    context.run_migrations()
