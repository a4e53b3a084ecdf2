"""Each sender's signature model, learned from their own mail.

The lines that recur at the end of a sender's own text, with how many
messages carried each, per mailbox key (``matcher.body.sender_signature``): the
next batch finds the sender's block by them, delimiter or not.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Frozen copy of the type this revision was written with.
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "sender_signatures",
        sa.Column("mailbox", sa.Text, primary_key=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("learned_through", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sender_signatures")
