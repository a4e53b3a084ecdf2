"""Graph v1.0 on the wire: JSON pages, ``$batch``, throttling, and one mailbox's concurrency.

Every call goes through ``connectors.http.HttpClient`` (bearer token from
the account's ``TokenSource``, refreshed once after a 401; 429, 503 and 504
retried there, honouring Retry-After). What this module adds:

- **Concurrency.** Exchange Online serves at most four concurrent requests
  per app and mailbox and throttles the fifth (``MailboxConcurrency``).
  ``mailbox_slot`` holds one semaphore of four per (Graph root, mailbox) in
  the process, so two accounts or threads on one mailbox share it.
- **``$batch``.** At most 20 requests per batch (Graph's limit); each item
  has its own status. Items answered 429/503/504 are sent again, alone in a
  smaller batch, after the longest Retry-After any of them named, under
  the same ``RetryPolicy`` as a plain request; an item still throttled when
  the policy gives up fails the whole call with ``TransientError`` (nothing
  is half-captured: the caller's cursor does not move).
- **Errors.** A 410 is the caller's (an expired delta token); a 403 is
  ``PermissionDenied`` (the app lacks the permission or an application
  access policy excludes the mailbox); any other status the caller did not
  expect is ``UnexpectedStatus``. Messages carry method, origin and path,
  never a query string (it holds delta tokens) or a body.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from connectors.base import TransientError, UnexpectedStatus
from connectors.http import HttpClient, HttpResponse, describe, refusal
from connectors.retry import RetryPolicy, parse_retry_after, retrying

MAX_BATCH = 20  # "JSON batch requests are currently limited to 20 individual requests"
MAILBOX_CONCURRENCY = 4  # Exchange Online: concurrent requests per app and mailbox
_RETRIED = frozenset({429, 503, 504})


_gates: dict[tuple[str, str], threading.BoundedSemaphore] = {}
_gates_lock = threading.Lock()


@contextmanager
def mailbox_slot(root: str, mailbox: str) -> Iterator[None]:
    """One of the ``MAILBOX_CONCURRENCY`` request slots of ``mailbox`` in this process."""
    key = (root.rstrip("/").lower(), mailbox.lower())
    with _gates_lock:
        gate = _gates.setdefault(key, threading.BoundedSemaphore(MAILBOX_CONCURRENCY))
    with gate:
        yield


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One answer of a ``$batch``: the item's status, headers and JSON body."""

    status: int
    headers: Mapping[str, str]
    body: Any


class GraphWire:
    """Calls to one mailbox's Graph resources (``root`` like https://graph.microsoft.com)."""

    def __init__(
        self, client: HttpClient, root: str, mailbox: str, policy: RetryPolicy | None = None
    ) -> None:
        self.client = client
        self.base = root.rstrip("/") + "/v1.0"
        self.mailbox = mailbox
        self.policy = policy or RetryPolicy()
        self.requests = 0  # HTTP requests sent (a batch is one), for measurements

    def get(self, url: str, prefer: Sequence[str] = ()) -> HttpResponse:
        """GET ``url`` (absolute); every status but the ones HttpClient raises comes back."""
        headers = {"Accept": "application/json"}
        if prefer:
            headers["Prefer"] = ", ".join(prefer)
        with mailbox_slot(self.base, self.mailbox):
            self.requests += 1
            return self.client.request("GET", url, headers=headers)

    def get_json(self, url: str, prefer: Sequence[str] = ()) -> dict[str, Any]:
        response = self.get(url, prefer)
        if response.status != 200:
            raise refusal(response, f"GET {describe(url)}")
        return json_body(response)

    def batch(self, items: Sequence[Mapping[str, Any]]) -> dict[str, BatchItem]:
        """Send ``items`` (``{"id", "method", "url", "headers"}``, url relative to /v1.0)
        in batches of 20; every item's final answer by id, throttled ones retried."""
        answers: dict[str, BatchItem] = {}
        for start in range(0, len(items), MAX_BATCH):
            chunk = list(items[start : start + MAX_BATCH])
            retrying(self.policy, TransientError)(self._batch_until_done, chunk, answers)
        return answers

    def _batch_until_done(
        self, pending: list[Mapping[str, Any]], answers: dict[str, BatchItem]
    ) -> None:
        """One ``$batch`` of the items still unanswered; throttled ones stay pending."""
        got = self._post_batch(pending)
        waits: list[float] = []
        again: list[Mapping[str, Any]] = []
        for item in pending:
            answer = got.get(str(item["id"]))
            if answer is None or answer.status in _RETRIED:
                again.append(item)
                retry_after = (
                    parse_retry_after(answer.headers.get("retry-after")) if answer else None
                )
                waits.append(retry_after or 0.0)
            else:
                answers[str(item["id"])] = answer
        pending[:] = again
        if again:
            raise TransientError(
                f"POST {describe(self.base)}/$batch: {len(again)} items throttled",
                retry_after=max(waits) or None,
            )

    def _post_batch(self, items: Sequence[Mapping[str, Any]]) -> dict[str, BatchItem]:
        url = f"{self.base}/$batch"
        body = json.dumps({"requests": list(items)}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        with mailbox_slot(self.base, self.mailbox):
            self.requests += 1
            response = self.client.request("POST", url, headers=headers, body=body)
        if response.status != 200:
            raise refusal(response, f"POST {describe(url)}")
        found: dict[str, BatchItem] = {}
        for answer in json_body(response).get("responses", []):
            if not isinstance(answer, Mapping) or "id" not in answer:
                continue
            raw_headers = answer.get("headers")
            headers = (
                {str(k).lower(): str(v) for k, v in raw_headers.items()}
                if isinstance(raw_headers, Mapping)
                else {}
            )
            status = answer.get("status")
            found[str(answer["id"])] = BatchItem(
                status if isinstance(status, int) else 0, headers, answer.get("body")
            )
        return found


def json_body(response: HttpResponse) -> dict[str, Any]:
    try:
        value = json.loads(response.body)
    except ValueError:
        raise UnexpectedStatus(f"{describe(response.url)}: not JSON", response.status) from None
    if not isinstance(value, dict):
        raise UnexpectedStatus(f"{describe(response.url)}: not a JSON object", response.status)
    return value


def error_code(response: HttpResponse) -> str:
    """Graph's ``error.code`` (``syncStateNotFound``, ``ErrorItemNotFound``), or ""."""
    try:
        error = json.loads(response.body).get("error")
    except (ValueError, AttributeError):
        return ""
    return str(error.get("code", "")) if isinstance(error, Mapping) else ""
