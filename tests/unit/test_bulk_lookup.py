"""storage.bulk.select_in on SQLite: the JSON-array lookup finds exactly what an IN list finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from storage.bulk import CHUNK, select_in
from storage.schema_types import UTCDateTime

METADATA = sa.MetaData()
PEOPLE = sa.Table(
    "people",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.Text, index=True),
    sa.Column("seen_at", UTCDateTime, index=True),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Real-world shapes: IDN and astral local parts, quoted local parts, and
# the ones that may not travel through JSON (a tab, a NUL), which take the
# IN list instead.
ODD = [
    "jürgen@müller.example",
    "😀@emoji.example",
    '"john doe"@quoted.example',
    "back\\slash@odd.example",
    "日本@例え.jp",
    "tab\there@odd.example",
    "nul\x00byte@odd.example",
]


def _database() -> sa.Engine:
    engine = sa.create_engine("sqlite://")
    METADATA.create_all(engine)
    plain = [f"person{i}@client{i % 7}.example" for i in range(2 * CHUNK)]
    with engine.begin() as conn:
        conn.execute(
            PEOPLE.insert(),
            [
                {"id": i + 1, "email": e, "seen_at": T0 + timedelta(minutes=i)}
                for i, e in enumerate([*plain, *ODD])
            ],
        )
    return engine


def test_text_keys_beyond_one_chunk_and_odd_ones_are_all_found() -> None:
    engine = _database()
    wanted = [f"person{i}@client{i % 7}.example" for i in range(0, 2 * CHUNK, 2)]
    wanted += [*ODD, "nobody@nowhere.example"]
    with engine.connect() as conn:
        rows = select_in(conn, [PEOPLE.c.id, PEOPLE.c.email], PEOPLE.c.email, wanted)
        mixed = select_in(conn, [PEOPLE.c.email], PEOPLE.c.email, ODD)  # falls back: tab, NUL
        plain = select_in(conn, [PEOPLE.c.email], PEOPLE.c.email, ODD[:5])  # the JSON array
    assert sorted(r.email for r in rows) == sorted(wanted[:-1])
    assert len(rows) == CHUNK + len(ODD)
    assert sorted(r.email for r in mixed) == sorted(ODD)
    assert sorted(r.email for r in plain) == sorted(ODD[:5])


def test_integer_keys_and_a_typed_key() -> None:
    engine = _database()
    with engine.connect() as conn:
        by_id = select_in(conn, [PEOPLE.c.id, PEOPLE.c.email], PEOPLE.c.id, [1, 2, 3, 10**12])
        # A timestamp key binds through its type: never as raw JSON.
        at = [T0 + timedelta(minutes=5), T0 + timedelta(minutes=7)]
        by_time = select_in(conn, [PEOPLE.c.id], PEOPLE.c.seen_at, at)
        empty = select_in(conn, [PEOPLE.c.id], PEOPLE.c.id, [])
    assert sorted((r.id, r.email) for r in by_id) == [
        (1, "person0@client0.example"),
        (2, "person1@client1.example"),
        (3, "person2@client2.example"),
    ]
    assert sorted(r.id for r in by_time) == [6, 8]
    assert empty == []
