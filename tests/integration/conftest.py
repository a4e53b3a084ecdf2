"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage import Database, open_database
from tests.plans import ticking_clock


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url, clock=ticking_clock())
    yield database
    database.close()
