"""A sync pass holds its account against every other process (storage.account_lock).

Two ``Database`` objects open the same database as two agents would; on
SQLite each hold is its own open lock file, on PostgreSQL its own session.
"""

from __future__ import annotations

import pytest

from storage import open_database
from storage.account_lock import AccountBusy


def test_one_holder_per_account_until_it_lets_go(db_url: str) -> None:
    first, second = open_database(db_url), open_database(db_url)
    try:
        with first.hold("alice"):
            with pytest.raises(AccountBusy) as busy, second.hold("alice"):
                pass
            assert busy.value.account == "alice"
            with second.hold("bob"):  # another account is free
                pass
        with second.hold("alice"), pytest.raises(AccountBusy), first.hold("alice"):
            pass  # released by the first, now the second's
    finally:
        first.close()
        second.close()
