"""Microsoft 365 backfill benchmark: the agent against the loopback identity and Graph fakes.

    python bench/graph_backfill.py [--messages 20000] [--seed 1] [--batch-size 500]

Generates a realistic mailbox (``bench.mailgen``: conversations, newsletters,
notifications, invitations, attachments), loads it into the wire-faithful
Graph fake (``tests.servers.microsoft_graph``, HTTPS from a throwaway CA)
served from this process, then runs ``autocapture sync`` as a child process
(its memory is its own; msal gets its tokens from the identity fake) and
prints:

- messages per second of the whole capture (msal, connector, matcher, storage);
- HTTP requests per 1,000 messages: delta pages, ``$batch`` posts (one request,
  however many items; the invitations' expansions) and token requests
  (target <= 25);
- peak memory: VmHWM of the agent and of its read-ahead child (target < 250 MB);
- the requests of one more pass with no new mail (one delta per folder).

It asserts nothing: figures are for people.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.gmail_backfill import run_sync  # noqa: E402
from bench.mailgen import OWNER, generate_mail  # noqa: E402
from tests.servers.fake_http import FakeHttpServer, Request  # noqa: E402
from tests.servers.microsoft_graph import Graph  # noqa: E402
from tests.servers.microsoft_identity import IdentityPlatform  # noqa: E402
from tests.servers.microsoft_mail import message_view  # noqa: E402
from tests.servers.tls import loopback_tls  # noqa: E402

CLIENT_ID = "5d0c8a3e-7f21-4b6a-9c4e-2a1b3c4d5e6f"
SECRET = "Zq8~bench-secret.Kx3vT0pLm"


def http_requests(log: list[Request]) -> list[Request]:
    """What crossed the wire: batch items are parts of one $batch request, not requests."""
    return [r for r in log if r.header("graph-batch-id") is None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = FakeHttpServer(loopback_tls(Path(folder)))
        identity = IdentityPlatform(server)
        graph = Graph(server, identity)
        identity.register_app(CLIENT_ID, secret=SECRET)
        box = graph.add_user(OWNER)
        for mail in generate_mail(args.messages, args.seed):
            box.add(mail.raw, "inbox" if mail.folder == "INBOX" else "sentitems")
        # The fake parses each message into Graph's view once and keeps it; doing that
        # before the capture keeps the fake's own cost out of messages/s.
        rendering = time.monotonic()
        for stored in box.messages.values():
            message_view(stored, box, None, text_body=True)
        rendered = time.monotonic() - rendering
        config = Path(folder) / "bench.yaml"
        config.write_text(
            f"database_url: sqlite:///{folder}/bench.db\norg_domains: [acme-corp.example]\n"
            f"accounts:\n  - name: bench-m365\n    kind: microsoft\n    owner: {OWNER}\n"
            f"    tenant: {identity.tenant}\n    client_id: {CLIENT_ID}\n"
            "    client_secret: ${BENCH_M365_SECRET}\n"
            f"    authority: {server.url}\n    graph_root: {server.url}\n"
            f"    ca_file: {server.ca_file}\n    calendar: false\n    backfill: 3650d\n"
            f"    batch_size: {args.batch_size}\n"
        )
        env = {"BENCH_M365_SECRET": SECRET}
        seconds, peaks = run_sync(config, env)
        requests = http_requests(server.log)
        batches = sum(1 for r in requests if r.path.endswith("/$batch"))
        tokens = sum(1 for r in requests if "/oauth2/" in r.path)
        server.log.clear()
        idle_seconds, _ = run_sync(config, env)
        idle = sorted(r.path for r in http_requests(server.log) if r.path.startswith("/v1.0/"))
        server.close()
    n = args.messages
    print(f"messages: {n}, batch size {args.batch_size}")
    print(f"(the fake rendered them as Graph resources in {rendered:.1f} s, not timed)")
    print(f"capture: {seconds:.1f} s, {n / seconds:.0f} messages/s")
    print(
        f"HTTP requests: {len(requests)} ({batches} $batch, {tokens} token), "
        f"{1000 * len(requests) / n:.1f} per 1,000 messages"
    )
    for name, value in peaks.items():
        print(f"peak memory ({name}, VmHWM): {value / 2**20:.0f} MB")
    print(f"idle pass: {len(idle)} Graph requests in {idle_seconds:.1f} s: {', '.join(idle)}")


if __name__ == "__main__":
    main()
