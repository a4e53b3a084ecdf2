"""Gmail backfill benchmark: the agent against the loopback Google fake.

    python bench/gmail_backfill.py [--messages 20000] [--seed 1] [--batch-size 500] [--quota 90]

Generates a realistic mailbox (``bench.mailgen``), loads it into the
wire-faithful Gmail fake (``tests.servers.google_api``) served from this
process, then runs ``autocapture sync`` as a child process (its memory is its
own) and prints:

- messages per second of the whole capture (connector, matcher, storage);
- HTTP requests per 1,000 messages (batch parts not counted: one batch is one
  request; target <= 25);
- Gmail quota units per second at peak (any one second, and the busiest
  minute's average), against the pace the account is given (``--quota``,
  the setting ``quota_units_per_second``);
- peak memory: VmHWM of the agent and of its read-ahead child, polled from
  /proc (ru_maxrss would report the parent's peak after a fork);
- the requests of one more pass with no new mail.

It asserts nothing: figures are for people.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.mailgen import generate_mail  # noqa: E402
from tests.servers.google_api import GoogleApiFake, LoggedRequest  # noqa: E402

OWNER = "dana@acme.example"
CLIENT_ID = "bench.apps.googleusercontent.com"
SECRET = "GOCSPX-bench-secret"
UNITS = {"profile": 1, "history": 2, "messages": 5, "labels": 1}


def units_of(request: LoggedRequest) -> int:
    if request.path.startswith("/batch"):
        return 0  # its parts are counted one by one
    if "/messages/" in request.path:
        return 5
    return UNITS.get(request.path.rsplit("/", 1)[-1], 0) if "/gmail/" in request.path else 0


def peak_rates(log: list[LoggedRequest]) -> tuple[float, float]:
    """Most quota units in any one second, and in any one minute divided by 60."""
    spent = sorted((r.at, units_of(r)) for r in log if units_of(r))
    best = {1.0: 0.0, 60.0: 0.0}
    for span in best:
        window: deque[tuple[float, int]] = deque()
        total = 0
        for at, units in spent:
            window.append((at, units))
            total += units
            while window and window[0][0] <= at - span:
                total -= window.popleft()[1]
            best[span] = max(best[span], total / span)
    return best[1.0], best[60.0]


def vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_sync(config: Path, env: dict[str, str]) -> tuple[float, dict[str, int]]:
    """One ``autocapture sync``; its time and the VmHWM of each process of its tree."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), "sync"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    peaks: dict[str, int] = {}
    while proc.poll() is None:
        peaks["agent"] = max(peaks.get("agent", 0), vm_hwm(proc.pid))
        kids = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        try:
            for kid in kids.read_text().split():
                peaks["read-ahead"] = max(peaks.get("read-ahead", 0), vm_hwm(int(kid)))
        except OSError:
            pass
        time.sleep(0.05)
    _, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(err.decode(errors="replace")[-2000:])
    return time.monotonic() - started, peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--quota", type=int, default=90, help="quota_units_per_second")
    args = parser.parse_args()
    fake = GoogleApiFake()
    box = fake.user(OWNER).mailbox
    for mail in generate_mail(args.messages, args.seed):
        box.add(mail.raw, ("INBOX",) if mail.folder == "INBOX" else ("SENT",))
    fake.auth.add_client(CLIENT_ID, SECRET)
    env = {
        "BENCH_GOOGLE_SECRET": SECRET,
        "BENCH_GOOGLE_REFRESH": fake.auth.add_refresh_token(OWNER),
    }
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "bench.yaml"
        config.write_text(
            f"database_url: sqlite:///{folder}/bench.db\norg_domains: [acme.example]\naccounts:\n"
            f"  - name: bench-gmail\n    kind: gmail\n    owner: {OWNER}\n"
            f"    client_id: {CLIENT_ID}\n    client_secret: ${{BENCH_GOOGLE_SECRET}}\n"
            f"    refresh_token: ${{BENCH_GOOGLE_REFRESH}}\n    token_uri: {fake.auth.token_uri}\n"
            f"    api_root: {fake.url}\n    calendar: false\n    backfill: 3650d\n"
            f"    batch_size: {args.batch_size}\n    quota_units_per_second: {args.quota}\n"
        )
        seconds, peaks = run_sync(config, env)
        requests = fake.requests(in_batch=False)
        second, minute = peak_rates(fake.log)
        fake.log.clear()
        idle_seconds, _ = run_sync(config, env)
        idle = sorted(r.path for r in fake.requests(in_batch=False))
    fake.close()
    n = args.messages
    print(f"messages: {n}, batch size {args.batch_size}, pace {args.quota} units/s")
    print(f"capture: {seconds:.1f} s, {n / seconds:.0f} messages/s")
    print(f"HTTP requests: {len(requests)}, {1000 * len(requests) / n:.1f} per 1,000 messages")
    print(f"quota units/s at peak: {second:.0f} in one second, {minute:.0f} over one minute")
    for name, value in peaks.items():
        print(f"peak memory ({name}, VmHWM): {value / 2**20:.0f} MB")
    print(f"idle pass: {len(idle)} requests in {idle_seconds:.1f} s: {', '.join(idle)}")


if __name__ == "__main__":
    main()
