"""Addresses match by mailbox: the key their provider documents they deliver to.

``contact_emails`` and ``interaction_participants`` gain ``mailbox``
(``matcher.mailboxes``): "Robert.Smith+crm@gmail.com" and
"robertsmith@gmail.com" are one mailbox, so one contact. The written
address stays in ``email``. ``address_evidence`` is re-keyed by mailbox, its
variants' evidence OR-ed together.

Existing rows get the providers' rules (Gmail dots and "+tag", googlemail,
Outlook.com, iCloud, Fastmail "+tag"). Domains the organisation lists for
sub-address stripping apply from the next capture on: the migration cannot
read the configuration. Two contacts that already hold variants of one
mailbox both keep them; lookups go to the older one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from matcher.mailboxes import mailbox_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Only these rows can have a key other than their address; reading the rest
# would cost a pass over every participant for nothing.
_VARIANTS = "email LIKE '%+%' OR email LIKE '%@gmail.com' OR email LIKE '%@googlemail.com'"


def _fill(table: str) -> None:
    conn = op.get_bind()
    conn.execute(sa.text(f"UPDATE {table} SET mailbox = email"))
    rows = conn.execute(sa.text(f"SELECT DISTINCT email FROM {table} WHERE {_VARIANTS}")).all()
    changed = [{"e": r.email, "k": mailbox_key(r.email)} for r in rows]
    changed = [c for c in changed if c["k"] != c["e"]]
    if changed:
        conn.execute(sa.text(f"UPDATE {table} SET mailbox = :k WHERE email = :e"), changed)


def _rekey_evidence() -> None:
    conn = op.get_bind()
    query = f"SELECT email, sent_to, received_from, met FROM address_evidence WHERE {_VARIANTS}"
    merged: dict[str, dict[str, Any]] = {}
    gone = []
    for r in conn.execute(sa.text(query)).all():
        key = mailbox_key(r.email)
        if key == r.email:
            continue
        gone.append({"e": r.email})
        seen = merged.setdefault(key, {"k": key, "s": False, "r": False, "m": False})
        seen.update(s=seen["s"] or r.sent_to, r=seen["r"] or r.received_from, m=seen["m"] or r.met)
    if not gone:
        return
    conn.execute(sa.text("DELETE FROM address_evidence WHERE email = :e"), gone)
    for row in merged.values():
        known = conn.execute(
            sa.text("SELECT sent_to, received_from, met FROM address_evidence WHERE email = :k"),
            {"k": row["k"]},
        ).first()
        if known is None:
            conn.execute(
                sa.text(
                    "INSERT INTO address_evidence (email, sent_to, received_from, met)"
                    " VALUES (:k, :s, :r, :m)"
                ),
                row,
            )
            continue
        row.update(s=row["s"] or known.sent_to, r=row["r"] or known.received_from)
        row["m"] = row["m"] or known.met
        conn.execute(
            sa.text(
                "UPDATE address_evidence SET sent_to = :s, received_from = :r, met = :m"
                " WHERE email = :k"
            ),
            row,
        )


def upgrade() -> None:
    for table in ("contact_emails", "interaction_participants"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("mailbox", sa.Text))
        _fill(table)
        with op.batch_alter_table(table) as batch:
            batch.alter_column("mailbox", existing_type=sa.Text, nullable=False)
            batch.create_index(f"ix_{table}_mailbox", ["mailbox"])
    _rekey_evidence()


def downgrade() -> None:
    for table in ("interaction_participants", "contact_emails"):
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f"ix_{table}_mailbox")
            batch.drop_column("mailbox")
