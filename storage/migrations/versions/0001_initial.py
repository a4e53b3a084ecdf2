"""The initial schema: accounts, cursors, interactions, contacts, companies, errors, changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the types this revision was written with: a migration
# must keep creating the same schema whatever later models say.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True)


def upgrade() -> None:
    op.create_table(
        "accounts",
        _id(),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("last_success_at", Stamp),
        sa.Column("last_error_at", Stamp),
        sa.Column("items_captured", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "sync_cursors",
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("stream", sa.Text, primary_key=True),
        sa.Column("cursor", sa.JSON, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_table(
        "companies",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_table(
        "company_domains",
        sa.Column("domain", sa.Text, primary_key=True),
        sa.Column("company_id", BigId, sa.ForeignKey("companies.id"), nullable=False),
    )
    op.create_index("ix_company_domains_company_id", "company_domains", ["company_id"])
    op.create_table(
        "contacts",
        _id(),
        sa.Column("name", sa.Text),
        sa.Column("given_name", sa.Text),
        sa.Column("family_name", sa.Text),
        sa.Column("title", sa.Text),
        sa.Column("company", sa.Text),
        sa.Column("company_id", BigId, sa.ForeignKey("companies.id")),
        sa.Column("created_rule", sa.Text, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_index("ix_contacts_company_id", "contacts", ["company_id"])
    op.create_table(
        "contact_emails",
        sa.Column("email", sa.Text, primary_key=True),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), nullable=False),
    )
    op.create_index("ix_contact_emails_contact_id", "contact_emails", ["contact_id"])
    op.create_table(
        "contact_field_locks",
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), primary_key=True),
        sa.Column("field", sa.Text, primary_key=True),
        sa.Column("value", sa.Text),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("set_at", Stamp, nullable=False),
    )
    op.create_table(
        "interactions",
        _id(),
        sa.Column("identity", sa.Text, nullable=False, unique=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("occurred_at", Stamp, nullable=False),
        sa.Column("ended_at", Stamp),
        sa.Column("subject", sa.Text),
        sa.Column("snippet", sa.Text),
        sa.Column("direction", sa.Text, nullable=False),
        sa.Column("thread_key", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
    )
    op.create_index("ix_interactions_occurred_at", "interactions", ["occurred_at"])
    op.create_index("ix_interactions_thread_key", "interactions", ["thread_key"])
    op.create_table(
        "contact_observations",
        _id(),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column(
            "interaction_id", BigId, sa.ForeignKey("interactions.id"), nullable=False
        ),
        sa.Column("observed_at", Stamp, nullable=False),
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), nullable=False),
        sa.UniqueConstraint("contact_id", "field", "interaction_id"),
    )
    op.create_table(
        "interaction_sources",
        _id(),
        sa.Column(
            "interaction_id", BigId, sa.ForeignKey("interactions.id"), nullable=False
        ),
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("provider_id", sa.Text, nullable=False),
        sa.Column("seen_at", Stamp, nullable=False),
        sa.Column("removed_at", Stamp),
        sa.UniqueConstraint("account_id", "provider_id"),
    )
    op.create_index(
        "ix_interaction_sources_interaction_id", "interaction_sources", ["interaction_id"]
    )
    op.create_table(
        "interaction_participants",
        _id(),
        sa.Column(
            "interaction_id", BigId, sa.ForeignKey("interactions.id"), nullable=False
        ),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("klass", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("response_status", sa.Text),
        sa.Column("contact_id", BigId, sa.ForeignKey("contacts.id")),
        sa.UniqueConstraint("interaction_id", "email", "role"),
    )
    op.create_index("ix_interaction_participants_email", "interaction_participants", ["email"])
    op.create_index(
        "ix_interaction_participants_contact_id", "interaction_participants", ["contact_id"]
    )
    op.create_table(
        "address_evidence",
        sa.Column("email", sa.Text, primary_key=True),
        sa.Column("sent_to", sa.Boolean, nullable=False),
        sa.Column("received_from", sa.Boolean, nullable=False),
        sa.Column("met", sa.Boolean, nullable=False),
    )
    op.create_table(
        "ingest_errors",
        _id(),
        sa.Column("account_id", BigId, sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("provider_id", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_seen", Stamp, nullable=False),
        sa.Column("last_seen", Stamp, nullable=False),
        sa.UniqueConstraint("account_id", "provider_id", "reason"),
    )
    op.create_table(
        "changes",
        _id(),
        sa.Column("entity", sa.Text, nullable=False),
        sa.Column("entity_id", sa.BigInteger, nullable=False),
        sa.Column("operation", sa.Text, nullable=False),
        sa.Column("at", Stamp, nullable=False),
        sa.Column("xact_id", sa.BigInteger),
        sqlite_autoincrement=True,  # ids are never reused: a reader's position stays valid
    )


def downgrade() -> None:
    for name in (
        "changes",
        "ingest_errors",
        "address_evidence",
        "interaction_participants",
        "interaction_sources",
        "contact_observations",
        "interactions",
        "contact_field_locks",
        "contact_emails",
        "contacts",
        "company_domains",
        "companies",
        "sync_cursors",
        "accounts",
    ):
        op.drop_table(name)
