"""Each cursor keeps the start of the backfill window it was built with.

A cursor only moves forward: mail older than the window a stream was first
synced with lies behind it. When an admin widens ``backfill``, the agent
compares the configured start with this one and reads the stream again
over the wider window (upserts keep every item single). NULL: a cursor
from before this revision, taken to cover the window configured now.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_cursors") as batch:
        batch.add_column(sa.Column("window_since", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("sync_cursors") as batch:
        batch.drop_column("window_since")
