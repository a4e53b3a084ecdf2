"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.sample import capture


@pytest.fixture
def captured(db_url: str) -> Any:
    db, reports = capture(db_url)
    assert [(r.account, r.outcome) for r in reports] == [("alice", "ok"), ("bob", "ok")]
    return db
