"""Forgotten addresses, as salted digests only, and the salt.

``autocapture forget`` erases a person; what stays is an HMAC of each of
their addresses under a salt generated once per database (``salts``), so
old mail captured again does not re-create them, while the table cannot be
read back as a list of addresses without the salt.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "salts",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "forgotten_addresses",
        sa.Column("digest", sa.Text, primary_key=True),
        sa.Column("forgotten_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forgotten_addresses")
    op.drop_table("salts")
