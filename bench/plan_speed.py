"""How fast ``matcher.plan_batch`` plans mail, and a guard that speed-ups change no output.

    .venv/bin/python bench/plan_speed.py [--messages 5000] [--seed 1] [--batch-size 500]
                                         [--repeat 3] [--dump FILE | --check FILE] [--profile SORT]

Plans two inputs, each with a fresh ``InMemoryDirectory`` that absorbs every
plan (as storage would between batches, so creation decisions depend on
earlier batches exactly as in production):

1. ``bench.mailgen`` mail, parsed with ``connectors.mail.mime.parse_message``,
   planned for the generator's owner with privacy "full" (what the IMAP and
   pipeline benchmarks configure);
2. the shipped sample archive, read with ``ArchiveConnector``, with the
   accounts and privacy levels of ``tests/unit/test_matcher_sample.py``.

Only ``plan_batch`` and ``absorb`` are timed (CPU time, ``time.process_time``,
the fastest of ``--repeat`` runs, bounded lru caches emptied before each);
parsing happens up front. ``--dump`` writes every plan as canonical JSON
(sorted keys, ISO dates, floats by repr); ``--check`` rebuilds it and exits 1
on any difference, showing the plan and the text around the first one, so a
speed-up that changes a single output fails loudly instead of becoming a new
baseline. ``--profile tottime|cumulative`` prints a cProfile of planning.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import pstats
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.mailgen import ORG_DOMAIN, OWNER, generate_messages  # noqa: E402
from connectors.archive.connector import ArchiveConnector  # noqa: E402
from connectors.base import InvalidInput, Limits, Window  # noqa: E402
from connectors.mail.mime import parse_message  # noqa: E402
from connectors.records import IngestError, Record, SourceRef  # noqa: E402
from matcher import InMemoryDirectory, plan_batch  # noqa: E402
from matcher.plan import AccountPolicy, Blocklist, Plan  # noqa: E402
from tests import sample_expected  # noqa: E402

ARCHIVE = ROOT / "examples" / "sample-archive"
# Same accounts, owners and privacy as tests/unit/test_matcher_sample.py.
SAMPLE_ACCOUNTS = {
    "alice": (("alice/mail.mbox", "alice/calendar"), "full"),
    "bob": (("bob/Maildir", "bob/invites"), "subject"),
}
WINDOW = Window(datetime(2016, 1, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC))


@dataclasses.dataclass(frozen=True, slots=True)
class Workload:
    """One account's records, already parsed, in the order they are planned."""

    policy: AccountPolicy
    batches: tuple[tuple[Sequence[Record], tuple[IngestError, ...]], ...]


def generated(n: int, seed: int, batch_size: int) -> Workload:
    limits = Limits()
    records: list[Record] = []
    errors: list[IngestError] = []
    for i, raw in enumerate(generate_messages(n, seed=seed)):
        source = SourceRef("bench", "INBOX", str(i + 1))
        try:
            records.append(parse_message(raw, source, limits))
        except InvalidInput as exc:
            errors.append(IngestError(source, exc.reason, exc.detail))
    policy = AccountPolicy(
        account="bench",
        owner_addresses=frozenset({OWNER}),
        org_domains=frozenset({ORG_DOMAIN}),
        privacy="full",
    )
    batches = tuple(
        (records[i : i + batch_size], tuple(errors) if i == 0 else ())
        for i in range(0, len(records), batch_size)
    )
    return Workload(policy, batches)


def sample_archive(batch_size: int) -> Iterator[Workload]:
    for account, (paths, privacy) in SAMPLE_ACCOUNTS.items():
        connector = ArchiveConnector(account, [ARCHIVE / p for p in paths], WINDOW, Limits())
        batches = []
        for stream in connector.streams():
            cursor = None
            while True:
                batch = connector.fetch(stream, cursor, batch_size)
                batches.append((tuple(batch.records), tuple(batch.errors)))
                cursor = batch.next_cursor
                if not batch.has_more:
                    break
        policy = AccountPolicy(
            account=account,
            owner_addresses=frozenset({sample_expected.OWNERS[account]}),
            org_domains=frozenset({sample_expected.ORG_DOMAIN}),
            privacy=privacy,  # type: ignore[arg-type]
            blocklist=Blocklist(domains=frozenset({"competitor.example"})),
        )
        yield Workload(policy, tuple(batches))


def forget_recent() -> None:
    """Empty the bounded caches of recent values, so each run starts as a fresh process.

    Unbounded ``functools.cache`` tables (loaded data such as the public
    suffix list) are kept: a process pays for them once.
    """
    for name, module in list(sys.modules.items()):
        if not name.startswith(("matcher", "connectors")):
            continue
        for value in list(vars(module).values()):
            parameters = getattr(value, "cache_parameters", None)
            if parameters is not None and parameters()["maxsize"] is not None:
                value.cache_clear()


def run(workloads: Sequence[Workload]) -> tuple[list[Plan], float]:
    """Every plan, and the CPU seconds ``plan_batch`` plus ``absorb`` took."""
    forget_recent()
    plans: list[Plan] = []
    spent = 0.0
    for work in workloads:
        directory = InMemoryDirectory()
        for records, errors in work.batches:
            started = time.process_time()
            plan = plan_batch(records, work.policy, directory, errors)
            directory.absorb(plan)
            spent += time.process_time() - started
            plans.append(plan)
    return plans, spent


def canonical(value: Any) -> Any:
    """A JSON-able form that is equal exactly when the plan values are equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"__type__": type(value).__name__, **fields}
    if isinstance(value, datetime | date):
        return {"__date__": value.isoformat()}
    if isinstance(value, tuple | list):
        return [canonical(v) for v in value]
    if isinstance(value, frozenset | set):
        return sorted(canonical(v) for v in value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, float):
        return repr(value)  # exact, not rounded by the encoder
    return value


def dump_text(plans: Sequence[Plan]) -> str:
    lines = [json.dumps(canonical(p), sort_keys=True, ensure_ascii=False) for p in plans]
    return "\n".join(lines) + "\n"


def first_difference(old: str, new: str) -> str:
    old_lines, new_lines = old.splitlines(), new.splitlines()
    if len(old_lines) != len(new_lines):
        return f"{len(old_lines)} plans dumped, {len(new_lines)} now"
    for n, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)):
        if a != b:
            at = next(i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
            return f"plan {n}: ...{a[max(at - 120, 0) : at + 80]}\n   now ...{b[max(at - 120, 0) : at + 80]}"
    return "identical line by line, different bytes"


def main() -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--messages", type=int, default=5_000)
    args.add_argument("--seed", type=int, default=1)
    args.add_argument("--batch-size", type=int, default=500)
    mode = args.add_mutually_exclusive_group()
    mode.add_argument("--dump", type=Path, help="write every plan as canonical JSON")
    mode.add_argument("--check", type=Path, help="exit 1 unless the plans equal this dump")
    args.add_argument("--repeat", type=int, default=3, help="report the fastest of N runs")
    args.add_argument(
        "--profile", metavar="SORT", help="print a cProfile of planning, by tottime or cumulative"
    )
    opts = args.parse_args()

    gen = generated(opts.messages, opts.seed, opts.batch_size)
    sample = list(sample_archive(opts.batch_size)) if ARCHIVE.is_dir() else []
    profiler = cProfile.Profile() if opts.profile else None
    if profiler:
        profiler.enable()
    # The best of several runs: on a shared machine the slower runs measure
    # the neighbours, not the code.
    gen_plans, gen_cpu = run([gen])
    sample_plans, sample_cpu = run(sample)
    for _ in range(opts.repeat - 1):
        gen_cpu = min(gen_cpu, run([gen])[1])
        sample_cpu = min(sample_cpu, run(sample)[1])
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats(opts.profile).print_stats(30)

    count = sum(len(records) for records, _ in gen.batches)
    sample_count = sum(len(r) for w in sample for r, _ in w.batches)
    print(
        f"generated: {count} messages, {gen_cpu:.2f} s CPU, {count / gen_cpu:,.0f} messages/s, "
        f"{gen_cpu * 1000 / count:.3f} ms CPU/message"
    )
    print(f"sample archive: {sample_count} records, {sample_cpu * 1000:.1f} ms CPU")

    text = dump_text(gen_plans + sample_plans)
    if opts.dump:
        opts.dump.write_text(text, encoding="utf-8")
        print(f"dumped {len(gen_plans) + len(sample_plans)} plans to {opts.dump}")
    if opts.check:
        old = opts.check.read_text(encoding="utf-8")
        if old != text:
            print(f"DIFFERENT from {opts.check}: {first_difference(old, text)}")
            return 1
        print(f"identical to {opts.check} ({len(text.encode())} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
