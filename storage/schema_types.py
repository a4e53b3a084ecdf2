"""The column types and the declarative base every table of ``storage.schema`` uses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timestamps stored as UTC and always read back timezone-aware.

    SQLite has no time zone type and returns naive values; PostgreSQL returns
    aware ones. Without this the same comparison (is the stored meeting newer?)
    would behave differently on the two engines.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def bind_processor(self, dialect: sa.Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        bind = self.process_bind_param

        # SQLite's DATETIME writes "YYYY-MM-DD HH:MM:SS.ffffff" through a dict
        # and a %-format per value, the costliest step of binding a row;
        # isoformat gives the same text in one call (tests/unit/test_schema_types.py).
        def process(value: datetime | None) -> str | None:
            naive = bind(value, dialect)
            return None if naive is None else naive.isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only gives 64-bit rowid aliases to a column declared INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


def table(model: type[Base]) -> sa.Table:
    """The Core table of a model, typed for bulk statements."""
    return cast(sa.Table, model.__table__)
