"""Bulk statements that read the same on SQLite and PostgreSQL.

Both dialects spell ``INSERT ... ON CONFLICT`` the same way in SQLAlchemy,
but through two different ``insert`` constructs; ``upsert`` picks the one of
the connection. Lookups go through ``chunks`` so an ``IN`` list never passes
SQLite's bound-parameter limit nor makes PostgreSQL plan a huge statement;
on SQLite a lookup of plain keys binds them as one JSON array instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

CHUNK = 900  # below SQLite's historic 999 bound-parameter limit
PG_CHUNK = 10_000  # one array parameter per statement: only the plan size bounds it

# PostgreSQL refuses a btree entry above ~2.7 kB, so a hostile iCalendar UID
# or href would fail the whole batch; longer keys are stored as a digest.
MAX_KEY_CHARS = 512

# RFC 5321 caps a path at 256 octets; a longer "address" is not one and would
# only bloat (or, on PostgreSQL, overflow) the email indexes.
MAX_EMAIL_CHARS = 320


def upsert(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT`` with ``on_conflict_do_nothing``/``on_conflict_do_update`` for this dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def write_rows(conn: sa.Connection, stmt: Any, rows: Sequence[dict[str, Any]]) -> int:
    """Run an INSERT/UPDATE without RETURNING for every row; returns the rows changed.

    On SQLite the statement is compiled once and handed to the driver's
    executemany with plain tuples: SQLAlchemy's per-row parameter handling
    cost more than SQLite's own work (bench/storage_apply.py). Values still
    pass through each column type's bind processor, so they are stored
    exactly as SQLAlchemy would store them.
    """
    if not rows:
        return 0
    if conn.dialect.name == "postgresql" and isinstance(stmt, sa.Insert):
        return max(insert_arrays(conn, stmt, rows).rowcount, 0)
    if conn.dialect.name != "sqlite":
        return max(conn.execute(stmt, rows).rowcount, 0)
    dialect = conn.dialect
    compiled = _compiled(stmt, dialect, tuple(rows[0]))
    names = list(compiled.positiontup or ())
    columns = _columns(rows, names)
    for i, n in enumerate(names):
        if proc := _processor(compiled.binds[n].type, dialect):
            columns[i] = proc(columns[i])
    params = list(zip(*columns, strict=True))
    return max(conn.exec_driver_sql(str(compiled), params).rowcount, 0)


# Compiled statements by SQLAlchemy's own cache key (which leaves bound values
# out, and write_rows binds none but the rows'): apply writes the same few
# dozen statements in every batch, and compiling one cost more than building it.
_COMPILED: dict[Any, Any] = {}
MAX_COMPILED = 256


def remember(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """Put ``value`` in ``cache``, the oldest entry going first past ``limit``; returns it."""
    if len(cache) >= limit:
        del cache[next(iter(cache))]
    cache[key] = value
    return value


def _compiled(stmt: Any, dialect: sa.Dialect, columns: tuple[str, ...]) -> Any:
    # The key SQLAlchemy's own compiled cache uses (``Connection.execute``);
    # None: the statement cannot be cached.
    cache_key = stmt._generate_cache_key()
    if cache_key is None:
        return stmt.compile(dialect=dialect, column_keys=list(columns))
    key = (cache_key.key, dialect.name, columns)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        remember(_COMPILED, key, compiled, MAX_COMPILED)
    return compiled


def insert_arrays(
    conn: sa.Connection, stmt: Any, rows: Sequence[dict[str, Any]], *returning: Any
) -> sa.CursorResult[Any]:
    """PostgreSQL: ``INSERT ... SELECT * FROM unnest(:col1, :col2, ...)``, one array per column.

    One statement with one parameter per column, whatever the row count: the
    multi-row VALUES form costs a bound parameter (and client-side parsing)
    per value. The arrays travel in binary (psycopg's ``%(name)b``): in text
    form psycopg runs every element through a quoting regular expression,
    which cost more client CPU than the rest of ``apply``. Values pass
    through each column type's bind processor first, as SQLAlchemy would.
    """
    table = stmt.table
    names = list(rows[0])
    arrays = {n: f"a_{n}" for n in names}
    source = (
        sa.func.unnest(
            *(sa.bindparam(arrays[n], type_=postgresql.ARRAY(table.c[n].type)) for n in names)
        )
        .table_valued(*names)
        .render_derived()
    )
    query = stmt.from_select(names, sa.select(*(source.c[n] for n in names)))
    if returning:
        query = query.returning(*returning)
    columns = dict(zip(names, _columns(rows, names), strict=True))
    compiled = query.compile(dialect=conn.dialect)
    if set(compiled.binds) != set(arrays.values()):  # other bound values: SQLAlchemy binds all
        return conn.execute(query, {arrays[n]: list(c) for n, c in columns.items()})
    params = {}
    for n, column in columns.items():
        proc = _processor(table.c[n].type, conn.dialect)
        params[arrays[n]] = proc(column) if proc else list(column)
    # Only our own bound names are rewritten; a literal % is rendered as %%.
    binary = re.sub(r"(?<!%)%\((a_\w+)\)s", r"%(\1)b", str(compiled))
    return conn.exec_driver_sql(binary, params)


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> list[Sequence[Any]]:
    """The values of ``names`` in ``rows``, column by column.

    itemgetter and zip loop in C: a Python loop over every value of a batch
    cost as much as SQLite's own insert work.
    """
    pick = itemgetter(*names) if len(names) > 1 else lambda row: (row[names[0]],)
    return list(zip(*map(pick, rows), strict=True))


def _processor(type_: Any, dialect: sa.Dialect) -> Callable[[Sequence[Any]], list[Any]] | None:
    """The column type's bind processor, over a whole column of values.

    A batch binds the same few instants thousands of times (``now``, each
    message's date) and formatting one is the costliest step of a row, so
    a decorated type's (timestamps) runs once per distinct value.
    """
    proc = type_.dialect_impl(dialect).bind_processor(dialect)
    if proc is None:
        return None
    if not isinstance(type_, sa.TypeDecorator):
        return lambda values: list(map(proc, values))

    def once_per_value(values: Sequence[Any]) -> list[Any]:
        done = {value: proc(value) for value in set(values)}
        return list(map(done.__getitem__, values))

    return once_per_value


def insert_new(
    conn: sa.Connection,
    table: sa.Table,
    stmt: Any,
    rows: Sequence[dict[str, Any]],
    key: str = "id",
    mark: str = "id",
) -> list[dict[str, Any]]:
    """Run an ``INSERT ... ON CONFLICT DO NOTHING``; returns the rows that were inserted.

    A row is ours when the stored row under its ``key`` carries its ``mark``
    (an id we allocated, or the owner we claimed for). PostgreSQL says so
    through RETURNING; on SQLite, where apply is the only writer, every row
    lands unless the batch repeats a key, so the check runs only then.
    """
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        result = insert_arrays(conn, stmt, rows, table.c[key], table.c[mark])
        landed = {tuple(r) for r in result.all()}
        return [r for r in rows if (r[key], r[mark]) in landed]
    if write_rows(conn, stmt, rows) == len(rows):
        return list(rows)
    stored = select_in(conn, [table.c[key], table.c[mark]], table.c[key], [r[key] for r in rows])
    ours = {tuple(r) for r in stored}
    return [r for r in rows if (r[key], r[mark]) in ours]


def allocate_ids(conn: sa.Connection, table: sa.Table, count: int) -> list[int]:
    """``count`` fresh primary keys for ``table``, so rows can be inserted in bulk by id.

    ``INSERT ... RETURNING`` in parameter order would do, but on SQLite
    SQLAlchemy can only keep that order by inserting row by row. SQLite has
    one writer (``BEGIN IMMEDIATE``), so the ids after the current maximum
    are ours; PostgreSQL hands them out from the table's sequence.
    """
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        query = sa.text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"
        )
        return sorted(conn.execute(query, {"t": table.name, "n": count}).scalars().all())
    top = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one()
    if table.name == "contacts":
        # A merged-away contact's row is gone but its id still names the
        # survivor, and unmerge brings the row back: never hand the id out again.
        gone = sa.text("SELECT coalesce(max(merged_id), 0) FROM merges")
        top = max(int(top), int(conn.execute(gone).scalar_one()))
    return list(range(int(top) + 1, int(top) + 1 + count))


def chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def select_in(
    conn: sa.Connection,
    query: Sequence[Any] | sa.Select[Any],
    key: sa.ColumnElement[Any],
    values: Iterable[Any],
) -> list[sa.Row[Any]]:
    """``query`` (a select, or the columns of one) ``WHERE key IN values``: in chunks,
    or on SQLite, for a list of columns, as one JSON array (``_json_in``)."""
    rows: list[sa.Row[Any]] = []
    wanted = sorted(set(values))
    if not wanted:
        return rows
    if conn.dialect.name == "sqlite" and not isinstance(query, sa.Select) and _plain(wanted):
        stmt = _json_in(tuple(query), key, conn.dialect)
        if stmt is not None:
            return list(conn.execute(stmt, {"keys": json.dumps(wanted)}).all())
    base = query if isinstance(query, sa.Select) else sa.select(*query)
    if conn.dialect.name == "postgresql":
        # One array parameter instead of one parameter per value.
        for part in chunks(wanted, PG_CHUNK):
            keys = sa.bindparam("keys", part, type_=postgresql.ARRAY(key.type))
            rows.extend(conn.execute(base.where(key == sa.any_(keys))).all())
        return rows
    for part in chunks(wanted):
        rows.extend(conn.execute(base.where(key.in_(part))).all())
    return rows


def _plain(values: Sequence[Any]) -> bool:
    """Values that travel through a JSON array unchanged: integers, and text
    without controls (SQLite's JSON would hand a NUL back as a cut string)."""
    return all(type(v) is int or (type(v) is str and v.isprintable()) for v in values)


# Keyed by the columns' identities (the same few lookups run in every batch);
# the columns are kept too, so an identity reused by another object misses.
_JSON_IN: dict[tuple[int, ...], tuple[tuple[Any, ...], sa.Select[Any] | None]] = {}


def _json_in(
    columns: tuple[Any, ...], key: sa.ColumnElement[Any], dialect: sa.Dialect
) -> sa.Select[Any] | None:
    """SQLite: ``SELECT columns WHERE key IN (SELECT value FROM json_each(:keys))``;
    None when ``key``'s type would bind its values otherwise than as they are.

    One statement, built once per lookup and for any number of keys: an
    ``IN`` list makes SQLAlchemy build, key and render a statement per
    chunk, which cost more than SQLite's own index lookups.
    """
    ids = (*map(id, columns), id(key))
    known = _JSON_IN.get(ids)
    if known is not None and all(a is b for a, b in zip(known[0], (*columns, key), strict=True)):
        return known[1]
    stmt = None
    if key.type.dialect_impl(dialect).bind_processor(dialect) is None:
        listed = sa.func.json_each(sa.bindparam("keys")).table_valued("value")
        stmt = sa.select(*columns).where(key.in_(sa.select(listed.c.value).scalar_subquery()))
    # Bounded, should a caller build its columns afresh for every lookup.
    remember(_JSON_IN, ids, ((*columns, key), stmt), MAX_COMPILED)
    return stmt


def rows_table(
    conn: sa.Connection, name: str, columns: Mapping[str, Any], rows: Sequence[Sequence[Any]]
) -> sa.FromClause:
    """``rows`` of integers and strings as a table named ``name`` with typed ``columns``.

    One parameter per column on PostgreSQL (``unnest`` of arrays), one in
    all on SQLite (``json_each`` of a JSON array of rows): a ``VALUES`` list
    would bind, and have SQLAlchemy build and compile, one parameter per
    value, which cost more than the query it fed.
    """
    typed = [sa.column(n, t) for n, t in columns.items()]
    if conn.dialect.name == "postgresql":
        arrays = [
            sa.bindparam(f"{name}_{c.name}", [r[i] for r in rows], type_=postgresql.ARRAY(c.type))
            for i, c in enumerate(typed)
        ]
        return sa.func.unnest(*arrays).table_valued(*typed).render_derived(name=name)
    items = sa.func.json_each(sa.bindparam(f"{name}_json", json.dumps(list(rows))))
    value = items.table_valued("value").c.value
    fields = [
        sa.type_coerce(sa.func.json_extract(value, f"$[{i}]"), c.type).label(c.name)
        for i, c in enumerate(typed)
    ]
    return sa.select(*fields).subquery(name)


def text_value(value: str | None) -> str | None:
    """Text a database accepts: PostgreSQL rejects NUL and lone surrogates break UTF-8."""
    if value is None:
        return None
    if not value.isascii():
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value.replace("\x00", "") if "\x00" in value else value


def key_value(value: str) -> str:
    """A natural key short enough to index on both engines (see MAX_KEY_CHARS)."""
    value = text_value(value) or ""
    if len(value) <= MAX_KEY_CHARS:
        return value
    return "sha256:" + hashlib.sha256(value.encode("utf-8")).hexdigest()


def usable_email(email: str) -> bool:
    return 0 < len(email) <= MAX_EMAIL_CHARS


def update_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    key: str = "id",
    only_if_null: str | None = None,
) -> None:
    """``UPDATE table SET ... WHERE key = ...`` for many rows with the same keys.

    ``only_if_null`` names a column that must still be NULL (a backlink must
    not steal a row another contact already owns). PostgreSQL gets one
    statement over ``unnest`` of one array per column: an executemany there
    is one round trip per row. SQLite runs in-process, so executemany is cheap.
    """
    if not rows:
        return
    columns = [c for c in rows[0] if c != key]
    if conn.dialect.name == "postgresql":
        _update_from_arrays(conn, table, rows, key, columns, only_if_null)
        return
    where = [table.c[key] == sa.bindparam("row_key")]
    if only_if_null:
        where.append(table.c[only_if_null].is_(None))
    # Bound names get a prefix: SQLAlchemy reserves a column's own name for SET.
    stmt = sa.update(table).where(*where).values({c: sa.bindparam(f"v_{c}") for c in columns})
    write_rows(conn, stmt, [{"row_key": r[key], **{f"v_{c}": r[c] for c in columns}} for r in rows])


def _update_from_arrays(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    key: str,
    columns: list[str],
    only_if_null: str | None,
) -> None:
    # Only our own table and column names are spliced in; values are bound.
    names = [key, *columns]
    assignments = ", ".join(f"{c} = v.{c}" for c in columns)
    arrays = ", ".join(f":a_{c}" for c in names)
    condition = f"{table.name}.{key} = v.{key}"
    if only_if_null:
        condition += f" AND {table.name}.{only_if_null} IS NULL"
    stmt = sa.text(
        f"UPDATE {table.name} SET {assignments} "
        f"FROM unnest({arrays}) AS v({', '.join(names)}) WHERE {condition}"
    ).bindparams(*(sa.bindparam(f"a_{c}", type_=postgresql.ARRAY(table.c[c].type)) for c in names))
    conn.execute(stmt, {f"a_{c}": [r[c] for r in rows] for c in names})
