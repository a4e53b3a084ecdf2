"""What every call of one Google account shares: its credentials, its quota pace, its retries.

Credentials: an installed-app OAuth grant (RFC 6749 section 6, the refresh
token grant) on ``google.oauth2.credentials.Credentials``. The client id is
plain; the client secret and the refresh token are read from their sources
at each refresh, so a token another process rotated is picked up, and every
value read or minted (the access token too) is announced for redaction. A
refused grant (``invalid_grant``: consent revoked or expired) reaches the
connector as ``AuthError`` through ``google_wire``.

Pace: Gmail meters each user in quota units per method (messages.get and
messages.list 5, history.list 2, getProfile 1; a batch costs the sum of its
parts) and refuses a user who goes faster than the per-user limit, with 429
or 403 ``userRateLimitExceeded``. Google documents that limit as 15,000
units per user per minute on one page and 6,000 per user per project per
minute on its newer one; the default pace stays under the smaller, and a
token bucket lets one full batch (250 units) through at once.

Retries: ``call`` runs one request under ``connectors.retry`` (the server's
Retry-After, else jittered backoff); what still fails goes up as it was.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from google.oauth2.credentials import Credentials

from connectors.base import TransientError
from connectors.credentials import SecretSink, TokenSource
from connectors.retry import RetryPolicy, retrying

T = TypeVar("T")

UNITS = {"getProfile": 1, "labels.list": 1, "history.list": 2, "messages.list": 5}
MESSAGE_GET_UNITS = 5
DEFAULT_UNITS_PER_SECOND = 90.0  # under 6,000 units per user per minute
BURST_UNITS = 250.0  # one batch of 50 messages.get


class RefreshedCredentials(Credentials):
    """Google's user credentials whose secrets are read from sources at each refresh."""

    def __init__(
        self,
        client_id: str,
        client_secret: TokenSource,
        refresh_token: TokenSource,
        token_uri: str,
        announce: SecretSink,
    ) -> None:
        super().__init__(None, client_id=client_id, token_uri=token_uri)  # type: ignore[no-untyped-call]
        self._secret_source = client_secret
        self._refresh_source = refresh_token
        self._announce = announce

    def refresh(self, request: Any) -> None:
        self._client_secret = self._secret_source.token()
        self._refresh_token = self._refresh_source.token()
        super().refresh(request)  # type: ignore[no-untyped-call]
        if self.token:
            self._announce(self.token)


class QuotaPace:
    """A token bucket in quota units: ``take`` sleeps until ``units`` may be spent."""

    def __init__(
        self,
        units_per_second: float = DEFAULT_UNITS_PER_SECOND,
        burst: float = BURST_UNITS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = units_per_second
        self.burst = max(burst, 1.0)
        self._clock, self._sleep = clock, sleep
        self._level = self.burst
        self._at = clock()
        self._lock = threading.Lock()
        self.spent: list[tuple[float, float]] = []  # (time, units), for measurements

    def take(self, units: float) -> None:
        with self._lock:
            now = self._clock()
            self._level = min(self.burst, self._level + (now - self._at) * self.rate)
            self._at = now
            self._level -= units
            wait = -self._level / self.rate if self._level < 0 else 0.0
            self.spent.append((now, units))
        if wait > 0:
            self._sleep(wait)


def call(policy: RetryPolicy, request: Callable[[], T]) -> T:
    """``request()`` retried on ``TransientError`` under ``policy``."""
    result: T = retrying(policy, TransientError)(request)
    return result
