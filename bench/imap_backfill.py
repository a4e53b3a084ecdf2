"""IMAP backfill benchmark: the agent against mbsync on the same private Dovecot mailbox.

    python bench/imap_backfill.py [--messages 20000] [--seed 1] [--batch-size 500]

Generates a realistic mailbox (``bench.mailgen``: threads with signatures and
quoted replies both ways, newsletters, notifications, invitations, ~15% with
a 150 KB attachment), loads it into a private Dovecot (INBOX and Sent) with
MULTIAPPEND, then:

1. captures it with the real agent (what ``autocapture sync`` runs: IMAP
   connector, matcher, SQLite storage, one transaction per batch, the next
   batches fetched and read ahead in a second process) into a fresh
   database, in a child process so its memory is its own; prints
   messages/s, peak memory (PSS of the agent and its read-ahead child
   together, and each one's RSS), and the bytes Dovecot sent per message
   (from its own "Logged out ... out=N" lines) against the average message
   size;
2. mirrors the same folders with ``mbsync`` (Debian package isync) into a
   Maildir and prints capture time / mirror time (target: <= 0.5);
3. runs one more agent pass with no new mail, through a TCP proxy that
   counts IMAP commands, and prints the commands and the time;
4. drains the folders with the IMAP connector alone (no matcher, no
   storage) and prints its time, to tell the connector's share;
5. captures once more in one process, phase after phase, and prints each
   phase's CPU (``bench.phases``): which side of the read-ahead pipeline
   sets the pace, and where it spends.

Targets: capture <= 0.5 x mbsync, bytes per message < 10% of the average
message size, peak memory < 250 MB. It asserts nothing: figures are for people.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD_VAR = "AUTOCAPTURE_BENCH_IMAP_PASSWORD"
CONFIG = """\
database_url: sqlite:///{db}
org_domains: [{org}]
accounts:
  - name: bench-imap
    kind: imap
    owner: [{owner}]
    host: 127.0.0.1
    port: {port}
    tls: none
    allow_plaintext: true
    username: {user}
    password: ${{{password_var}}}
    backfill: 36500d
    batch_size: {batch}
    privacy: full
"""
MBSYNC = """\
IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
PassCmd "printenv {password_var}"
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel bench
Far :remote:
Near :local:
Patterns INBOX Sent
Create Near
Sync Pull
SyncState *
"""


def drain(config: Path) -> dict[str, float]:
    """Runs in the child: the IMAP connector alone, every folder drained, nothing stored.

    Tells how much of the capture time is the connector's (the rest is the
    matcher's and the database's); the server's caches are warm by now.
    """
    from datetime import UTC, datetime

    from agent.connections import build_connector
    from agent.policy import account_window
    from bench.phases import batches
    from config.loader import load
    from connectors.base import Limits

    account = load(config).accounts[0]
    connector = build_connector(account, account_window(account, datetime.now(UTC)), Limits())
    start, cpu = time.perf_counter(), time.process_time()
    records = sum(len(batch.records) for _, batch in batches(connector, account.batch_size))
    connector.close()
    return {
        "seconds": time.perf_counter() - start,
        "cpu": time.process_time() - cpu,
        "records": records,
    }


def run_capture(config: Path, mode: str = "--capture") -> dict[str, float]:
    return json_child([__file__, mode, str(config)], ROOT)


def json_child(args: list[str], cwd: Path) -> dict[str, float]:
    """The figures a child Python prints as its last line (JSON), in a memory of its own."""
    child = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd)
    if child.returncode != 0:
        sys.exit(f"capture in {cwd} failed:\n{child.stderr[-3000:]}")
    result: dict[str, float] = json.loads(child.stdout.strip().splitlines()[-1])
    return result


def load_mailbox(user: object, n: int, seed: int) -> tuple[int, int]:
    """Generate and MULTIAPPEND the mailbox; (messages, bytes)."""
    from bench.mailgen import generate_mail

    total = count = 0
    batches: dict[str, list[bytes]] = {"INBOX": [], "Sent": []}
    with user.client() as client:  # type: ignore[attr-defined]
        for mail in generate_mail(n, seed):
            batches[mail.folder].append(mail.raw)
            total += len(mail.raw)
            count += 1
            if len(batches[mail.folder]) >= 500:
                client.multiappend(mail.folder, batches[mail.folder])
                batches[mail.folder] = []
        for folder, rest in batches.items():
            if rest:
                client.multiappend(folder, rest)
    return count, total


def out_bytes(log: Path, user: str) -> list[int]:
    """Bytes Dovecot sent in each finished session of ``user``, from its logout lines."""
    pattern = re.compile(rf"imap\({re.escape(user)}\).*Logged out .*?\bout=(\d+)")
    return [int(m.group(1)) for m in pattern.finditer(log.read_text(errors="replace"))]


def settle_sessions(log: Path, user: str, expected: int, timeout: float = 10.0) -> list[int]:
    """Dovecot writes a logout line just after the client leaves: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = out_bytes(log, user)
        if len(found) >= expected:
            return found
        time.sleep(0.1)
    return out_bytes(log, user)


def run_mbsync(work: Path, port: int, user: str) -> float:
    maildir = work / "maildir"
    maildir.mkdir()
    rc = work / "mbsyncrc"
    rc.write_text(MBSYNC.format(port=port, user=user, password_var=PASSWORD_VAR, maildir=maildir))
    start = time.perf_counter()
    # stderr kept: mbsync warns that the loopback login is in clear text.
    done = subprocess.run(["mbsync", "-q", "-c", str(rc), "-a"], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"mbsync failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--capture", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--drain", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--phases", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.capture:
        from bench.pipeline import capture  # the same agent pass the pipeline benchmark times

        print(json.dumps(capture(args.capture)))
        return
    if args.drain:
        print(json.dumps(drain(args.drain)))
        return
    if args.phases:
        from bench.phases import phases

        print(json.dumps(phases(args.phases)))
        return
    if shutil.which("mbsync") is None:
        sys.exit("mbsync is missing: apt-get install isync")
    with private_dovecot("autocapture-imap-bench-") as (server, user, work):
        benchmark(server, user, work, args)


@contextmanager
def private_dovecot(prefix: str) -> Iterator[tuple[Any, Any, Path]]:
    """A Dovecot of our own in a temporary folder, with one user whose password the
    configurations read from ``PASSWORD_VAR``: (server, user, folder)."""
    from tests.servers.dovecot import DovecotServer, MailUser

    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # Dovecot's mail user must reach its home below
        server = DovecotServer(work / "dovecot")
        user = MailUser(server, "bench", uuid.uuid4().hex)
        os.environ[PASSWORD_VAR] = user.password
        server.add_user(user.name, user.password)
        server.start()
        try:
            yield server, user, work
        finally:
            server.stop()


def write_config(work: Path, port: int, user: str, batch: int) -> Path:
    from bench.mailgen import ORG_DOMAIN, OWNER

    path = work / f"bench-{port}.yaml"
    db = work / "bench.db"
    path.write_text(
        CONFIG.format(
            db=db,
            org=ORG_DOMAIN,
            owner=OWNER,
            port=port,
            user=user,
            password_var=PASSWORD_VAR,
            batch=batch,
        )
    )
    return path


def benchmark(server: Any, user: Any, work: Path, args: argparse.Namespace) -> None:
    from bench.phases import phases_line
    from tests.servers.imap_proxy import ImapProxy

    n, size = load_mailbox(user, args.messages, args.seed)
    print(
        f"mailbox             {n} messages, {size / 1e6:.1f} MB "
        f"({size / n / 1024:.1f} KiB/message) in INBOX and Sent",
        flush=True,
    )
    sessions = len(settle_sessions(server.log, user.name, 1))
    direct = write_config(work, server.port, user.name, args.batch_size)
    result = run_capture(direct)
    fetched = sum(settle_sessions(server.log, user.name, sessions + 1)[sessions:])
    mirror = run_mbsync(work, server.port, user.name)
    proxy = ImapProxy(server.port)
    idle = run_capture(write_config(work, proxy.port, user.name, args.batch_size))
    proxy.close()
    alone = run_capture(direct, "--drain")
    spent = run_capture(direct, "--phases")
    report(n, size, result, fetched, mirror, idle, proxy.command_names())
    print(
        f"connector alone     {alone['seconds']:.2f} s wall, {alone['cpu']:.2f} s CPU for "
        f"{alone['records']:.0f} records (no matcher, no storage; warm server)"
    )
    print(phases_line(spent))


def report(
    n: int,
    size: int,
    r: dict[str, float],
    fetched: int,
    mirror: float,
    idle: dict[str, float],
    commands: list[str],
) -> None:
    from bench.pipeline import memory_line

    average = size / n
    per_message = fetched / n
    print(
        f"capture             {r['seconds']:.2f} s ({n / r['seconds']:.0f} messages/s), "
        f"{r['records']:.0f} records, {r['errors']:.0f} errors"
    )
    print(
        f"database            {r.get('db_contacts', 0):.0f} contacts, "
        f"{r.get('db_interactions', 0):.0f} interactions"
    )
    print(
        f"bytes fetched       {per_message:.0f} B/message vs {average:.0f} B average message "
        f"= {100 * per_message / average:.1f}%  (target < 10%)"
    )
    print(f"{memory_line(r)}  (target < 250 MB)")
    print(f"mbsync mirror       {mirror:.2f} s")
    print(f"ratio capture/mbsync {r['seconds'] / mirror:.2f}  (target <= 0.5)")
    fetches = sum(1 for c in commands if c.endswith("FETCH"))
    print(
        f"idle poll           {len(commands)} IMAP commands ({' '.join(commands)}), "
        f"{fetches} FETCH, {idle['seconds'] * 1000:.0f} ms, {idle['records']:.0f} records"
    )


if __name__ == "__main__":
    main()
