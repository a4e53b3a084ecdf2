"""Interactions on a date rather than at a time (all-day meetings).

``interactions.all_day`` says that ``occurred_at`` (and ``ended_at``) are
00:00 UTC of a date: a CRM shows the date itself in any time zone instead
of converting the instant, which put an all-day event on the previous day
west of UTC. Rows stored before this revision stay false until their event
is fetched again (changed at the source, or read anew when a sync token
expires): telling an all-day event from a timed one that starts at
midnight UTC would be a guess, and a migration must not guess.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place, not batch: a batch copy of ``interactions`` on SQLite cannot drop
    # the old table while other tables refer to it; SQLite adds (and, from
    # 3.35, drops) a column with a constant default without a copy.
    op.add_column(
        "interactions",
        sa.Column("all_day", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("interactions", "all_day")
