"""Cost of ``Database.apply`` for a 500-interaction batch on SQLite and PostgreSQL.

Each batch: 500 messages, 3 participants each (the mailbox owner, skipped;
one new person, created with a name observation and a work domain; one
known contact, linked), so half of the external participants are new
contacts. Prints the median and best of several batches, and a replay.

    .venv/bin/python bench/storage_apply.py [--pg URL] [--batches N]

PostgreSQL: a scratch database is created on the server of ``--pg`` (default
the local test server) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connectors.records import SourceRef
from matcher.plan import InteractionPlan, Observation, ParticipantPlan, Plan
from storage import Database, open_database

BATCH = 500
T0 = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = ParticipantPlan("owner@us.example", "Owner", "to", "internal", "skip", "class:internal")


def known_people(db: Database, count: int) -> dict[str, int]:
    emails = [f"known{i}@client{i % 50}.example" for i in range(count)]
    seed = Plan(
        "bench",
        tuple(
            _message(f"seed{i}", [ParticipantPlan(e, None, "from", "person", "create", "seed")])
            for i, e in enumerate(emails)
        ),
    )
    db.apply(seed, "INBOX", None)
    return dict(db.directory().contact_ids(emails))


def _message(key: str, people: list[ParticipantPlan], n: int = 0) -> InteractionPlan:
    return InteractionPlan(
        identity=f"msgid:{key}@bench",
        kind="email",
        occurred_at=T0 + timedelta(minutes=n),
        ended_at=None,
        subject=f"Proposal {key}",
        snippet=None,
        direction="inbound",
        thread_key=f"thread-{key}",
        status="received",
        sequence=0,
        source=SourceRef("bench", "INBOX", f"INBOX/{key}"),
        participants=tuple(people),
    )


def batch(number: int, known: dict[str, int]) -> Plan:
    linked = list(known.items())
    items = []
    for i in range(BATCH):
        n = number * BATCH + i
        new = ParticipantPlan(
            f"new{n}@prospect{n % 97}.example",
            f"New Person {n}",
            "from",
            "person",
            "create",
            "policy:always",
            observations=(Observation("name", f"New Person {n}", 0.8),),
            company_domain=f"prospect{n % 97}.example",
        )
        email, contact = linked[n % len(linked)]
        old = ParticipantPlan(
            email, None, "cc", "person", "link", "exact-email", contact_id=contact
        )
        items.append(_message(f"b{n}", [new, OWNER, old], n))
    return Plan("bench", tuple(items))


Timing = tuple[float, float]  # (wall ms, this process's CPU ms)


def timed(run: Callable[[], object]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def measure(db: Database, batches: int) -> tuple[list[Timing], Timing]:
    known = known_people(db, 1000)
    plans = [batch(b, known) for b in range(batches)]
    results = []

    def apply(plan: Plan) -> None:
        results.append(db.apply(plan, "INBOX", {"n": plan.interactions[-1].identity}))

    apply(batch(batches, known))  # warm-up: statement compilation, caches
    times = [timed(functools.partial(apply, plan)) for plan in plans]
    assert all(r.new_interactions == BATCH and r.new_contacts == BATCH for r in results)
    replay = timed(lambda: apply(plans[-1]))
    assert results[-1].new_interactions == 0
    return times, replay


@contextmanager
def scratch_pg(admin_url: str) -> Iterator[str]:
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"autocapture_bench_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(engine: str, times: list[Timing], replay: Timing) -> None:
    wall = statistics.median(t[0] for t in times)
    cpu = statistics.median(t[1] for t in times)
    print(
        f"{engine:10} {BATCH} interactions x 3 participants: median {wall:.0f} ms/batch "
        f"({wall * 1000 / BATCH:.0f} us/interaction), client CPU {cpu:.0f} ms/batch "
        f"({cpu * 1000 / BATCH:.0f} us/interaction), best {min(t[0] for t in times):.0f} ms, "
        f"replay {replay[0]:.0f} ms  [{len(times)} batches]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--batches", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_database(f"sqlite:///{tmp}/bench.db")
        report("sqlite", *measure(db, args.batches))
        db.close()
    with scratch_pg(args.pg) as url:
        db = open_database(url)
        report("postgresql", *measure(db, args.batches))
        db.close()


if __name__ == "__main__":
    main()
