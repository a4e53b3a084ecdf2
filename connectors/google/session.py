"""What every call of one Google account shares: its credentials, its quota pace, its retries.

Credentials, either of two grants:

- a rep's installed-app grant (RFC 6749 section 6, the refresh token grant)
  on ``google.oauth2.credentials.Credentials``. The client id is plain; the
  client secret and the refresh token are read from their sources at each
  refresh, so a token another process rotated is picked up;
- an admin's service account with domain-wide delegation (RFC 7523, the
  JWT bearer grant) on ``google.oauth2.service_account.Credentials``
  ``with_subject(user)``: the key file is read from its source at each
  refresh and signs an assertion for the impersonated user and the
  read-only scopes, sent to the account's ``token_uri``.

Every value read or minted (the access token too, and the key's private
key on its own) is announced for redaction. A refused grant
(``invalid_grant``: consent revoked or expired; ``unauthorized_client``:
delegation not granted) reaches the connector as ``AuthError`` through
``google_wire``.

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

import json
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from google.auth.credentials import Credentials as BaseCredentials
from google.oauth2 import service_account
from google.oauth2.credentials import Credentials

from connectors.base import ConfigurationError, TransientError
from connectors.credentials import SecretSink, TokenSource
from connectors.retry import RetryPolicy, retrying

T = TypeVar("T")

GMAIL_READONLY = "https://www.googleapis.com/auth/gmail.readonly"
CALENDAR_READONLY = "https://www.googleapis.com/auth/calendar.readonly"
UNITS = {"getProfile": 1, "labels.list": 1, "history.list": 2, "messages.list": 5}
MESSAGE_GET_UNITS = 5
DEFAULT_UNITS_PER_SECOND = 90.0  # under 6,000 units per user per minute
BURST_UNITS = 250.0  # one batch of 50 messages.get


def read_only_scopes(calendar: bool) -> list[str]:
    """All autocapture asks of Google: reading mail, and reading calendars if it syncs them."""
    return [GMAIL_READONLY, CALENDAR_READONLY] if calendar else [GMAIL_READONLY]


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


class DelegatedCredentials(BaseCredentials):
    """A service account acting for ``subject`` (domain-wide delegation); the key is
    read from its source at each refresh, so a rotated key file is picked up."""

    def __init__(
        self,
        key: TokenSource,
        subject: str,
        scopes: Sequence[str],
        token_uri: str,
        announce: SecretSink,
        key_name: str = "the service account key",
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._key, self.subject, self._scopes = key, subject, list(scopes)
        self._token_uri, self._announce = token_uri, announce
        self.key_name = key_name  # how errors name the key: its reference, never its content

    def refresh(self, request: Any) -> None:
        inner = self._signed_for_subject()
        inner.refresh(request)  # type: ignore[no-untyped-call]
        self.token, self.expiry = inner.token, inner.expiry
        if self.token:
            self._announce(self.token)

    def _signed_for_subject(self) -> service_account.Credentials:
        try:
            info = json.loads(self._key.token())
            for field in ("private_key", "private_key_id"):
                if isinstance(info.get(field), str):
                    self._announce(info[field])
            # The key file names Google's token URI; the setting moves it.
            info = {**info, "token_uri": self._token_uri}
            keyed = service_account.Credentials.from_service_account_info(info, scopes=self._scopes)  # type: ignore[no-untyped-call]
        except (ValueError, TypeError, AttributeError, KeyError):
            # Never the library's message: it may quote the file.
            raise ConfigurationError(
                f"{self.key_name} is not a service account's JSON key file "
                "(type, client_email and private_key are needed)"
            ) from None
        delegated: service_account.Credentials = keyed.with_subject(self.subject)
        return delegated


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
