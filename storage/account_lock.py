"""One sync per account at a time, across processes.

Two agents capturing one account (a ``run`` service and a hand-typed
``sync``, or two cron jobs) would both fetch, match and write everything:
the data stays right (upserts), the work is done twice. A pass therefore
holds its account for its duration. The hold is one the operating system
or the server drops when its holder dies, SIGKILL included, so a crashed
agent never leaves an account locked:

- SQLite: ``flock(2)`` on ``<database>.locks/<account>.lock``, which also
  records the holder's pid for the message the second process prints;
- PostgreSQL: a session advisory lock on a connection kept for the pass;
- in-memory SQLite: one process by definition, nothing to hold.

A forked child (the read-ahead) inherits the lock files' descriptors, and
flock belongs to the open file, not the process: the child closes its
copies at once, so a hold ends when the pass that took it ends.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from storage.errors import DatabaseUnavailable

# Any constant works; the same in every agent, apart from the migration lock's key.
ADVISORY_NAMESPACE = 0x61637400  # "act\0"
_held: set[int] = set()  # lock file descriptors of this process


class AccountBusy(Exception):
    """Another process is syncing the account."""

    def __init__(self, account: str, holder: int | None = None) -> None:
        who = f"another autocapture process (pid {holder})" if holder else "another process"
        super().__init__(f"{who} is syncing this account")
        self.account = account
        self.holder = holder


@contextmanager
def hold(engine: sa.Engine, account: str) -> Iterator[None]:
    """Hold ``account`` for a pass; ``AccountBusy`` at once if another process has it."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with _advisory(engine, account):
            yield
    elif url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        with _flocked(Path(url.database + ".locks") / f"{account}.lock", account):
            yield
    else:
        yield


@contextmanager
def _flocked(path: Path, account: str) -> Iterator[None]:
    try:
        path.parent.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:  # e.g. a lock folder an earlier sync made as another user
        raise DatabaseUnavailable(f"cannot open the lock file {path} ({exc.strerror})") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AccountBusy(account, _pid_in(fd)) from None
        _held.add(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        _held.discard(fd)
        os.close(fd)  # the last descriptor of the open file: the lock goes with it


def _pid_in(fd: int) -> int | None:
    try:
        return int(os.pread(fd, 32, 0).decode().strip())
    except (OSError, ValueError):  # the holder has not written it yet
        return None


def _close_inherited() -> None:
    for fd in list(_held):
        _held.discard(fd)
        os.close(fd)


os.register_at_fork(after_in_child=_close_inherited)


@contextmanager
def _advisory(engine: sa.Engine, account: str) -> Iterator[None]:
    # Two int4 keys: a namespace, and the account name's CRC (a collision
    # would only make two accounts wait for each other).
    key = zlib.crc32(account.encode()) - (1 << 31)
    conn = engine.connect()
    try:
        taken = sa.func.pg_try_advisory_lock(ADVISORY_NAMESPACE, key)
        got = conn.execute(sa.select(taken)).scalar_one()
        conn.commit()  # the lock is the session's, not the transaction's
        if not got:
            raise AccountBusy(account)
        try:
            yield
        finally:
            try:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(ADVISORY_NAMESPACE, key)))
                conn.commit()
            except sa.exc.DBAPIError:
                conn.invalidate()  # a lost session took its lock with it
    finally:
        conn.close()
