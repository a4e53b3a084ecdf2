"""The agent's one late retry of a fetch, shared by the sync loop and the read-ahead child."""

from __future__ import annotations

import logging

from agent.redact import redact
from connectors.base import Connector, TransientError
from connectors.records import Batch, Cursor
from connectors.retry import RetryPolicy, retrying

log = logging.getLogger("autocapture.sync")


# Connectors retry their own requests (with Retry-After) before a TransientError
# reaches the agent, so the agent adds one late retry, not a second retry loop
# multiplying the first. A server that asks for more than a minute is left
# alone: the account is marked failed and the next poll tries again.
FETCH_RETRY = RetryPolicy(attempts=2, backoff=2.0, max_wait=60.0, total_wait=60.0)


def fetch_with_retry(
    connector: Connector,
    stream: str,
    cursor: Cursor | None,
    limit: int,
    policy: RetryPolicy = FETCH_RETRY,
) -> Batch:
    retry = retrying(
        policy,
        TransientError,
        before_sleep=lambda s: log.warning(
            "transient failure on %s, retry %d: %s",
            stream,
            s.attempt_number,
            redact(str(s.outcome.exception() if s.outcome else "")),
        ),
    )
    batch: Batch = retry(connector.fetch, stream, cursor, limit)
    return batch
