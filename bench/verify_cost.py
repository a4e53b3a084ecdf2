"""What a completeness check costs next to the backfill it checks.

    python bench/verify_cost.py [--messages 2000] [--seed 1] [--batch-size 500]

Loads a realistic mailbox (``bench.mailgen``) into a private Dovecot (INBOX
and Sent), captures it with the real agent (``bench.pipeline.capture``, in a
child process, as ``bench/imap_backfill.py`` does), then runs ``autocapture
verify``'s check (``agent.completeness.verify_account``) through a proxy that
counts IMAP commands, then timed directly against the server twice: on
the complete account, and after deleting the ledger rows of 1% of the
INBOX messages (a lost batch). Prints the commands sent, both times, and
the check's share of the backfill (target < 5%); the check's fixed costs
(login, LIST) weigh more on a small mailbox. It asserts nothing: figures
are for people.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.imap_backfill import (  # noqa: E402
    load_mailbox,
    private_dovecot,
    run_capture,
    write_config,
)


def timed_verify(config: Path) -> tuple[float, Any]:
    from agent.completeness import verify_account
    from config.loader import load
    from storage.database import open_database

    settings = load(config)
    db = open_database(settings.database_url)
    import connectors.imap.connector  # noqa: F401 - loaded already in a running agent

    start = time.perf_counter()
    report = verify_account(settings, settings.accounts[0], db)
    seconds = time.perf_counter() - start
    db.close()
    return seconds, report


def lose_a_batch(config: Path, share: float) -> int:
    """Delete the ledger rows of every ``1/share``-th INBOX UID: items the check must find."""
    import sqlalchemy as sa

    from config.loader import load
    from storage.schema_accounts import provider_items

    engine = sa.create_engine(load(config).database_url)
    p = provider_items.c
    with engine.begin() as conn:
        items = sorted(
            {int(i) for i in conn.execute(sa.select(p.item).where(p.stream == "INBOX")).scalars()}
        )
        lost = [str(i) for i in items[:: max(1, round(1 / share))]]
        conn.execute(sa.delete(provider_items).where(p.stream == "INBOX", p.item.in_(lost)))
    engine.dispose()
    return len(lost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    from tests.servers.imap_proxy import ImapProxy

    with private_dovecot("autocapture-verify-bench-") as (server, user, work):
        n, size = load_mailbox(user, args.messages, args.seed)
        print(f"mailbox             {n} messages, {size / 1e6:.1f} MB in INBOX and Sent")
        backfill = run_capture(write_config(work, server.port, user.name, args.batch_size))
        print(f"backfill            {backfill['seconds']:.2f} s, {backfill['records']:.0f} records")
        direct = write_config(work, server.port, user.name, args.batch_size)
        proxy = ImapProxy(server.port)
        through = write_config(work, proxy.port, user.name, args.batch_size)
        timed_verify(through)  # the commands a check sends, counted on the wire
        commands = proxy.command_names()
        proxy.close()
        fetches = sum(1 for c in commands if "FETCH" in c)
        print(f"verify commands     {len(commands)} ({' '.join(commands)}), {fetches} FETCH")
        for label in ("complete account", "1% lost"):
            lost = lose_a_batch(direct, 0.01) if label == "1% lost" else 0
            seconds, report = timed_verify(direct)
            print(
                f"verify, {label:<16} {seconds * 1000:.0f} ms = "
                f"{100 * seconds / backfill['seconds']:.2f}% of the backfill (target < 5%); "
                f"{report.missing} missing (lost {lost})"
            )


if __name__ == "__main__":
    main()
