"""Account health states with their history, and the completeness ledger.

``accounts`` gains the health state machine's state, since when, and its
detail; ``account_transitions`` keeps every change of it. ``provider_items``
is the ledger ``verify`` compares a provider's listing with, and
``completeness_checks`` the last verify of each stream.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Frozen copies of the types this revision was written with.
Stamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch: on SQLite a batch copies and drops
    # ``accounts``, which every captured row references (FOREIGN KEY failed).
    op.add_column("accounts", sa.Column("health", sa.Text, nullable=True))
    op.add_column("accounts", sa.Column("health_since", Stamp, nullable=True))
    op.add_column("accounts", sa.Column("health_detail", sa.JSON, nullable=True))
    op.create_table(
        "account_transitions",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("from_state", sa.Text, nullable=True),
        sa.Column("to_state", sa.Text, nullable=False),
        sa.Column("detail", sa.JSON, nullable=True),
    )
    op.create_index("ix_account_transitions_account_id", "account_transitions", ["account_id"])
    op.create_table(
        "provider_items",
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("item", sa.Text, primary_key=True),
        sa.Column("provider_id", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("seen_at", Stamp, nullable=False),
    )
    op.create_table(
        "completeness_checks",
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("checked_at", Stamp, nullable=False),
        sa.Column("since", Stamp, nullable=True),
        sa.Column("listed", sa.Integer, nullable=False),
        sa.Column("missing", sa.JSON, nullable=False),
        sa.Column("removed", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("completeness_checks")
    op.drop_table("provider_items")
    op.drop_index("ix_account_transitions_account_id", "account_transitions")
    op.drop_table("account_transitions")
    # SQLite 3.35+ drops a column in place (no copy of the referenced table).
    op.drop_column("accounts", "health_detail")
    op.drop_column("accounts", "health_since")
    op.drop_column("accounts", "health")
