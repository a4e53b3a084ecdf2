"""Contacts as profiles for scored resolution, and the blocking keys they are found by.

``contact_keys`` holds every contact's ``matcher.identity.blocking_keys``
(surname with given-name forms, phone numbers, company domains). ``apply``
and ``import`` refresh the keys of the contacts they change (the change
feed of the transaction names them, plus contacts given a new phone), so
the candidates of an unknown address are read by key through the primary
key index: a handful of rows per address whether there are a thousand
contacts or a million. A key shared by more than ``MAX_BLOCK`` contacts
("n:smith:j") finds nobody: it cannot tell them apart, and a fuller key
(``n:smith:john``) or a phone still finds the right one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

import sqlalchemy as sa

from matcher.identity import MAX_BLOCK, blocking_keys, fold, parse_name, phone_keys
from matcher.profile import Profile
from storage.bulk import chunks, select_in, write_rows
from storage.schema import (
    contact_emails,
    contact_keys,
    contact_observations,
    contacts,
    interaction_participants,
    interactions,
    review_queue,
)

MIN_PHONE_CONFIDENCE = 0.8  # valid numbers only (``matcher.body.signature_fields``)


def profiles(
    conn: sa.Connection, ids: Collection[int], threads: Collection[str] = ()
) -> dict[int, Profile]:
    """The profile of each of ``ids``; ``threads``: the thread keys to say they were on."""
    if not ids:
        return {}
    c, e, o = contacts.c, contact_emails.c, contact_observations.c
    rows = select_in(conn, [c.id, c.name, c.given_name, c.family_name, c.title], c.id, ids)
    addresses: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for r in select_in(conn, [e.contact_id, e.mailbox, e.status], e.contact_id, ids):
        addresses[r.contact_id].append((r.mailbox, r.status))
    phones: dict[int, set[tuple[str, str]]] = defaultdict(set)
    titles: dict[int, set[str]] = defaultdict(set)
    query = sa.select(o.contact_id, o.field, o.value).where(
        o.field.like("phone%"), o.field != "phone:fax", o.confidence >= MIN_PHONE_CONFIDENCE
    )
    for r in select_in(conn, query, o.contact_id, ids):
        phones[r.contact_id].add((r.field.partition(":")[2], r.value))
    on_threads = _on_threads(conn, ids, threads)
    q = review_queue.c
    rejected: dict[int, set[str]] = defaultdict(set)
    said_no = sa.select(q.contact_id, q.mailbox).where(q.state == "rejected")
    for r in select_in(conn, said_no, q.contact_id, ids):
        rejected[r.contact_id].add(r.mailbox)
    found: dict[int, Profile] = {}
    for r in rows:
        if r.title:
            titles[r.id].add(fold(r.title))
        found[r.id] = Profile(
            r.id,
            parse_name(r.name, r.given_name, r.family_name),
            tuple(sorted(addresses[r.id])),
            tuple(sorted(phones[r.id])),
            frozenset(titles[r.id]),
            frozenset(on_threads[r.id]),
            frozenset(rejected[r.id]),
        )
    return found


def _on_threads(
    conn: sa.Connection, ids: Collection[int], threads: Collection[str]
) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    if not threads:
        return found
    p, i = interaction_participants.c, interactions.c
    query = (
        sa.select(p.contact_id, i.thread_key)
        .join(interactions, i.id == p.interaction_id)
        .where(p.contact_id.in_(sorted(ids)))
        .distinct()
    )
    for r in select_in(conn, query, i.thread_key, threads):
        found[r.contact_id].add(r.thread_key)
    return found


def unkeyed(conn: sa.Connection, phones: Collection[tuple[int, str]]) -> set[int]:
    """The contacts of ``phones`` (contact, number) that a number's key does not find yet.

    Most mail repeats a phone its sender's contact is already keyed by;
    rebuilding that contact's profile (every phone it ever signed with) for
    each batch grew with the mail stored, not with what changed.
    """
    if not phones:
        return set()
    t = contact_keys.c
    ids = sorted({contact for contact, _ in phones})
    held = {
        (r.contact_id, r.key) for r in select_in(conn, [t.contact_id, t.key], t.contact_id, ids)
    }
    wanted = {(c, key) for c, number in phones for key in phone_keys([("", number)])}
    return {contact for contact, key in wanted - held}


def refresh_keys(conn: sa.Connection, ids: Iterable[int]) -> None:
    """Make the stored keys of each of ``ids`` its profile's keys (none for a gone contact)."""
    wanted = sorted(set(ids))
    if not wanted:
        return
    t = contact_keys.c
    held = {
        (r.key, r.contact_id) for r in select_in(conn, [t.key, t.contact_id], t.contact_id, wanted)
    }
    now = {(k, i) for i, p in profiles(conn, wanted).items() for k in blocking_keys(p)}
    for key, contact in sorted(held - now):
        conn.execute(sa.delete(contact_keys).where(t.key == key, t.contact_id == contact))
    rows = [{"key": k, "contact_id": i} for k, i in sorted(now - held)]
    write_rows(conn, contact_keys.insert(), rows)


def candidates(
    conn: sa.Connection, keys: Collection[str], mailboxes: Collection[str], threads: Collection[str]
) -> list[Profile]:
    """``matcher.plan.Directory.candidates`` (see there), read by key."""
    t, e = contact_keys.c, contact_emails.c
    members: dict[str, set[int]] = defaultdict(set)
    for r in select_in(conn, [t.key, t.contact_id], t.key, keys):
        members[r.key].add(r.contact_id)
    ids = {i for group in members.values() if len(group) <= MAX_BLOCK for i in group}
    former = sa.select(e.contact_id).where(e.status == "former")
    ids.update(r.contact_id for r in select_in(conn, former, e.mailbox, mailboxes))
    found = profiles(conn, ids, threads)
    return [found[i] for i in sorted(found)]


def reindex(conn: sa.Connection, batch: int = 2000) -> int:
    """Refresh the keys of every contact (after the upgrade that added them); returns how many."""
    done = 0
    last = 0
    while True:
        ids = list(
            conn.execute(
                sa.select(contacts.c.id)
                .where(contacts.c.id > last)
                .order_by(contacts.c.id)
                .limit(batch)
            ).scalars()
        )
        if not ids:
            return done
        for part in chunks(ids):
            refresh_keys(conn, part)
        done += len(ids)
        last = ids[-1]
