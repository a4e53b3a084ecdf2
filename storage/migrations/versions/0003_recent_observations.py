"""An index to read a contact's recent observations without its whole history.

Deriving a contact's current fields after a batch only needs observations at
least as new as the batch's own (an older one can never be the newest), so
``refresh_fields`` reads by (contact_id, observed_at). Without this index
that read walked every observation of a frequently seen contact, and each
batch got slower as the history grew.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_contact_observations_recent", "contact_observations", ["contact_id", "observed_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_contact_observations_recent", table_name="contact_observations")
