"""The service manager's notification protocol (``sd_notify``), written directly.

systemd starts a ``Type=notify`` unit with ``$NOTIFY_SOCKET`` naming a Unix
datagram socket (a path, or an abstract name when it begins with ``@``) and,
when the unit sets ``WatchdogSec=``, ``$WATCHDOG_USEC``. The agent sends
``READY=1`` once it is polling, ``WATCHDOG=1`` at least twice per watchdog
period while its scheduler is alive, and ``STOPPING=1`` when a stop request
arrives (sd_notify(3)). Outside systemd (launchd, Task Scheduler, a terminal)
the variables are unset and every call here does nothing, so the agent needs
no separate code path. The protocol is four lines of socket code; a library
for it would be a dependency with nothing left to do.
"""

from __future__ import annotations

import logging
import os
import socket
import time

log = logging.getLogger("autocapture.notify")


class ServiceNotifier:
    """Tells the service manager about readiness, liveness and stopping."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self._address = _socket_address(env.get("NOTIFY_SOCKET", ""))
        self._watchdog = _watchdog_interval(env)
        self._last_ping = 0.0

    @property
    def active(self) -> bool:
        return self._address is not None

    def ready(self, status: str) -> None:
        self._send(f"READY=1\nSTATUS={status}")

    def stopping(self) -> None:
        self._send("STOPPING=1\nSTATUS=stopping: finishing the batches in hand")

    def status(self, text: str) -> None:
        self._send(f"STATUS={text}")

    def ping(self, now: float | None = None) -> None:
        """``WATCHDOG=1`` when half the watchdog period has passed since the last one."""
        if self._watchdog is None:
            return
        now = time.monotonic() if now is None else now
        if now - self._last_ping >= self._watchdog / 2:
            self._last_ping = now
            self._send("WATCHDOG=1")

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(message.encode(), self._address)
        except OSError as exc:  # the manager went away; the agent itself is fine
            log.debug("service notification not delivered: %s", exc)


def _socket_address(value: str) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):  # Linux abstract namespace: a leading NUL byte
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    return None  # sd_notify(3) ignores anything else (e.g. vsock), and so do we


def _watchdog_interval(env: dict[str, str] | os._Environ[str]) -> float | None:
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):  # meant for another process of the unit
        return None
    return usec / 1_000_000 if usec > 0 else None
