"""Scored resolution: blocking keys, the review queue, employment history, address origins.

``contact_keys`` indexes each contact under its blocking keys (surname with
given-name forms, phone numbers, company domains) so an unknown address's
candidates are found by key at any number of contacts; contacts stored
before this revision get theirs in the upgrade's transaction
(``storage.engine.migrate``), which runs the project's own key function.
``review_queue`` holds the addresses scoring was not sure of, and the pairs
a person rejected. ``employments`` keeps the companies a contact worked at
when a job change is seen. ``contact_emails.origin`` says why an address is
the contact's.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Frozen copies of the types this revision was written with.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("contact_emails") as batch:
        batch.add_column(sa.Column("origin", sa.Text))
    op.create_table(
        "contact_keys",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), primary_key=True),
    )
    op.create_index("ix_contact_keys_contact_id", "contact_keys", ["contact_id"])
    op.create_table(
        "review_queue",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("mailbox", sa.Text, nullable=False),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("interaction_id", BigId, sa.ForeignKey("interactions.id")),
        sa.Column("state", sa.Text, nullable=False, server_default="open"),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("decided_at", Stamp),
        sa.UniqueConstraint("mailbox", "contact_id"),
    )
    op.create_index("ix_review_queue_contact_id", "review_queue", ["contact_id"])
    op.create_table(
        "employments",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("domain", sa.Text, nullable=False),
        sa.Column("company_id", BigId, sa.ForeignKey("companies.id")),
        sa.Column("company", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("first_seen", Stamp),
        sa.Column("last_seen", Stamp),
        sa.Column("ended_reason", sa.Text),
        sa.UniqueConstraint("contact_id", "domain"),
    )
    op.create_index("ix_employments_contact_id", "employments", ["contact_id"])


def downgrade() -> None:
    op.drop_table("employments")
    op.drop_table("review_queue")
    op.drop_table("contact_keys")
    with op.batch_alter_table("contact_emails") as batch:
        batch.drop_column("origin")
