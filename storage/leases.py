"""Account leases: several ``run`` workers on one PostgreSQL database share the accounts.

Each account has one row in ``account_leases``; a worker works an account
only while the row names it and its expiry lies ahead. There is no
coordinator: PostgreSQL's row locks are the whole protocol.

- **claim**: ``SELECT ... FOR UPDATE SKIP LOCKED`` over rows that are free
  or expired, then one UPDATE naming the worker, raising ``epoch`` and
  setting the expiry. Two workers claiming at once skip each other's rows
  instead of waiting, so a claim costs one round trip whatever the others do.
- **renew** (the heartbeat): one UPDATE of every row the worker still
  names; what it returns is what the worker holds. A row missing from the
  answer was taken over after it expired: the account is lost.
- **release**: on a clean exit, or to hand accounts to a newer worker
  (the fair share shrank), the rows are set free at once.
- **fence**: ``Database.apply`` locks the row ``FOR KEY SHARE`` inside the
  transaction that writes the batch and its cursor, and commits only while
  the row still names the worker at the epoch it claimed. A takeover's
  ``FOR UPDATE SKIP LOCKED`` skips the row until that commit, so a worker
  that lost an account can never commit into it. ``KEY SHARE``, not
  ``SHARE``: the heartbeat's UPDATE (no key column changes) does not
  conflict with it, so a slow batch never holds up the renewal of every
  other lease of its worker.

Every time is the database's ``now()``, never a worker's clock: workers on
several machines agree on expiries however their clocks drift.
``lease_workers`` lists live workers (renewed with their leases); the fair
share of each is ceil(accounts / live workers).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from storage.errors import StorageError, described
from storage.schema_accounts import account_leases, lease_workers

_L = account_leases.c
NOW = sa.func.now()


@dataclass(frozen=True, slots=True)
class Lease:
    """A worker's claim on an account; the fence a commit must show."""

    account: str
    worker: str
    epoch: int


@dataclass(frozen=True, slots=True)
class Holding:
    """Who works an account, for ``status``; worker None: nobody (free)."""

    account: str
    worker: str | None
    expires_at: datetime | None


class LeaseLost(StorageError):
    """The account was taken over: this worker's batch is not committed."""

    def __init__(self, lease: Lease, holder: str | None) -> None:
        now = f"worker {holder}" if holder else "no worker"
        super().__init__(
            f"lease lost: {now} holds the account now; batch not committed", transient=False
        )
        self.lease = lease
        self.holder = holder


def _ttl(seconds: float) -> sa.BindParameter[timedelta]:
    return sa.bindparam("ttl", timedelta(seconds=seconds), type_=sa.Interval())


class LeaseTable:
    """The lease statements, each its own short transaction; failures are ``StorageError``."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    @contextmanager
    def _transaction(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except sa.exc.DBAPIError as exc:
            raise described(exc) from None

    def offer(self, accounts: Iterable[str]) -> None:
        """Make sure every account has a lease row (free when new)."""
        rows = [{"account": a} for a in accounts]
        if rows:
            with self._transaction() as conn:
                conn.execute(insert(account_leases).on_conflict_do_nothing(), rows)

    def beat(self, worker: str, ttl: float) -> int:
        """Say ``worker`` is alive for ``ttl`` s; the number of live workers, itself included."""
        row = {"worker": worker, "started_at": NOW, "expires_at": NOW + _ttl(ttl)}
        upsert = insert(lease_workers).values(row)
        upsert = upsert.on_conflict_do_update(
            index_elements=["worker"], set_={"expires_at": upsert.excluded.expires_at}
        )
        live = sa.select(sa.func.count()).where(lease_workers.c.expires_at > NOW)
        with self._transaction() as conn:
            conn.execute(upsert)
            # Workers that died long ago leave rows behind; one hour is far
            # past any expiry, so no live worker is ever deleted.
            gone = NOW - timedelta(hours=1)
            conn.execute(sa.delete(lease_workers).where(lease_workers.c.expires_at < gone))
            return int(conn.execute(live).scalar_one())

    def claim(self, worker: str, accounts: Collection[str], limit: int, ttl: float) -> list[Lease]:
        """Up to ``limit`` of ``accounts`` that are free or expired, now ``worker``'s."""
        if limit <= 0 or not accounts:
            return []
        free = (
            sa.select(_L.account)
            .where(
                # One array parameter, not one parameter per name: a claim
                # among thousands of accounts stays one short statement.
                _L.account == sa.any_(sa.bindparam("names", list(accounts), type_=ARRAY(sa.Text))),
                sa.or_(_L.worker.is_(None), _L.expires_at.is_(None), _L.expires_at < NOW),
            )
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("free")
        )
        taken = (
            sa.update(account_leases)
            .where(_L.account.in_(sa.select(free.c.account)))
            .values(worker=worker, epoch=_L.epoch + 1, claimed_at=NOW, expires_at=NOW + _ttl(ttl))
            .returning(_L.account, _L.epoch)
        )
        with self._transaction() as conn:
            return [Lease(a, worker, e) for a, e in conn.execute(taken)]

    def renew(self, worker: str, ttl: float) -> list[Lease]:
        """Push every expiry ``worker`` still holds ``ttl`` s ahead; those are its leases."""
        renewed = (
            sa.update(account_leases)
            .where(_L.worker == worker)
            .values(expires_at=NOW + _ttl(ttl))
            .returning(_L.account, _L.epoch)
        )
        with self._transaction() as conn:
            return [Lease(a, worker, e) for a, e in conn.execute(renewed)]

    def release(self, worker: str, accounts: Collection[str] | None = None) -> None:
        """Set ``accounts`` (None: all, and the worker leaves) free at once."""
        mine = sa.update(account_leases).where(_L.worker == worker)
        if accounts is not None:
            mine = mine.where(_L.account.in_(list(accounts)))
        with self._transaction() as conn:
            conn.execute(mine.values(worker=None, expires_at=None))
            if accounts is None:
                conn.execute(sa.delete(lease_workers).where(lease_workers.c.worker == worker))

    def holdings(self) -> list[Holding]:
        """Every lease row, live ones with their worker, by account (none on SQLite)."""
        if self.engine.url.get_backend_name() != "postgresql":
            return []
        live = sa.and_(_L.worker.is_not(None), _L.expires_at > NOW)
        query = sa.select(
            _L.account,
            sa.case((live, _L.worker), else_=None),
            sa.case((live, _L.expires_at), else_=None),
        ).order_by(_L.account)
        with self._transaction() as conn:
            return [Holding(a, w, e) for a, w, e in conn.execute(query)]


def fence(conn: sa.Connection, lease: Lease) -> None:
    """Inside a write transaction: go on only while ``lease`` still holds (``LeaseLost``).

    The row lock makes a takeover's claim skip the row until this
    transaction ends, so the check stays true through the commit.
    """
    row = conn.execute(
        sa.select(_L.worker, _L.epoch)
        .where(_L.account == lease.account)
        .with_for_update(read=True, key_share=True)
    ).first()
    if row is None or row.worker != lease.worker or row.epoch != lease.epoch:
        raise LeaseLost(lease, row.worker if row is not None else None)
