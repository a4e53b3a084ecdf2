"""UTCDateTime's SQLite bind processor writes exactly what SQLAlchemy's own would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from storage.schema_types import UTCDateTime

DIALECT = sqlite.dialect()

INSTANTS = [
    datetime(2026, 12, 7, 9, 39, 2, 394712, tzinfo=UTC),
    datetime(2026, 12, 7, 9, 39, 2, tzinfo=UTC),  # no microseconds: still six digits
    datetime(1, 1, 1, tzinfo=UTC),  # ALL_TIME's start: a four-digit year
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # another zone
    datetime(2024, 3, 1, 0, 0, 0, 7),  # naive: taken as UTC
]


def reference(value: datetime | None) -> str | None:
    """What SQLAlchemy binds: ``process_bind_param``, then SQLite's DATETIME processor."""
    naive = UTCDateTime().process_bind_param(value, DIALECT)
    process = sa.DateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
    assert process is not None
    return process(naive)  # type: ignore[no-any-return]


@pytest.mark.parametrize("value", [*INSTANTS, None])
def test_sqlite_bind_text_equals_sqlalchemys(value: datetime | None) -> None:
    process = UTCDateTime().bind_processor(DIALECT)
    assert process(value) == reference(value)


def test_sqlite_text_reads_back_as_the_same_instant() -> None:
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UTCDateTime))
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"at": v} for v in INSTANTS])
        stored = conn.execute(sa.select(table.c.at)).scalars().all()
    assert stored == [v if v.tzinfo else v.replace(tzinfo=UTC) for v in INSTANTS]
    assert reference(INSTANTS[1]) == "2026-12-07 09:39:02.000000"
