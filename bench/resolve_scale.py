"""Resolution at scale: capture against a large contact estate, and ``dedupe --scan`` over it.

    .venv/bin/python bench/resolve_scale.py [--contacts 1000000] [--baseline 1000]
        [--messages 20000] [--seed 1] [--batch-size 500] [--database-url URL] [--no-dedupe]

For the baseline size and for ``--contacts``, a fresh database is bulk-loaded
with that many contacts (``bench.estate``: half of the generated mailbox's
people known, as exact, alias and fuzzy cases, the rest made up), then a
``bench.mailgen`` capture of ``--messages`` messages runs the agent's path
(``matcher.plan_batch`` against the stored Directory, ``Database.apply``,
one transaction per batch). Prints:

- participants resolved per second (participants planned and applied over
  the capture's wall time, parsing excluded);
- the ratio of capture time against ``--contacts`` to against the baseline
  (target <= 1.5);
- how each known case resolved (the contact it was seeded as, another, none);
- ``dedupe --scan`` time over ``--contacts`` (target < 10 min);
- CPU seconds beside each wall time: on a shared machine the wall time
  measures the neighbours as much as the code;
- peak memory (VmHWM) of each measured child process (target < 2 GB).

Captures and the scan run in child processes, so each peak is its own
(``ru_maxrss`` would carry the parent's over fork). ``--database-url``: a
PostgreSQL server URL, on which scratch databases are created and dropped;
default SQLite files in a temporary directory. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.estate import known_people, load  # noqa: E402
from bench.mailgen import ORG_DOMAIN, OWNER, generate_messages  # noqa: E402


def peak_mb() -> float:
    """This process's peak resident memory, from the kernel's own count."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def capture(url: str, messages: int, seed: int, batch_size: int) -> dict[str, Any]:
    """Plan and apply the generated mail in batches; the timed part excludes parsing."""
    from connectors.base import InvalidInput, Limits
    from connectors.mail.mime import parse_message
    from connectors.records import SourceRef
    from matcher import plan_batch
    from matcher.plan import AccountPolicy
    from storage import open_database

    records = []
    for i, raw in enumerate(generate_messages(messages, seed=seed)):
        try:
            records.append(parse_message(raw, SourceRef("bench", "INBOX", str(i + 1)), Limits()))
        except InvalidInput:
            continue
    policy = AccountPolicy(
        account="bench",
        owner_addresses=frozenset({OWNER}),
        org_domains=frozenset({ORG_DOMAIN}),
        privacy="full",
    )
    db = open_database(url)
    participants = 0
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(0, len(records), batch_size):
        plan = plan_batch(records[n : n + batch_size], policy, db.directory())
        participants += sum(len(ip.participants) for ip in plan.interactions)
        db.apply(plan, "INBOX", {"n": n})
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    cases = resolved_cases(db, seed)
    db.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "participants": participants,
        "cases": cases,
        "peak_mb": peak_mb(),
    }


def resolved_cases(db: Any, seed: int) -> dict[str, dict[str, int]]:
    """Per known case: did the person's address land on the contact seeded for them?"""
    owners = db.directory().contact_ids([k.person.email for k in known_people(seed)])
    tally: dict[str, Counter[str]] = {}
    for k in known_people(seed):
        owner = owners.get(k.person.email)
        verdict = "seeded" if owner == k.contact_id else "other" if owner else "none"
        tally.setdefault(k.case, Counter())[verdict] += 1
    return {case: dict(c) for case, c in tally.items()}


def scan(url: str) -> dict[str, Any]:
    from matcher.plan import Thresholds
    from storage import open_database
    from storage.dedupe import ScanCounts

    db = open_database(url)
    counts = ScanCounts()
    outcomes: Counter[str] = Counter()
    start, cpu = time.perf_counter(), time.process_time()
    for pair in db.duplicate_scan(Thresholds(), counts):
        outcomes[pair.outcome] += 1
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "contacts": counts.contacts,
        "blocks": counts.blocks,
        "oversized": len(counts.oversized),
        "pairs": dict(outcomes),
        "peak_mb": peak_mb(),
    }


def child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.splitlines()[-1]))


@contextmanager
def fresh_database(server: str | None, folder: Path, name: str) -> Iterator[str]:
    if server is None:
        yield f"sqlite:///{folder / name}.db"
        return
    from bench.storage_apply import scratch_pg

    with scratch_pg(server) as url:
        yield url


def measure(args: argparse.Namespace, count: int, folder: Path, dedupe: bool) -> dict[str, Any]:
    from storage import open_database

    with fresh_database(args.database_url, folder, f"estate{count}") as url:
        db = open_database(url)
        start = time.perf_counter()
        load(db, count, known_people(args.seed), args.seed)
        loaded = time.perf_counter() - start
        db.close()
        result: dict[str, Any] = {"contacts": count, "load_seconds": loaded}
        result["capture"] = child(
            "capture", url, str(args.messages), str(args.seed), str(args.batch_size)
        )
        print_capture(result, "postgresql" if args.database_url else "sqlite")
        if dedupe:  # printed as soon as known: a run at a million takes a while
            print_scan(child("scan", url))
        return result


def print_capture(run: dict[str, Any], engine: str) -> None:
    c = run["capture"]
    print(
        f"{engine} {run['contacts']:>9,} contacts: loaded in {run['load_seconds']:.1f} s; "
        f"capture {c['seconds']:.1f} s (CPU {c['cpu']:.1f} s), "
        f"{c['participants'] / c['seconds']:,.0f} participants "
        f"resolved/s, peak {c['peak_mb']:.0f} MB; known cases {c['cases']}",
        flush=True,
    )


def print_scan(s: dict[str, Any]) -> None:
    print(
        f"dedupe --scan over {s['contacts']:,} contacts: {s['seconds']:.1f} s "
        f"(CPU {s['cpu']:.1f} s; target < 600), "
        f"peak {s['peak_mb']:.0f} MB (target < 2048); {s['blocks']:,} blocks, "
        f"{s['oversized']} keys too common, pairs {s['pairs']}",
        flush=True,
    )


def print_ratio(base: dict[str, Any], big: dict[str, Any]) -> None:
    ratio = big["capture"]["seconds"] / base["capture"]["seconds"]
    cpu = big["capture"]["cpu"] / base["capture"]["cpu"]
    print(
        f"capture time ratio {big['contacts']:,} vs {base['contacts']:,} contacts: "
        f"{ratio:.2f} wall, {cpu:.2f} CPU (target <= 1.5)"
    )


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        kind, url, *rest = sys.argv[2:]
        result = capture(url, *map(int, rest)) if kind == "capture" else scan(url)
        print(json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--baseline", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database-url", help="a PostgreSQL server URL; default SQLite files")
    parser.add_argument("--no-dedupe", action="store_true", help="skip the scan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = measure(args, args.baseline, Path(tmp), dedupe=False)
        big = measure(args, args.contacts, Path(tmp), dedupe=not args.no_dedupe)
    print_ratio(base, big)


if __name__ == "__main__":
    main()
