"""Participants keep why they were classified and their meeting ROLE.

The matcher's ``ParticipantPlan`` carries ``class_reason`` ("header:list-id",
"local-part:noreply", ...) and, for meetings, the RFC 5545 ROLE; storing
them lets a person see why an address was skipped (docs/ARCHITECTURE.md, invariant 7).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interaction_participants") as batch:
        batch.add_column(sa.Column("class_reason", sa.Text, nullable=False, server_default=""))
        batch.add_column(sa.Column("meeting_role", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("interaction_participants") as batch:
        batch.drop_column("meeting_role")
        batch.drop_column("class_reason")
