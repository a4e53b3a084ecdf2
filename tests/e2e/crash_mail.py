"""The mailbox the API connectors' kill -9 tests back up: 300 messages over 40 days,
two in three inbound, between the owner and 40 people at 7 companies."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

MESSAGES = 300
PEOPLE = [f"Person {k} <p{k}@client{k % 7}.example>" for k in range(40)]


def crash_mail(owner: str) -> Iterator[tuple[bytes, bool]]:
    """Each message's raw bytes and whether it came in (else the owner sent it)."""
    start = datetime.now(UTC) - timedelta(days=40)
    for n in range(MESSAGES):
        person = PEOPLE[n % len(PEOPLE)]
        when = (start + timedelta(hours=3 * n)).strftime("%a, %d %b %Y %H:%M:%S +0000")
        inbound = n % 3 != 0
        sender, to = (person, f"Dana <{owner}>") if inbound else (f"Dana <{owner}>", person)
        raw = (
            f"From: {sender}\r\nTo: {to}\r\nSubject: Thread {n % 50}\r\nDate: {when}\r\n"
            f"Message-ID: <k{n}@crash.example>\r\n\r\nNote {n}.\r\n"
        ).encode()
        yield raw, inbound
