"""A connector for tests that run whole agents: it serves made-up mail and writes down
who fetched it, when.

Loaded by ``kind: plugin`` accounts (``factory: tests.recording_connector:connector``),
so an ``autocapture run`` process uses it exactly as it uses a shipped
connector, without patching anything. Options:

- ``items``: messages in the account's one stream (INBOX), one per fetch
  when the account's ``batch_size`` is 1;
- ``log_dir``: where each process appends ``account pid start|end time``
  lines to ``fetches-<pid>.log``, one write per line (O_APPEND), so a line
  is whole even when the process is killed;
- ``pause``: seconds each fetch takes, so fetches have a length to overlap.

Each account's messages go from its owner to people only it writes to,
so every message is one interaction with one source and one new contact.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from connectors.base import Limits, Window
from connectors.records import Batch, Cursor, Message, Record, SourceRef

OWNER = "rep@acme.example"
FIRST = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def recipient(account: str, n: int) -> str:
    return f"buyer{n}.{account}@customer.example"


@dataclass(frozen=True, slots=True)
class Fetch:
    """One fetch as a log recorded it; ``end`` None: the process died inside it."""

    account: str
    pid: int
    start: float
    end: float | None


class RecordingConnector:
    kind = "recording"

    def __init__(self, account: str, items: int, log_dir: Path, pause: float) -> None:
        self.account = account
        self.items = items
        self.pause = pause
        path = log_dir / f"fetches-{os.getpid()}.log"
        self._log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _note(self, what: str) -> None:
        os.write(self._log, f"{self.account} {os.getpid()} {what} {time.time():.6f}\n".encode())

    def streams(self) -> list[str]:
        return ["INBOX"]

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        self._note("start")
        first = int(cursor["next"]) if cursor else 0
        last = min(first + limit, self.items)
        records: list[Record] = [self.message(n) for n in range(first, last)]
        time.sleep(self.pause)
        self._note("end")
        return Batch(
            records=records,
            errors=[],
            next_cursor={"next": last},
            has_more=last < self.items,
        )

    def message(self, n: int) -> Message:
        return Message(
            source=SourceRef(self.account, "INBOX", str(n)),
            message_id=f"{n}.{self.account}@acme.example",
            date=FIRST + timedelta(minutes=n),
            subject=f"Quote {n}",
            headers=(("from", f"Rep <{OWNER}>"), ("to", recipient(self.account, n))),
        )

    def close(self) -> None:
        os.close(self._log)


def connector(
    account: str, options: Mapping[str, object], window: Window, limits: Limits
) -> RecordingConnector:
    return RecordingConnector(
        account,
        int(str(options.get("items", 2))),
        Path(str(options["log_dir"])),
        float(str(options.get("pause", 0.0))),
    )


def read_fetches(log_dir: Path) -> list[Fetch]:
    """Every fetch every process logged, a start without an end as ``end`` None."""
    open_: dict[tuple[str, int], float] = {}
    done: list[Fetch] = []
    for path in sorted(log_dir.glob("fetches-*.log")):
        for line in path.read_text().splitlines():
            account, pid, what, at = line.split()
            key = (account, int(pid))
            if what == "start":
                open_[key] = float(at)
            else:
                done.append(Fetch(account, int(pid), open_.pop(key), float(at)))
    done.extend(Fetch(a, pid, start, None) for (a, pid), start in open_.items())
    return done
