"""Each address of a contact has a status: current, former, bouncing or invalid.

A delivery report's permanent failure marks the address ``bouncing``, with
the reason ("bounce:5.1.1:dsn") and when; ``former`` (a person who moved on)
and ``invalid`` are for the job-change and import paths. Existing addresses
are current. The bounce is also kept with the mailbox's evidence
(``address_evidence.bounced_at``), so an address a contact comes to hold
after the report was read starts out bouncing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("contact_emails") as batch:
        batch.add_column(sa.Column("status", sa.Text, nullable=False, server_default="current"))
        batch.add_column(sa.Column("status_reason", sa.Text))
        batch.add_column(sa.Column("status_at", Stamp))
    with op.batch_alter_table("address_evidence") as batch:
        batch.add_column(sa.Column("bounced_at", Stamp))
        batch.add_column(sa.Column("bounce_reason", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("address_evidence") as batch:
        batch.drop_column("bounce_reason")
        batch.drop_column("bounced_at")
    with op.batch_alter_table("contact_emails") as batch:
        batch.drop_column("status_at")
        batch.drop_column("status_reason")
        batch.drop_column("status")
