"""What account leases cost on PostgreSQL, and how many accounts one ``run`` worker keeps.

Prints four figures:

1. claim latency: W workers (threads, each its own worker id) claim 100
   accounts at a time from N free ones until none is left; median and 95th
   percentile per claim statement, as W grows (SKIP LOCKED: no claim waits
   for another);
2. the heartbeat: one renewal of every lease a worker holds, by leases held;
3. the fence: ``Database.apply`` of a one-message batch with and without
   its lease check;
4. an idle pass (the steady state of a captured account: one fetch that
   finds nothing, the account's bookkeeping), through ``sync_account`` as
   the worker runs it, and the accounts one worker can keep at a 5-minute
   poll interval from it.

    .venv/bin/python bench/leases.py [--pg URL] [--accounts N]

A scratch database is created on the server of ``--pg`` (default the local
test server) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import sqlalchemy as sa

from agent.sync import sync_account
from bench.storage_apply import scratch_pg
from config.loader import load_text
from matcher.plan import Plan
from storage import Database, open_database
from storage.leases import Lease
from tests.plans import mail, person

CLAIM = 100
POLL_SECONDS = 300  # the default poll_interval


def ms(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return (time.perf_counter() - start) * 1000


def p95(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.95)]


def claim_latency(db: Database, accounts: int, workers: int) -> list[float]:
    names = [f"acct{workers}-{n}" for n in range(accounts)]
    table = db.leases()
    table.offer(names)
    times: list[float] = []
    lock = threading.Lock()

    def claim_all(worker: str) -> None:
        while True:
            start = time.perf_counter()
            got = table.claim(worker, names, CLAIM, 60)
            with lock:
                times.append((time.perf_counter() - start) * 1000)
            if not got:
                return

    threads = [threading.Thread(target=claim_all, args=(f"w{n}",)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.engine.connect() as conn:
        owners = conn.execute(
            sa.text("SELECT count(DISTINCT account) FROM account_leases WHERE account LIKE :p"),
            {"p": f"acct{workers}-%"},
        ).scalar_one()
    assert owners == accounts
    return times


def renew_latency(db: Database, held: int) -> float:
    names = [f"held{held}-{n}" for n in range(held)]
    table = db.leases()
    table.offer(names)
    worker = f"renewer{held}"
    while table.claim(worker, names, 1000, 60):
        pass
    return statistics.median(ms(lambda: table.renew(worker, 60)) for _ in range(15))


def fence_cost(db: Database) -> tuple[float, float]:
    table = db.leases()
    table.offer(["fenced", "plain"])
    (lease,) = table.claim("bench", ["fenced"], 1, 600)

    def write(account: str, n: int, fence: Lease | None = None) -> None:
        sender = person(f"p{n}@customer.example", "from")
        plan = Plan(account, (mail(f"{account}{n}@bench", sender, account=account),))
        db.apply(plan, "INBOX", {}, lease=fence)

    plain: list[float] = []
    fenced: list[float] = []
    for n in range(60):  # interleaved, so a busy moment of the machine weighs on both
        plain.append(ms(partial(write, "plain", n)))
        fenced.append(ms(partial(write, "fenced", n, lease)))
    return statistics.median(plain), statistics.median(fenced)


def idle_pass(url: str, folder: Path) -> tuple[float, float]:
    settings = load_text(
        f"database_url: {url}\nread_ahead: false\naccounts:\n"
        "  - {name: idle, kind: plugin, factory: tests.recording_connector:connector,"
        f" owner: rep@acme.example, options: {{items: 1, log_dir: '{folder}'}}}}\n"
    )
    db = open_database(url)
    account = settings.accounts[0]
    assert sync_account(settings, account, db).records == 1  # captured: from now on, idle
    cpu = time.process_time()
    times = [ms(lambda: sync_account(settings, account, db)) for _ in range(40)]
    cpu = (time.process_time() - cpu) * 1000 / len(times)
    db.close()
    return statistics.median(times), cpu


def bar(value: float, longest: float) -> str:
    return "#" * max(1, round(40 * value / longest))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--accounts", type=int, default=5000)
    args = parser.parse_args()
    with scratch_pg(args.pg) as url, tempfile.TemporaryDirectory() as tmp:
        db = open_database(url)
        print(f"1. claim of {CLAIM} accounts from {args.accounts} free, per statement (ms)")
        claims = {w: claim_latency(db, args.accounts, w) for w in (1, 2, 4, 8)}
        longest = max(statistics.median(times) for times in claims.values())
        for workers, times in claims.items():
            median = statistics.median(times)
            print(
                f"   {workers} workers: median {median:6.1f}  p95 {p95(times):6.1f}  "
                f"{bar(median, longest)}"
            )
        print("2. heartbeat: one renewal of every lease held (ms)")
        renewals = {held: renew_latency(db, held) for held in (100, 1000, 5000)}
        for held, median in renewals.items():
            print(
                f"   {held:5} leases: median {median:6.1f}  {bar(median, max(renewals.values()))}"
            )
        plain, fenced = fence_cost(db)
        print(f"3. apply of a one-message batch: {plain:.1f} ms, with the fence {fenced:.1f} ms")
        db.close()
        idle, cpu = idle_pass(url, Path(tmp))
        print(
            f"4. idle pass: median {idle:.1f} ms ({cpu:.1f} ms of the worker's CPU); at a "
            f"{POLL_SECONDS // 60}-minute poll one pass thread keeps {POLL_SECONDS * 1000 / idle:,.0f}"
            f" accounts, one worker process at most {POLL_SECONDS * 1000 / cpu:,.0f} (its CPU)"
        )


if __name__ == "__main__":
    main()
