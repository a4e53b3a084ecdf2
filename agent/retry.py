"""The agent's one late retry of a fetch, shared by the sync loop and the read-ahead child."""

from __future__ import annotations

import logging

from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from agent.redact import redact
from connectors.base import Connector, TransientError
from connectors.records import Batch, Cursor

log = logging.getLogger("autocapture.sync")


# Connectors retry their own requests (with Retry-After) before a TransientError
# reaches the agent, so the agent adds one late retry, not a second retry loop
# multiplying the first. A server that asks for more than MAX_WAIT seconds is
# left alone: the account is marked failed and the next poll tries again.
FETCH_ATTEMPTS = 2
MAX_WAIT = 60.0


def _wait_for(state: RetryCallState) -> float:
    """Back off, but never sooner than the server's Retry-After."""
    exc = state.outcome.exception() if state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return min(max(float(retry_after), 0.0), MAX_WAIT)
    return min(MAX_WAIT, 2.0 * state.attempt_number)


def fetch_with_retry(
    connector: Connector,
    stream: str,
    cursor: Cursor | None,
    limit: int,
    attempts: int = FETCH_ATTEMPTS,
) -> Batch:
    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=_wait_for,
        retry=retry_if_exception_type(TransientError),
        reraise=True,
        before_sleep=lambda s: log.warning(
            "transient failure on %s, retry %d: %s",
            stream,
            s.attempt_number,
            redact(str(s.outcome.exception() if s.outcome else "")),
        ),
    )
    batch: Batch = retrying(connector.fetch, stream, cursor, limit)
    return batch
