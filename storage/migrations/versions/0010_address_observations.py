"""Observations of addresses no contact owns yet.

The creation policy may create a contact only when later mail arrives (on
``on_exchange``, the owner's reply read after the person's own message).
The fields their earlier mail gave (signature title and phones, display
name) are kept per address here and move to ``contact_observations`` when a
contact comes to own the address, so a contact's fields do not depend on
the order mail was read in.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# Frozen copies of the types this revision was written with.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "address_observations",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("interaction_id", BigId, sa.ForeignKey("interactions.id"), nullable=False),
        sa.Column("observed_at", Stamp, nullable=False),
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), nullable=False),
        sa.UniqueConstraint("email", "field", "interaction_id"),
    )


def downgrade() -> None:
    op.drop_table("address_observations")
