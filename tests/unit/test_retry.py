"""The one retry owner: Retry-After in both forms, backoff bounds, and the agent's late retry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tenacity import RetryCallState

from agent.retry import FETCH_RETRY, fetch_with_retry
from connectors.base import TransientError
from connectors.records import Batch, Cursor
from connectors.retry import RetryPolicy, parse_retry_after, retrying

NOW = datetime(2026, 11, 28, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Sat, 28 Nov 2026 12:00:30 GMT", 30.0),  # IMF-fixdate
        ("Saturday, 28-Nov-26 12:01:00 GMT", 60.0),  # obsolete RFC 850 form
        ("Sat, 28 Nov 2026 11:00:00 GMT", 0.0),  # already past: go now
        ("soon", None),
        ("١٢", None),  # Arabic-Indic digits: str.isdigit() says yes, HTTP says no
        ("", None),
        (None, None),
    ],
)
def test_retry_after_as_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


class Flaky:
    """A connector whose first fetches fail with the given errors."""

    kind = "flaky"

    def __init__(self, *failures: TransientError) -> None:
        self.failures = list(failures)
        self.calls = 0

    def streams(self) -> list[str]:
        return ["INBOX"]

    def fetch(self, stream: str, cursor: Cursor | None, limit: int) -> Batch:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return Batch([], [], {"n": self.calls}, has_more=False)

    def close(self) -> None:
        pass


def test_the_agent_honours_a_short_retry_after_then_succeeds() -> None:
    waits: list[float] = []
    flaky = Flaky(TransientError("HTTP 503", retry_after=0.0))
    retry = retrying(FETCH_RETRY, TransientError, sleep=waits.append)
    batch = retry(flaky.fetch, "INBOX", None, 10)
    assert (batch.next_cursor, flaky.calls, waits) == ({"n": 2}, 2, [0.0])


def test_the_agent_leaves_a_long_retry_after_to_the_next_poll() -> None:
    flaky = Flaky(TransientError("HTTP 429", retry_after=3600.0))
    with pytest.raises(TransientError) as caught:
        fetch_with_retry(flaky, "INBOX", None, 10)
    assert flaky.calls == 1 and caught.value.retry_after == 3600.0


def test_backoff_doubles_with_jitter_and_stops_at_the_attempt_bound() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, backoff=1.0, max_wait=30.0, total_wait=60.0)
    flaky = Flaky(*(TransientError("down") for _ in range(4)))
    with pytest.raises(TransientError, match="down"):
        retrying(policy, TransientError, sleep=waits.append)(flaky.fetch, "INBOX", None, 1)
    assert flaky.calls == 4 and len(waits) == 3
    for wait, base in zip(waits, (1.0, 2.0, 4.0), strict=True):
        assert base <= wait <= base * 1.5


def test_waits_never_add_up_past_the_total_bound() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=10, backoff=1.0, max_wait=30.0, total_wait=25.0)
    flaky = Flaky(*(TransientError("slow", retry_after=10.0) for _ in range(10)))
    with pytest.raises(TransientError):
        retrying(policy, TransientError, sleep=waits.append)(flaky.fetch, "INBOX", None, 1)
    assert waits == [10.0, 10.0] and flaky.calls == 3


def test_only_the_named_failures_are_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not a network hiccup")

    with pytest.raises(ValueError):
        retrying(RetryPolicy(), TransientError, sleep=lambda _: None)(broken)
    assert calls == [1]


def test_a_policy_reads_retry_after_from_the_failure() -> None:
    state = RetryCallState(
        retry_object=retrying(RetryPolicy(), TransientError), fn=None, args=(), kwargs={}
    )
    state.set_exception((TransientError, TransientError("x", retry_after=7.0), None))
    assert RetryPolicy().wait(state) == 7.0
