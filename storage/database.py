"""``Database``: the one object the agent, the CLI and the matcher's Directory use.

Every public method is its own transaction. ``apply`` is the only writer of
captured data; the account and cursor methods are the agent's bookkeeping;
the read methods return frozen values for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from connectors.contact_files import Card, CardError
from connectors.records import Held, Inventory
from matcher.duplicates import Duplicate
from matcher.plan import Blocklist, Plan, Thresholds
from storage import account_lock, account_state, cursors, dedupe, health, merges, queries
from storage import changes as feed
from storage import reviews as review_items
from storage.account_state import AccountStatus
from storage.apply import ApplyResult, apply_plan, ensure_accounts
from storage.changes import Feed
from storage.company_names import name_companies
from storage.directory import StoredDirectory
from storage.engine import WRITE, create_engine, migrate, require_current
from storage.errors import described
from storage.forget import Forgotten
from storage.forget import forget as forget_person
from storage.health import Requeue, verify_stream
from storage.identity_keys import refresh_keys, reindex
from storage.imports import Imported, import_cards
from storage.leases import Lease, LeaseTable, fence
from storage.merge_journal import identity_lock, survivors_of
from storage.observations import drop_lock, lock_field, refresh_fields
from storage.purge import Purged
from storage.purge import purge as purge_blocked
from storage.schema import DERIVED_FIELDS
from storage.schema_accounts import accounts
from storage.unmerge import merge_to_undo, unmerge

MAX_MESSAGE_CHARS = 1000
LockOwner = Literal["manual", "crm"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    def __init__(self, engine: sa.Engine, clock: Callable[[], datetime] = _utcnow) -> None:
        self.engine = engine
        self._clock = clock

    def __repr__(self) -> str:
        # The URL may carry a password: show only what identifies the database.
        url = self.engine.url
        return f"Database({url.get_backend_name()}:{url.database})"

    @contextmanager
    def _changing(
        self, others: merges.Others | None = None
    ) -> Iterator[tuple[sa.Connection, Feed, datetime]]:
        """A write transaction and the change-feed rows of what it changes, recorded
        (with ``others``, the second contact of a merge's rows) before it commits."""
        now = self._clock()
        with self._writing() as conn, conn.begin():
            changed: Feed = []
            yield conn, changed, now
            feed.record(conn, changed, now, others)

    def _writing(self) -> Any:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite, see ``storage.engine``)."""
        return self.engine.connect().execution_options(**WRITE)

    def close(self) -> None:
        self.engine.dispose()

    # -- capture -----------------------------------------------------------

    def apply(
        self,
        plan: Plan,
        stream: str,
        cursor: Mapping[str, Any] | None,
        window_since: datetime | None = None,
        *,
        lease: Lease | None = None,
        held: Sequence[Held] = (),
    ) -> ApplyResult:
        """Write ``plan`` and move the (account, stream) cursor in ONE transaction.

        ``window_since`` is the backfill window start the cursor covers, kept
        beside it; ``held`` the items the batch accounts for (the completeness
        ledger, ``storage.ledger``). With ``lease`` (a ``run`` worker on
        PostgreSQL) the batch commits only while the lease holds
        (``storage.leases.fence``). Raises ``StorageError`` (nothing written,
        cursor unmoved) when the database refuses the batch, ``LeaseLost`` when
        the account was taken over.
        """
        try:
            with self._writing() as conn, conn.begin():
                if lease is not None:
                    fence(conn, lease)
                return apply_plan(conn, plan, stream, cursor, self._clock(), window_since, held)
        except sa.exc.DBAPIError as exc:
            raise described(exc) from None  # the original quotes mail content

    def directory(self) -> StoredDirectory:
        return StoredDirectory(self.engine)

    def load_cursor(self, account: str, stream: str) -> dict[str, Any] | None:
        return self.load_position(account, stream)[0]

    def load_position(
        self, account: str, stream: str
    ) -> tuple[dict[str, Any] | None, datetime | None]:
        """The stream's cursor and the backfill window start it covers (None: unknown)."""
        with self.engine.connect() as conn:
            return cursors.position(conn, account, stream)

    def has_cursors(self, account: str) -> bool:
        """Whether any stream of ``account`` was ever synced (a first sync has none)."""
        with self.engine.connect() as conn:
            return cursors.synced_before(conn, account)

    def window_starts(self) -> dict[str, datetime]:
        """Per account, the latest window start any of its cursors covers:
        items before it are certainly captured on no stream."""
        with self.engine.connect() as conn:
            return cursors.window_starts(conn)

    def hold(self, account: str) -> AbstractContextManager[None]:
        """Hold ``account`` for one sync pass across processes; ``AccountBusy`` if taken."""
        return account_lock.hold(self.engine, account)

    def leases(self) -> LeaseTable:
        """The account leases of ``run`` workers sharing a PostgreSQL database."""
        return LeaseTable(self.engine)

    def load_cursors(self, account: str) -> dict[str, dict[str, Any]]:
        """{stream: cursor} of every stream of ``account`` that has one."""
        with self.engine.connect() as conn:
            return cursors.cursors_of(conn, account)

    def reset_cursors(self, account: str, lease: Lease | None = None) -> None:
        """Forget every cursor of ``account`` (after CursorExpired); captured data stays."""
        with self._writing() as conn, conn.begin():
            if lease is not None:
                fence(conn, lease)
            cursors.forget(conn, account)

    # -- health and completeness ---------------------------------------------

    def record_health(self, account: str, state: str, detail: Mapping[str, Any]) -> bool:
        """Store the account's health state (``agent.health``); True if it changed."""
        now = self._clock()
        with self._writing() as conn, conn.begin():
            account_id = ensure_accounts(conn, [account], now)[account]
            return health.set_health(conn, account_id, state, dict(detail), now)

    def transitions(self, account: str | None = None) -> list[health.Transition]:
        with self.engine.connect() as conn:
            return health.transitions(conn, account)

    def completeness(self, account: str | None = None) -> list[health.StreamCheck]:
        with self.engine.connect() as conn:
            return health.checks(conn, account)

    def last_checked(self, account: str) -> datetime | None:
        """When ``account``'s least recently checked stream was verified (None: never)."""
        with self.engine.connect() as conn:
            return account_state.last_checked(conn, account)

    def check_stream(
        self, account: str, stream: str, listing: Inventory, requeue: Requeue
    ) -> health.StreamCheck:
        """``verify`` of one stream, in one transaction: compare the provider's
        listing with the ledger, mark copies gone at the provider removed, and
        store the stream's cursor as ``requeue`` rewrites it, so the next poll
        fetches the missing items."""
        now = self._clock()
        with self._writing() as conn, conn.begin():
            return verify_stream(conn, account, stream, listing, requeue, now)

    # -- accounts ----------------------------------------------------------

    def ensure_account(self, name: str, kind: str) -> None:
        with self._writing() as conn, conn.begin():
            ensure_accounts(conn, [name], self._clock(), kind=kind)
            conn.execute(sa.update(accounts).where(accounts.c.name == name).values(kind=kind))

    def record_success(self, account: str) -> None:
        # items_captured mirrors what status shows, for a CRM that reads the
        # table: copies stored, however often a replay or a resync fetched them.
        self._update_account(
            account,
            state="ok",
            message=None,
            last_success_at=self._clock(),
            items_captured=account_state.stored_copies(),
        )

    def record_failure(
        self, account: str, state: Literal["error", "needs_reauth"], message: str
    ) -> None:
        """Mark the account failing; ``message`` must already be free of secrets."""
        self._update_account(
            account, state=state, message=message[:MAX_MESSAGE_CHARS], last_error_at=self._clock()
        )

    def error_counts(self) -> dict[str, int]:
        """Ingest errors stored per account (each item and reason once)."""
        with self.engine.connect() as conn:
            return account_state.error_counts(conn)

    def stored_items(self, account: str) -> int:
        """Copies stored for ``account`` (what ``status`` calls items)."""
        with self.engine.connect() as conn:
            return account_state.stored_items(conn, account)

    def _update_account(self, account: str, **values: Any) -> None:
        with self._writing() as conn, conn.begin():
            ensure_accounts(conn, [account], self._clock())
            conn.execute(sa.update(accounts).where(accounts.c.name == account).values(**values))

    def account_status(self) -> list[AccountStatus]:
        """Per account: items are stored copies, the newest is the newest not
        in the future (a meeting next week is not capture lag)."""
        with self.engine.connect() as conn:
            return account_state.statuses(conn, self._clock())

    # -- contacts ----------------------------------------------------------

    def set_contact_field(
        self, contact_id: int, field: str, value: str | None, owner: LockOwner = "manual"
    ) -> None:
        """Set a field by hand (or for a CRM); capture never overwrites it afterwards."""
        if field not in DERIVED_FIELDS:
            raise ValueError(f"not a contact field: {field!r}")
        with self._changing() as (conn, changed, now):
            if not lock_field(conn, contact_id, field, value, owner, now):
                raise LookupError(f"no contact {contact_id}")
            changed.append(("contact", contact_id, "update"))
            if field == "company":  # a CRM's company name is evidence for the company's
                name_companies(conn, changed)
            refresh_keys(conn, [contact_id])  # a new name is found by its new keys

    def unlock_contact_field(self, contact_id: int, field: str) -> None:
        """Hand a field back to capture: it is re-derived from its observations."""
        with self._changing() as (conn, changed, now):
            drop_lock(conn, contact_id, field)
            refresh_fields(conn, [(contact_id, field)], now, changed)
            if field == "company":
                name_companies(conn, changed)
            refresh_keys(conn, [contact_id])

    def forget(
        self, *, contact_id: int | None = None, addresses: Collection[str] = ()
    ) -> Forgotten:
        """Erase a person (``storage.forget``): a contact by id, or whoever has ``addresses``.

        Raises LookupError when nothing stored matches.
        """
        if contact_id is not None:  # a merged-away id names the same person
            contact_id = self.resolve_contact(contact_id) or contact_id
        with self._changing() as (conn, changed, now):
            return forget_person(conn, now, changed, contact_id=contact_id, addresses=addresses)

    def purge(self, blocklist: Blocklist, *, apply: bool) -> Purged:
        """Remove what ``blocklist`` would have kept out (``storage.purge``).

        Without ``apply`` the same work runs and is rolled back: the counts
        are exactly what applying would remove.
        """
        now = self._clock()
        with self._writing() as conn:
            transaction = conn.begin()
            changed: Feed = []
            done = purge_blocked(conn, blocklist, now, changed)
            if apply:
                feed.record(conn, changed, now)
                transaction.commit()
            else:
                transaction.rollback()
            return done

    def merge_contacts(
        self, survivor: int, merged: int, *, actor: str, reason: str
    ) -> merges.MergeRecord:
        """Merge contact ``merged`` into ``survivor`` (``storage.merges``); MergeRefused if not."""
        return self._merging(merges.merge, survivor, merged, actor=actor, reason=reason)

    def unmerge(
        self, merge_id: int | None = None, *, contact_id: int | None = None, actor: str
    ) -> merges.MergeRecord:
        """Undo a merge, named by id or by a contact it involved (``storage.unmerge``)."""

        def undo(conn: sa.Connection, **kw: Any) -> merges.MergeRecord:
            which = merge_id if merge_id is not None else merge_to_undo(conn, contact_id or 0)
            return unmerge(conn, which, **kw)

        return self._merging(undo, actor=actor)

    def _merging(
        self, action: Callable[..., merges.MergeRecord], *args: Any, **kw: Any
    ) -> merges.MergeRecord:
        others: merges.Others = {}
        with self._changing(others) as (conn, changed, now):
            done: merges.MergeRecord = action(
                conn, *args, now=now, feed=changed, others=others, **kw
            )
            return done

    def resolve_contact(self, contact_id: int) -> int | None:
        """The live contact an id names: itself, or the survivor of the merges it went into."""
        with self.engine.connect() as conn:
            target = survivors_of(conn, [contact_id]).get(contact_id, contact_id)
            return target if merges.contact_row(conn, target) is not None else None

    def merges_of(self, contact_id: int) -> list[merges.MergeRecord]:
        with self.engine.connect() as conn:
            return merges.merges_of(conn, contact_id)

    def duplicate_scan(
        self, thresholds: Thresholds, counts: dedupe.ScanCounts
    ) -> Iterator[Duplicate]:
        """Duplicate pairs among the contacts, streamed (``storage.dedupe``)."""
        with self.engine.connect() as conn:
            yield from dedupe.scan(conn, thresholds, counts)

    def import_contacts(
        self, cards: Iterable[Card | CardError], mailboxes: Mapping[str, str]
    ) -> Imported:
        """Create or update contacts from a CRM's cards (``storage.imports``), in one transaction."""
        with self._changing() as (conn, changed, now):
            identity_lock(conn, exclusive=False)
            done = import_cards(conn, cards, mailboxes, now, changed)
            refresh_keys(conn, {i for entity, i, _ in changed if entity == "contact"})
            return done

    # -- scored resolution ---------------------------------------------------

    def reindex_contacts(self) -> int:
        """Give every contact its blocking keys (``storage.identity_keys``); returns how many."""
        with self._writing() as conn, conn.begin():
            return reindex(conn)

    def reviews(self, state: str | None = "open") -> list[review_items.ReviewView]:
        with self.engine.connect() as conn:
            return review_items.list_reviews(conn, state)

    def review(self, review_id: int) -> review_items.ReviewView | None:
        with self.engine.connect() as conn:
            return review_items.get_review(conn, review_id)

    def decide_review(self, review_id: int, *, accept: bool) -> review_items.ReviewView:
        """Accept (the address becomes the contact's) or reject (never proposed again).

        Raises ``storage.reviews.ReviewError`` for an unknown or already decided review.
        """
        with self._changing() as (conn, changed, now):
            decide = review_items.accept if accept else review_items.reject
            item = decide(conn, review_id, now, changed)
            refresh_keys(conn, {i for entity, i, _ in changed if entity == "contact"})
            return item

    # -- change feed and reads -----------------------------------------------

    def changes_since(self, n: int, limit: int = 1000) -> list[feed.Change]:
        with self.engine.connect() as conn:
            return feed.changes_since(conn, n, limit)

    def list_contacts(
        self, limit: int = 50, offset: int = 0, seen_before: datetime | None = None
    ) -> list[queries.ContactSummary]:
        """By id; with ``seen_before`` only contacts not seen since, longest unseen first."""
        with self.engine.connect() as conn:
            return queries.list_contacts(conn, limit, offset, seen_before)

    def contact_of_email(self, email: str) -> int | None:
        with self.engine.connect() as conn:
            return queries.contact_of_email(conn, email)

    def get_contact(self, contact_id: int) -> queries.ContactDetail | None:
        with self.engine.connect() as conn:
            return queries.get_contact(conn, contact_id)

    def search_contacts(self, text: str, limit: int = 50) -> list[queries.ContactSummary]:
        with self.engine.connect() as conn:
            return queries.search_contacts(conn, text, limit)

    def list_interactions(
        self, contact_id: int | None = None, limit: int = 50
    ) -> list[queries.InteractionView]:
        with self.engine.connect() as conn:
            return queries.list_interactions(conn, contact_id, limit)

    def list_errors(self, account: str | None = None) -> list[queries.ErrorView]:
        with self.engine.connect() as conn:
            return queries.list_errors(conn, account)

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return queries.counts(conn)


def open_database(
    url: str, clock: Callable[[], datetime] = _utcnow, *, read_only: bool = False
) -> Database:
    """Open (creating if needed) the database at ``url`` and migrate it to head.

    ``read_only`` (the CLI's read commands) never writes or migrates: a
    database at another schema version is a ``DatabaseUnavailable``.
    """
    engine = create_engine(url, read_only=read_only)
    if read_only:
        parsed = sa.make_url(url)
        where = (
            str(parsed.database)
            if parsed.get_backend_name() == "sqlite"
            else parsed.render_as_string(hide_password=True)
        )
        require_current(engine, where)
    else:
        migrate(engine)
    return Database(engine, clock)
