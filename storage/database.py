"""``Database``: the one object the agent, the CLI and the matcher's Directory use.

Every public method is its own transaction. ``apply`` is the only writer of
captured data; the account and cursor methods are the agent's bookkeeping;
the read methods return frozen values for the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from matcher.plan import Plan
from storage import changes as feed
from storage import queries
from storage.apply import ApplyResult, apply_plan, ensure_accounts
from storage.company_names import name_companies
from storage.contacts import Feed, refresh_fields
from storage.directory import StoredDirectory
from storage.engine import WRITE, create_engine, migrate
from storage.errors import described
from storage.schema import (
    DERIVED_FIELDS,
    accounts,
    contact_field_locks,
    contacts,
    interaction_sources,
    interactions,
    sync_cursors,
)

MAX_MESSAGE_CHARS = 1000
LockOwner = Literal["manual", "crm"]


@dataclass(frozen=True, slots=True)
class AccountStatus:
    name: str
    kind: str
    state: str  # ok | error | needs_reauth
    message: str | None
    last_success_at: datetime | None
    last_error_at: datetime | None
    items_captured: int
    newest_interaction_at: datetime | None


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

    def _writing(self) -> Any:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite, see ``storage.engine``)."""
        return self.engine.connect().execution_options(**WRITE)

    def close(self) -> None:
        self.engine.dispose()

    # -- capture -----------------------------------------------------------

    def apply(self, plan: Plan, stream: str, cursor: Mapping[str, Any] | None) -> ApplyResult:
        """Write ``plan`` and move the (account, stream) cursor in ONE transaction.

        Raises ``StorageError`` (nothing written, cursor unmoved) when the
        database refuses the batch.
        """
        try:
            with self._writing() as conn, conn.begin():
                return apply_plan(conn, plan, stream, cursor, self._clock())
        except sa.exc.DBAPIError as exc:
            raise described(exc) from None  # the original quotes mail content

    def directory(self) -> StoredDirectory:
        return StoredDirectory(self.engine)

    def load_cursor(self, account: str, stream: str) -> dict[str, Any] | None:
        query = (
            sa.select(sync_cursors.c.cursor)
            .join(accounts, accounts.c.id == sync_cursors.c.account_id)
            .where(accounts.c.name == account, sync_cursors.c.stream == stream)
        )
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return dict(value) if value is not None else None

    def reset_cursors(self, account: str) -> None:
        """Forget every cursor of ``account`` (after CursorExpired); captured data stays."""
        ids = sa.select(accounts.c.id).where(accounts.c.name == account).scalar_subquery()
        with self._writing() as conn, conn.begin():
            conn.execute(sa.delete(sync_cursors).where(sync_cursors.c.account_id == ids))

    # -- accounts ----------------------------------------------------------

    def ensure_account(self, name: str, kind: str) -> None:
        with self._writing() as conn, conn.begin():
            ensure_accounts(conn, [name], self._clock(), kind=kind)
            conn.execute(sa.update(accounts).where(accounts.c.name == name).values(kind=kind))

    def record_success(self, account: str, items: int) -> None:
        self._update_account(
            account,
            state="ok",
            message=None,
            last_success_at=self._clock(),
            items_captured=accounts.c.items_captured + items,
        )

    def record_failure(
        self, account: str, state: Literal["error", "needs_reauth"], message: str
    ) -> None:
        """Mark the account failing; ``message`` must already be free of secrets."""
        self._update_account(
            account, state=state, message=message[:MAX_MESSAGE_CHARS], last_error_at=self._clock()
        )

    def _update_account(self, account: str, **values: Any) -> None:
        with self._writing() as conn, conn.begin():
            ensure_accounts(conn, [account], self._clock())
            conn.execute(sa.update(accounts).where(accounts.c.name == account).values(**values))

    def account_status(self) -> list[AccountStatus]:
        s, i = interaction_sources.c, interactions.c
        newest = (
            sa.select(sa.func.max(i.occurred_at))
            .join(interaction_sources, s.interaction_id == i.id)
            .where(s.account_id == accounts.c.id)
            .scalar_subquery()
        )
        a = accounts.c
        query = sa.select(
            a.name,
            a.kind,
            a.state,
            a.message,
            a.last_success_at,
            a.last_error_at,
            a.items_captured,
            sa.type_coerce(newest, interactions.c.occurred_at.type),
        ).order_by(a.name)
        with self.engine.connect() as conn:
            return [AccountStatus(*r) for r in conn.execute(query)]

    # -- contacts ----------------------------------------------------------

    def set_contact_field(
        self, contact_id: int, field: str, value: str | None, owner: LockOwner = "manual"
    ) -> None:
        """Set a field by hand (or for a CRM); capture never overwrites it afterwards."""
        if field not in DERIVED_FIELDS:
            raise ValueError(f"not a contact field: {field!r}")
        now = self._clock()
        with self._writing() as conn, conn.begin():
            updated = conn.execute(
                sa.update(contacts)
                .where(contacts.c.id == contact_id)
                .values({field: value, "updated_at": now})
            ).rowcount
            if not updated:
                raise LookupError(f"no contact {contact_id}")
            lock = {"contact_id": contact_id, "field": field, "value": value, "owner": owner}
            _drop_lock(conn, contact_id, field)
            conn.execute(contact_field_locks.insert().values(**lock, set_at=now))
            changed: Feed = [("contact", contact_id, "update")]
            if field == "company":  # a CRM's company name is evidence for the company's
                name_companies(conn, changed)
            feed.record(conn, changed, now)

    def unlock_contact_field(self, contact_id: int, field: str) -> None:
        """Hand a field back to capture: it is re-derived from its observations."""
        now = self._clock()
        with self._writing() as conn, conn.begin():
            _drop_lock(conn, contact_id, field)
            changed: Feed = []
            refresh_fields(conn, [(contact_id, field)], now, changed)
            if field == "company":
                name_companies(conn, changed)
            feed.record(conn, changed, now)

    # -- change feed and reads -----------------------------------------------

    def changes_since(self, n: int, limit: int = 1000) -> list[feed.Change]:
        with self.engine.connect() as conn:
            return feed.changes_since(conn, n, limit)

    def list_contacts(self, limit: int = 50, offset: int = 0) -> list[queries.ContactSummary]:
        with self.engine.connect() as conn:
            return queries.list_contacts(conn, limit, offset)

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


def _drop_lock(conn: sa.Connection, contact_id: int, field: str) -> None:
    t = contact_field_locks.c
    conn.execute(sa.delete(contact_field_locks).where(t.contact_id == contact_id, t.field == field))


def open_database(url: str, clock: Callable[[], datetime] = _utcnow) -> Database:
    """Open (creating if needed) the database at ``url`` and migrate it to head."""
    engine = create_engine(url)
    migrate(engine)
    return Database(engine, clock)
