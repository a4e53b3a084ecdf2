"""Observations kept per address until a contact owns it (``address_observations``).

A person the creation policy may create later (the rule ends ":unmet")
still has fields in the plan: a display name, a signature's title and
phones. Their mail may be read before the mail that creates them (INBOX
before Sent), so the fields are kept by address, and move to the contact's
observations in the transaction where a contact comes to own the address:
the contact then has the same fields whatever order the mail arrived in,
just as ``storage.contacts.backlink`` links earlier participant rows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from storage.bulk import allocate_ids, chunks, insert_new, select_in, upsert
from storage.schema import address_observations

_COLUMNS = ("field", "value", "confidence", "interaction_id", "observed_at", "account_id")


def kept_rows(conn: sa.Connection, emails: Collection[str]) -> list[dict[str, Any]]:
    """The kept observations of ``emails``, each as an observation row whose
    ``contact_id`` is the email (``derived_fields`` and ``observation_rows`` shape)."""
    if not emails:
        return []
    t = address_observations.c
    found = select_in(conn, [t.email, *(t[c] for c in _COLUMNS)], t.email, emails)
    rows = [{"contact_id": r[0], **dict(zip(_COLUMNS, r[1:], strict=True))} for r in found]
    return sorted(rows, key=lambda r: (r["contact_id"], r["field"], r["interaction_id"]))


def take_kept(conn: sa.Connection, owners: Mapping[str, int]) -> list[dict[str, Any]]:
    """The kept observations of every owned email, as rows of their owner's;
    they leave ``address_observations`` (the caller stores them for the contact)."""
    rows = kept_rows(conn, owners)
    if not rows:
        return []
    t = address_observations
    for part in chunks(sorted({r["contact_id"] for r in rows})):
        conn.execute(sa.delete(t).where(t.c.email.in_(part)))
    return [{**r, "contact_id": owners[r["contact_id"]]} for r in rows]


def keep(conn: sa.Connection, found: Iterable[dict[str, Any]]) -> None:
    """Keep observation rows whose ``contact_id`` is an email no contact owns."""
    rows = [{"email": r["contact_id"], **{c: r[c] for c in _COLUMNS}} for r in found]
    if not rows:
        return
    for row, i in zip(rows, allocate_ids(conn, address_observations, len(rows)), strict=True):
        row["id"] = i
    stmt = upsert(conn, address_observations).on_conflict_do_nothing(
        index_elements=["email", "field", "interaction_id"]
    )
    insert_new(conn, address_observations, stmt, rows)
