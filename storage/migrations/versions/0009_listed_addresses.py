"""Address evidence remembers the addresses mailing lists name as their own.

A list's address is automated wherever a list header names it (List-Id,
List-Post, List-Help, List-Subscribe), but the owner's reply to the list
carries no list header. ``address_evidence.listed`` keeps what earlier list
mail said, so the reply does not make the list a contact.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("address_evidence") as batch:
        batch.add_column(
            sa.Column("listed", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("address_evidence") as batch:
        batch.drop_column("listed")
