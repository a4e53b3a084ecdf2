"""Encrypted credentials per account: refresh tokens and token caches.

One row per (account name, credential name): a nonce and the AES-GCM
ciphertext (``storage.tokens``), so several agent processes on one
PostgreSQL share an account's grant and none of it is plain text.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Frozen copy of the type this revision was written with.
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "stored_tokens",
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("stored_tokens")
