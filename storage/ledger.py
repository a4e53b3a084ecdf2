"""The completeness ledger: which provider items a sync accounted for, and ``verify``'s check.

Every batch's ``held`` items (``connectors.records.Held``) are written in
the batch's own transaction (``keep``), so the ledger says exactly what the
stored cursor says was read, no more: one row per (stream, item, copy),
with the item's version (IMAP UIDVALIDITY, CalDAV ETag). An item that gave
no copy (blocked, outside the window, unparseable) still has its row, with
an empty provider id: it was read, and is not missing.

``compare`` sets a provider's listing (``connectors.records.Inventory``)
against it: an item listed with a version the ledger lacks is missing (new
to us, or changed without the cursor seeing it); a ledger item the provider
no longer lists is gone, and its copies are removed unless another item
still holds them (one Gmail message in two folders, one message appended
twice).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from connectors.records import Held, Inventory
from storage.bulk import chunks, upsert, write_rows
from storage.schema_accounts import completeness_checks, provider_items


@dataclass(frozen=True, slots=True)
class Comparison:
    """One stream's listing against its ledger."""

    missing: list[tuple[str, str]]  # (item, version) the ledger lacks, in listing order
    gone: list[str]  # ledger items the provider no longer has
    ledgered: bool  # False: nothing was ever recorded (captured before the ledger)


def keep(
    conn: sa.Connection,
    account_id: int,
    stream: str,
    held: Iterable[Held],
    removed: Iterable[str],
    now: datetime,
) -> None:
    """Record a batch's items; forget the copies the batch reports removed."""
    p = provider_items
    gone = sorted(set(removed))
    for part in chunks(gone):
        conn.execute(sa.delete(p).where(p.c.account_id == account_id, p.c.provider_id.in_(part)))
    rows = {
        (h.item, pid): {
            "account_id": account_id,
            "stream": stream,
            "item": h.item,
            "provider_id": pid,
            "version": h.version,
            "seen_at": now,
        }
        for h in held
        for pid in (h.provider_ids or ("",))
    }
    if not rows:
        return
    stmt = upsert(conn, p)
    stmt = stmt.on_conflict_do_update(
        index_elements=["account_id", "stream", "item", "provider_id"],
        set_={"version": stmt.excluded.version, "seen_at": stmt.excluded.seen_at},
    )
    write_rows(conn, stmt, list(rows.values()))


def versions(conn: sa.Connection, account_id: int, stream: str) -> dict[str, set[str]]:
    """{item: versions recorded} of one stream."""
    p = provider_items.c
    query = sa.select(p.item, p.version).where(p.account_id == account_id, p.stream == stream)
    found: dict[str, set[str]] = defaultdict(set)
    for item, version in conn.execute(query):
        found[item].add(version)
    return found


def compare(conn: sa.Connection, account_id: int, stream: str, listing: Inventory) -> Comparison:
    known = versions(conn, account_id, stream)
    missing = [(i, v) for i, v in listing.items.items() if v not in known.get(i, ())]
    present = listing.present
    gone = [] if present is None else sorted(i for i in known if i not in present)
    return Comparison(missing, gone, bool(known))


def forget(conn: sa.Connection, account_id: int, stream: str, items: Sequence[str]) -> set[str]:
    """Drop gone items; the provider ids no other item of the account still holds."""
    p = provider_items
    dropped: set[str] = set()
    for part in chunks(list(items)):
        where = (p.c.account_id == account_id, p.c.stream == stream, p.c.item.in_(part))
        dropped.update(conn.execute(sa.select(p.c.provider_id).where(*where)).scalars())
        conn.execute(sa.delete(p).where(*where))
    dropped.discard("")
    still: set[str] = set()
    for part in chunks(sorted(dropped)):
        query = sa.select(p.c.provider_id).where(
            p.c.account_id == account_id, p.c.provider_id.in_(part)
        )
        still.update(conn.execute(query).scalars())
    return dropped - still


def clear(conn: sa.Connection, account_id: int) -> None:
    """Forget an account's ledger (its cursors were reset: the resync rebuilds it)."""
    conn.execute(sa.delete(provider_items).where(provider_items.c.account_id == account_id))


def store_check(
    conn: sa.Connection,
    account_id: int,
    stream: str,
    listing: Inventory,
    comparison: Comparison,
    removed: int,
    now: datetime,
) -> None:
    values = {
        "checked_at": now,
        "since": listing.since,
        "listed": len(listing.items),
        "missing": [list(m) for m in comparison.missing],
        "removed": removed,
    }
    stmt = upsert(conn, completeness_checks).values(account_id=account_id, stream=stream, **values)
    conn.execute(stmt.on_conflict_do_update(index_elements=["account_id", "stream"], set_=values))


def outstanding(
    conn: sa.Connection, account_id: int, stream: str, missing: Sequence[Sequence[str]]
) -> int:
    """How many of a check's missing items the ledger still lacks (the next poll
    fetches them; then this is 0)."""
    if not missing:
        return 0
    p = provider_items.c
    known: set[tuple[str, str]] = set()
    for part in chunks(sorted({item for item, _ in missing})):
        query = sa.select(p.item, p.version).where(
            p.account_id == account_id, p.stream == stream, p.item.in_(part)
        )
        known.update((item, version) for item, version in conn.execute(query))
    return sum(1 for item, version in missing if (item, version) not in known)
