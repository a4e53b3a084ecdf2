"""The matcher's read-only view of stored contacts (``matcher.plan.Directory``).

The lookups are by mailbox key (``matcher.mailboxes``), read in chunks
through an index: ``contact_emails.mailbox``, ``address_evidence.email``
(its primary key, which holds the mailbox) and ``sender_signatures.mailbox``,
which ``apply`` keeps current, so a batch of thousands of addresses costs a
few statements and no joins. Candidates for scored resolution are read by
blocking key (``storage.identity_keys``), only for addresses that missed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

import sqlalchemy as sa

from matcher.plan import Evidence, SenderSignature
from matcher.profile import Profile
from storage.addresses import owners_of
from storage.bulk import select_in
from storage.forget import forgotten_among
from storage.identity_keys import candidates
from storage.schema import address_evidence
from storage.sender_signatures import stored_signatures


class StoredDirectory:
    """``matcher.plan.Directory`` over the database; each call reads committed data."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def contact_ids(self, mailboxes: Collection[str]) -> Mapping[str, int]:
        with self._engine.connect() as conn:
            return owners_of(conn, mailboxes, current=True)

    def evidence(self, mailboxes: Collection[str]) -> Mapping[str, Evidence]:
        with self._engine.connect() as conn:
            return stored_evidence(conn, mailboxes)

    def forgotten(self, addresses: Collection[str]) -> Collection[str]:
        with self._engine.connect() as conn:
            return forgotten_among(conn, addresses)

    def sender_signatures(self, mailboxes: Collection[str]) -> Mapping[str, SenderSignature]:
        with self._engine.connect() as conn:
            return stored_signatures(conn, mailboxes)

    def candidates(
        self, keys: Collection[str], mailboxes: Collection[str], threads: Collection[str]
    ) -> Sequence[Profile]:
        with self._engine.connect() as conn:
            return candidates(conn, keys, mailboxes, threads)


def stored_evidence(conn: sa.Connection, emails: Iterable[str]) -> dict[str, Evidence]:
    t = address_evidence.c
    rows = select_in(conn, [t.email, t.sent_to, t.received_from, t.met, t.listed], t.email, emails)
    return {r.email: Evidence(r.sent_to, r.received_from, r.met, r.listed) for r in rows}
