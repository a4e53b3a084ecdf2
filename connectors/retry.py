"""Retrying transient failures: the one owner of backoff and Retry-After, on tenacity.

Three callers retry, each at its own level, with the same rules:

- ``connectors.http``: one request (429, 5xx, timeouts), honouring the
  server's Retry-After;
- ``connectors.imap.connector``: one fetch over a dropped connection, reconnecting
  between attempts;
- ``agent.retry``: one late retry of a whole fetch that still failed.

Rules (``RetryPolicy``): at most ``attempts`` tries; the wait is the
server's ``retry_after`` when the failure carries one (``TransientError``),
else ``backoff`` doubling per attempt with up to 50% jitter, capped at
``max_wait``. A Retry-After longer than ``max_wait``, or waits adding up to
more than ``total_wait``, are not slept: the failure goes up with its
``retry_after`` so the agent reschedules the account instead of blocking a
worker.

Every retry is counted against the thread's ``retry_scope`` (``retries``).
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from tenacity import RetryCallState, Retrying, retry_if_exception_type

__all__ = ["RetryPolicy", "parse_retry_after", "retries", "retry_scope", "retrying"]

# Retries are counted per scope (the agent sets it to the account a thread
# works for, agent.metrics reads the counts); connectors never see the agent.
retry_scope: ContextVar[str] = ContextVar("retry_scope", default="")
_retries: Counter[str] = Counter()
_retries_lock = threading.Lock()


def retries() -> dict[str, int]:
    """Retries so far in this process, by scope."""
    with _retries_lock:
        return dict(_retries)


def _count(
    before_sleep: Callable[[RetryCallState], None] | None,
) -> Callable[[RetryCallState], None]:
    def counted(state: RetryCallState) -> None:
        with _retries_lock:
            _retries[retry_scope.get()] += 1
        if before_sleep is not None:
            before_sleep(state)

    return counted


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds on retrying transient failures inside one call."""

    attempts: int = 4
    backoff: float = 0.5  # first wait without Retry-After; doubles, with jitter
    max_wait: float = 30.0  # longest single wait
    total_wait: float = 60.0  # longest sum of waits for one call

    def wait(self, state: RetryCallState) -> float:
        """The server's Retry-After if the failure carries one, else jittered backoff."""
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return max(0.0, float(retry_after))
        backoff = self.backoff * 2.0 ** (state.attempt_number - 1)
        return min(self.max_wait, backoff * random.uniform(1.0, 1.5))

    def stop(self, state: RetryCallState) -> bool:
        upcoming = state.upcoming_sleep
        return (
            state.attempt_number >= self.attempts
            or upcoming > self.max_wait
            or state.idle_for + upcoming > self.total_wait
        )


def retrying(
    policy: RetryPolicy,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    *,
    sleep: Callable[[float], None] = time.sleep,
    before_sleep: Callable[[RetryCallState], None] | None = None,
) -> Retrying:
    """A tenacity ``Retrying`` that applies ``policy`` to failures of the types ``retry_on``;
    the last failure is re-raised as it was."""
    return Retrying(
        sleep=sleep,
        stop=policy.stop,
        wait=policy.wait,
        retry=retry_if_exception_type(retry_on),
        reraise=True,
        before_sleep=_count(before_sleep),
    )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
