"""``dedupe --scan``: duplicate pairs among stored contacts, streamed, at a million contacts.

Two passes:

1. the blocking keys capture keeps for every contact (``contact_keys``,
   ``storage.identity_keys``) are read in key order, straight from that
   table's primary key; only keys held by two contacts or more are kept,
   as a key -> ids index. Company-domain keys (``d:``) are left out: a
   domain alone brings every colleague together (``matcher.identity.search_keys``);
2. the blocks of two or more (and at most ``MAX_BLOCK``) are read back in
   key order, their members' profiles loaded a few thousand ids at a time,
   and ``matcher.duplicates`` judges the pairs with resolution's scoring.

Memory is the key index of shared keys plus one group of profiles;
nothing holds every profile or every pair. Pairs a person has already
separated (an undone merge) are never proposed again.

Why not Splink: its Fellegi-Sunter weights are trained on the data and
would judge a pair differently from the rules capture links an address by
(``matcher.scoring``); the issue asks for the same scoring. It also
brings DuckDB, pandas, sqlglot and Altair into an agent installed on laptops.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from matcher.duplicates import Duplicate, duplicates
from matcher.identity import MAX_BLOCK
from matcher.plan import Thresholds
from matcher.profile import Profile
from storage.identity_keys import profiles
from storage.schema import contact_keys, contacts, merges

CHUNK = 5000
KEY_ROWS = 20_000  # rows fetched at a time while streaming the key index


@dataclass(slots=True)
class ScanCounts:
    """What a scan read, filled in as it goes."""

    contacts: int = 0
    blocks: int = 0  # blocks of two or more compared
    oversized: list[str] = field(default_factory=list)  # keys too common to compare
    pairs: int = 0  # duplicates found


def _index(conn: sa.Connection, counts: ScanCounts) -> dict[str, list[int]]:
    """Key -> contact ids, for the search keys held by two contacts or more."""
    counts.contacts = conn.execute(sa.select(sa.func.count()).select_from(contacts)).scalar_one()
    t = contact_keys.c
    query = sa.select(t.key, t.contact_id).where(~t.key.startswith("d:")).order_by(t.key)
    # yield_per: a server-side cursor on PostgreSQL, so the rows are never all in memory.
    rows = conn.execution_options(yield_per=KEY_ROWS).execute(query)
    index: dict[str, list[int]] = {}
    for key, group in itertools.groupby(rows, key=lambda r: str(r.key)):
        ids = [r.contact_id for r in group]
        if len(ids) > 1:
            index[key] = ids
    return index


def _blocks(
    conn: sa.Connection, index: dict[str, list[int]], counts: ScanCounts, size: int
) -> Iterator[tuple[str, list[Profile]]]:
    """The blocks to compare in key order, their profiles read ``size`` ids at a time."""
    todo = sorted(k for k, ids in index.items() if len(ids) <= MAX_BLOCK)
    group: list[str] = []
    held = 0
    for n, key in enumerate(todo):
        group.append(key)
        held += len(index[key])
        if held < size and n + 1 < len(todo):
            continue
        loaded = profiles(conn, {i for k in group for i in index[k]})
        for k in group:
            counts.blocks += 1
            yield k, [loaded[i] for i in index[k] if i in loaded]
        group, held = [], 0


def separated(conn: sa.Connection) -> set[tuple[int, int]]:
    """Pairs a person separated again (an undone merge), lower id first."""
    m = merges.c
    rows = conn.execute(sa.select(m.survivor_id, m.merged_id).where(m.undone_at.is_not(None)))
    return {(min(a, b), max(a, b)) for a, b in rows}


def scan(
    conn: sa.Connection, thresholds: Thresholds, counts: ScanCounts, size: int = CHUNK
) -> Iterator[Duplicate]:
    """Every duplicate pair, streamed as found; ``counts`` is filled in along the way."""
    index = _index(conn, counts)
    counts.oversized = sorted(k for k, ids in index.items() if len(ids) > MAX_BLOCK)
    apart = separated(conn)
    for found in duplicates(_blocks(conn, index, counts, size), thresholds, counts.oversized):
        if (found.first, found.second) not in apart:
            counts.pairs += 1
            yield found
