"""Ingest errors say where the item is when its provider id cannot.

An mbox message's provider id is a digest of its bytes, which no person can
search for. ``locator`` holds what they can: the byte offset of its "From "
line and, when readable, its Message-ID and Date. Connectors that have
nothing better leave it empty.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_errors") as batch:
        batch.add_column(sa.Column("locator", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("ingest_errors") as batch:
        batch.drop_column("locator")
