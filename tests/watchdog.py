"""A hang becomes a test failure, not a stuck CI run.

Hostile-input tests feed parsers input built to make them loop or backtrack.
Their assertions are about outcomes; this guard only makes sure the call
ends at all. The limit is generous on purpose: it says nothing about speed
(bench/ measures speed), so a slow, loaded machine never fails it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANG = 60.0  # seconds; the guarded calls take milliseconds


class Hung(AssertionError):
    pass


@contextmanager
def terminates(seconds: float = HANG) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # signals reach only the main thread; run unguarded
        return

    def hung(signum: int, frame: FrameType | None) -> None:
        raise Hung(f"still running after {seconds:.0f} s: it does not terminate")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wait_until(condition: Callable[[], object], what: str, seconds: float = HANG) -> None:
    """Poll ``condition`` until it holds; a hang guard, not a timing check: it fails
    only when nothing happened for ``seconds``, however slow the machine."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise Hung(f"still waiting after {seconds:.0f} s: {what}")
        time.sleep(0.01)  # polling state another process writes
