"""Real servers for integration tests (Dovecot, Radicale, PostgreSQL).

On a developer's laptop a missing server skips its tests; CI sets
AUTOCAPTURE_REQUIRE_SERVERS=1 and then a missing server fails the run.
"""

from __future__ import annotations

import os
import socket
from typing import NoReturn

import pytest


def servers_required() -> bool:
    return os.environ.get("AUTOCAPTURE_REQUIRE_SERVERS") == "1"


def missing_server(what: str) -> NoReturn:
    if servers_required():
        pytest.fail(f"{what} is required (AUTOCAPTURE_REQUIRE_SERVERS=1) but unavailable")
    pytest.skip(f"{what} unavailable")


def free_port() -> int:
    """A port free right now on 127.0.0.1 (callers retry if a server loses the race)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
