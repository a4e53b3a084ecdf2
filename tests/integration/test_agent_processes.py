"""The agent as processes see it: a real ``autocapture sync`` against real Dovecot.

A read-ahead child (agent.readahead) must not outlive its agent, even while
it waits on a server that has stopped answering.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.processes import children, running
from tests.imap_client import note
from tests.servers.dovecot import MailUser
from tests.servers.imap_proxy import ImapProxy
from tests.watchdog import HANG, wait_until

pytestmark = pytest.mark.server

ROOT = Path(__file__).resolve().parents[2]


def imap_config(folder: Path, port: int, user: MailUser, extra: str = "") -> Path:
    path = folder / "imap.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / 'imap.db'}\n"
        "org_domains: [acme.example]\n"
        "accounts:\n"
        "  - name: rep\n"
        "    kind: imap\n"
        "    owner: [dana@acme.example]\n"
        "    host: 127.0.0.1\n"
        f"    port: {port}\n"
        "    tls: none\n"
        "    allow_plaintext: true\n"
        f"    username: {user.name}\n"
        "    password: ${REP_PASSWORD}\n"
        "    batch_size: 5\n"
        "    timeout: 3600s\n"
        f"{extra}"
    )
    return path


def start_cli(config: Path, user: MailUser, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REP_PASSWORD": user.password}
    return subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_read_ahead_child_stuck_on_a_silent_server_dies_with_its_killed_agent(
    dovecot: MailUser, imap_proxy: ImapProxy, tmp_path: Path
) -> None:
    when = datetime.now(UTC) - timedelta(days=3)
    dovecot.append("INBOX", [note(n, when + timedelta(minutes=n)) for n in range(40)])
    agent = start_cli(imap_config(tmp_path, imap_proxy.port, dovecot), dovecot, "sync")
    found: set[int] = set()
    try:

        def child_started() -> bool:
            found.update(children(agent.pid))
            return bool(found) or agent.poll() is not None

        wait_until(child_started, "a read-ahead child")
        assert found, agent.communicate()
        # The server goes silent: the child now waits on its socket (for an
        # hour, the account's timeout), not on its parent.
        imap_proxy.stall()
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=HANG)
        wait_until(lambda: not any(running(pid) for pid in found), "the orphaned child to exit")
    finally:
        if agent.poll() is None:
            agent.kill()
        for pid in found:
            if running(pid):
                os.kill(pid, signal.SIGKILL)
