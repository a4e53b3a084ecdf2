"""Account leases: several ``run`` workers on one PostgreSQL database share the accounts.

``account_leases`` says which worker works an account and until when;
``lease_workers`` lists the live workers, whose number sets each one's fair
share (``storage.leases``). SQLite databases get the tables too, empty: one
process serves them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Frozen copy of the type this revision was written with.
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "account_leases",
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("worker", sa.Text, nullable=True),
        sa.Column("epoch", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("claimed_at", Stamp, nullable=True),
        sa.Column("expires_at", Stamp, nullable=True),
    )
    op.create_index("ix_account_leases_worker", "account_leases", ["worker"])
    op.create_table(
        "lease_workers",
        sa.Column("worker", sa.Text, primary_key=True),
        sa.Column("started_at", Stamp, nullable=False),
        sa.Column("expires_at", Stamp, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lease_workers")
    op.drop_index("ix_account_leases_worker", table_name="account_leases")
    op.drop_table("account_leases")
