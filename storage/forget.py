"""Forgetting a person: everything about them erased, a salted digest kept.

``forget`` erases a contact (or an address no contact owns), every
spelling and mailbox of theirs, their observations, locks and evidence,
and their identity in interactions: an interaction they shared with
others stays, with their participant rows anonymised under one random
address per erasure (``forgotten-<random>@forgotten.invalid``, RFC 2606
reserves .invalid), and their addresses replaced in stored subjects and
snippets; an interaction with nobody else outside the org goes
(``storage.erase``).

What stays is an HMAC-SHA256 of each of their addresses and mailbox keys
under a salt generated once per database: capture asks
``forgotten_among`` and leaves such addresses out, so old mail read again
never re-creates the person, and the digests cannot be read back as
addresses without the salt.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.bulk import chunks, select_in, upsert, write_rows
from storage.changes import Feed
from storage.erase import (
    erase_contacts,
    erase_evidence,
    erase_interactions,
    left_without_outsiders,
    participant_rows,
    rederive,
    scrub_texts,
)
from storage.schema import (
    contact_emails,
    contacts,
    forgotten_addresses,
    interaction_participants,
    salts,
)

FORGET_SALT = "forget"


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What one erasure did, for the person who asked."""

    contact_id: int | None
    addresses: int  # spellings and mailboxes kept as digests
    anonymised: int  # participant rows whose interaction stays, now without identity
    erased_interactions: int  # interactions with nobody else outside the org


def salt(conn: sa.Connection, create: bool = False) -> bytes | None:
    """The database's forget salt; generated on first need when ``create``."""
    query = sa.select(salts.c.value).where(salts.c.name == FORGET_SALT)
    value = conn.execute(query).scalar_one_or_none()
    if value is None and create:
        fresh = {"name": FORGET_SALT, "value": secrets.token_hex(32)}
        conn.execute(upsert(conn, salts).on_conflict_do_nothing(index_elements=["name"]), fresh)
        value = conn.execute(query).scalar_one()  # a concurrent first forget may have won
    return bytes.fromhex(value) if value is not None else None


def _digest(key: bytes, address: str) -> str:
    return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()


def forgotten_among(conn: sa.Connection, addresses: Iterable[str]) -> frozenset[str]:
    """Those of ``addresses`` (spellings or mailbox keys) that were forgotten."""
    key = salt(conn)
    if key is None:
        return frozenset()  # nobody was ever forgotten
    by_digest = {_digest(key, a): a for a in addresses}
    t = forgotten_addresses.c
    return frozenset(by_digest[r.digest] for r in select_in(conn, [t.digest], t.digest, by_digest))


def forget(
    conn: sa.Connection,
    now: datetime,
    feed: Feed,
    *,
    contact_id: int | None = None,
    addresses: Collection[str] = (),
) -> Forgotten:
    """Erase a contact (by id, or the one owning ``addresses``) and every trace of its addresses.

    ``addresses``: an address as written and its mailbox key. LookupError when
    neither names anything stored.
    """
    c = contact_emails.c
    if contact_id is None:
        owned = select_in(conn, [c.contact_id], c.mailbox, addresses)
        owned += select_in(conn, [c.contact_id], c.email, addresses)
        contact_id = min((r.contact_id for r in owned), default=None)
    elif conn.execute(sa.select(contacts.c.id).where(contacts.c.id == contact_id)).first() is None:
        raise LookupError(f"no contact {contact_id}")
    ids = [contact_id] if contact_id is not None else []
    held = select_in(conn, [c.email, c.mailbox], c.contact_id, ids)
    mailboxes = set(addresses) | {r.mailbox for r in held}
    rows = participant_rows(conn, mailboxes, ids)
    spellings = mailboxes | {r.email for r in held} | {r.email for r in rows}
    if contact_id is None and not rows:
        raise LookupError("no contact or interaction has that address")
    erased = left_without_outsiders(conn, rows)
    lost = erase_interactions(conn, erased, now, feed)
    token = f"forgotten-{secrets.token_hex(8)}@forgotten.invalid"
    staying = [r for r in rows if r.interaction_id not in set(erased)]
    anonymised = _anonymise(conn, staying, token)
    feed.extend(("interaction", i, "update") for i in sorted(anonymised))
    scrub_texts(conn, spellings, token, feed)
    erase_contacts(conn, ids)
    erase_evidence(conn, spellings)
    rederive(conn, lost, now, feed)
    _remember(conn, spellings, now)
    feed.extend(("contact", i, "forget") for i in ids)
    return Forgotten(contact_id, len(spellings), len(staying), len(erased))


def _anonymise(conn: sa.Connection, rows: Iterable[sa.Row[Any]], token: str) -> set[int]:
    """One anonymous row per (interaction, role) where the person had one or more spellings.

    Returns the interactions that kept an anonymous participant.
    """
    p = interaction_participants
    kept: dict[tuple[int, str], int] = {}
    extra: list[int] = []
    for r in rows:
        if (r.interaction_id, r.role) in kept:
            extra.append(r.id)
        else:
            kept[(r.interaction_id, r.role)] = r.id
    anonymous = {"email": token, "mailbox": token, "name": None, "contact_id": None}
    for part in chunks(extra):
        conn.execute(sa.delete(p).where(p.c.id.in_(part)))
    for part in chunks(sorted(kept.values())):
        conn.execute(sa.update(p).where(p.c.id.in_(part)).values(**anonymous))
    return {i for i, _ in kept}


def _remember(conn: sa.Connection, addresses: Collection[str], now: datetime) -> None:
    key = salt(conn, create=True)
    assert key is not None
    rows = [{"digest": _digest(key, a), "forgotten_at": now} for a in sorted(addresses)]
    stmt = upsert(conn, forgotten_addresses).on_conflict_do_nothing(index_elements=["digest"])
    write_rows(conn, stmt, rows)
