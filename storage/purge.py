"""Purge: apply today's blocklist to what was captured before it.

Capture never stores a blocklisted participant, and skips an item whose
every party outside the organisation is blocklisted. A domain or address
added to the blocklist later leaves what was captured earlier; ``purge``
removes exactly that: the blocked participant rows, the interactions left
with nobody outside the org (``storage.erase``), the blocked addresses of
contacts and the contacts left without any address, and the blocked
mailboxes' evidence. The rule for "blocked" is the matcher's own
(``matcher.classify.Perimeter.blocks``: an address, or a domain with its
subdomains), so the forward and the retroactive path cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.classify import Perimeter
from matcher.plan import Blocklist
from storage.bulk import chunks, select_in
from storage.changes import Feed
from storage.erase import (
    erase_contacts,
    erase_evidence,
    erase_interactions,
    left_without_outsiders,
    rederive,
)
from storage.schema import contact_emails, interaction_participants


@dataclass(frozen=True, slots=True)
class Purged:
    """What a purge removed (or, in a dry run, would remove)."""

    contacts: int  # contacts left without any address, deleted
    addresses: int  # contact addresses removed
    participants: int  # participant rows removed from interactions that stay
    interactions: int  # interactions with nobody else outside the org, deleted


def _blocked(
    conn: sa.Connection, columns: list[Any], email: Any, blocklist: Blocklist
) -> list[sa.Row[Any]]:
    """Rows whose ``email`` column the blocklist blocks.

    The SQL only narrows (an address, or an address ending in "@domain" or
    ".domain"); ``Perimeter.blocks`` decides.
    """
    perimeter = Perimeter(frozenset(), frozenset(), blocklist.addresses, blocklist.domains)
    rows = {tuple(r): r for r in select_in(conn, columns, email, blocklist.addresses)}
    for domain in sorted(blocklist.domains):
        ends = sa.or_(
            email.endswith(f"@{domain}", autoescape=True),
            email.endswith(f".{domain}", autoescape=True),
        )
        rows.update({tuple(r): r for r in conn.execute(sa.select(*columns).where(ends))})
    return [r for k, r in sorted(rows.items()) if perimeter.blocks(r.email)]


def purge(conn: sa.Connection, blocklist: Blocklist, now: datetime, feed: Feed) -> Purged:
    p, c = interaction_participants.c, contact_emails.c
    rows = _blocked(conn, [p.id, p.interaction_id, p.email, p.mailbox, p.role], p.email, blocklist)
    held = _blocked(conn, [c.email, c.contact_id, c.mailbox], c.email, blocklist)
    erased = left_without_outsiders(conn, rows)
    lost = erase_interactions(conn, erased, now, feed)
    staying = [r for r in rows if r.interaction_id not in set(erased)]
    for part in chunks([r.id for r in staying]):
        conn.execute(sa.delete(interaction_participants).where(p.id.in_(part)))
    feed.extend(("interaction", i, "update") for i in sorted({r.interaction_id for r in staying}))
    for part in chunks([r.email for r in held]):
        conn.execute(sa.delete(contact_emails).where(c.email.in_(part)))
    owners = {r.contact_id for r in held}
    addressed = {r.contact_id for r in select_in(conn, [c.contact_id], c.contact_id, owners)}
    gone = owners - addressed
    erase_contacts(conn, gone)
    feed.extend(("contact", i, "delete") for i in sorted(gone))
    feed.extend(("contact", i, "update") for i in sorted(addressed))
    erase_evidence(conn, {r.mailbox for r in (*rows, *held)} | {r.email for r in (*rows, *held)})
    rederive(conn, lost, now, feed)
    return Purged(len(gone), len(held), len(staying), len(erased))
