"""Merges with undo, and when each contact and address was last seen.

``merges`` audits every merge (who, when, why, and whether it was undone);
``merge_rows`` holds every row a merge changed, with the columns' values
before and after, so ``unmerge`` puts each back exactly. A merged-away
contact's row is deleted: its id resolves to the survivor through
``merges``. ``changes.other_id`` carries the second contact of a ``merge``
or ``unmerge`` row for a CRM.

Freshness: ``contact_emails.last_from_at``, ``last_to_at``, ``last_met_at``
(the newest interaction the address wrote, received, or met in) and
``contacts.last_seen_at`` (the newest of its addresses'), filled here from
what is stored.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Roles as ``matcher.plan.Role`` spelled them when this revision was written.
ROLES = {
    "last_from_at": ("from", "sender", "reply-to"),
    "last_to_at": ("to", "cc", "bcc"),
    "last_met_at": ("organizer", "attendee"),
}


def upgrade() -> None:
    op.create_table(
        "merges",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("survivor_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("merged_id", sa.BigInteger, nullable=False, index=True),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("merged_at", Stamp, nullable=False),
        sa.Column("undone_at", Stamp),
        sa.Column("undone_by", sa.Text),
    )
    op.create_table(
        "merge_rows",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("merge_id", BigId, sa.ForeignKey("merges.id"), nullable=False, index=True),
        sa.Column("table_name", sa.Text, nullable=False),
        sa.Column("row_key", sa.JSON, nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
    )
    with op.batch_alter_table("changes") as batch:
        batch.add_column(sa.Column("other_id", sa.BigInteger))
    with op.batch_alter_table("contact_emails") as batch:
        for column in ROLES:
            batch.add_column(sa.Column(column, Stamp))
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("last_seen_at", Stamp))
        batch.create_index("ix_contacts_last_seen_at", ["last_seen_at"])
    _fill_freshness()


def _fill_freshness() -> None:
    for column, roles in ROLES.items():
        listed = ", ".join(f"'{r}'" for r in roles)
        op.execute(
            f"UPDATE contact_emails SET {column} = ("
            "SELECT max(i.occurred_at) FROM interaction_participants p "
            "JOIN interactions i ON i.id = p.interaction_id "
            f"WHERE p.email = contact_emails.email AND p.role IN ({listed}))"
        )
    # The newest of the three per contact; NULLs ignored (max over rows, then over columns).
    op.execute(
        "UPDATE contacts SET last_seen_at = (SELECT max(seen) FROM ("
        + " UNION ALL ".join(
            f"SELECT {c} AS seen FROM contact_emails e WHERE e.contact_id = contacts.id"
            for c in ROLES
        )
        + ") AS s)"
    )


def downgrade() -> None:
    # In place, not batch: SQLite 3.35+ drops a column without copying the table,
    # and a copy of ``contacts`` cannot drop it while ``contact_keys`` refers to it.
    op.drop_index("ix_contacts_last_seen_at", "contacts")
    op.drop_column("contacts", "last_seen_at")
    for column in reversed(list(ROLES)):
        op.drop_column("contact_emails", column)
    op.drop_column("changes", "other_id")
    op.drop_table("merge_rows")
    op.drop_table("merges")
