"""Thin calls to the Gmail and Calendar APIs through google-api-python-client.

Service objects are built from the discovery documents the client ships
(no network at start-up). ``api_root`` moves both APIs (tests, an egress
proxy); ``None`` keeps each document's own root. Setting ``rootUrl`` on
the document, not ``client_options``, is what moves batch requests too:
the client sends them to ``rootUrl + batchPath``.

Every call here is one request or one batch; retrying, paging policy and
cursors belong to the connector. Errors leave as the connector's types,
worded without URLs, tokens or bodies:

- 401 after the client's own refresh, 403 for a refused grant, and
  ``RefreshError`` (``invalid_grant``: revoked or expired consent) ->
  ``AuthError``;
- 429, 403 ``rateLimitExceeded``/``userRateLimitExceeded``, 5xx, transport
  failures -> ``TransientError`` with the server's Retry-After;
- Gmail history 404 and Calendar 410 -> ``CursorExpired``.

``get_messages`` batches ``messages.get`` (Gmail allows 100 calls per
batch and advises at most 50); each part fails on its own: 404 (deleted
since it was listed) is ``missing``, any other failure is kept per id for
the connector to retry or record.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth.exceptions import RefreshError, TransportError
from googleapiclient.discovery import Resource, build_from_document
from googleapiclient.discovery_cache import get_static_doc
from googleapiclient.errors import HttpError

from connectors.base import AuthError, ConnectorError, CursorExpired, TransientError

APIS = {"gmail": "v1", "calendar": "v3"}
BATCH_SIZE = 50  # "Sending batches larger than 50 requests is not recommended."
# What the pipeline reads of a message: format=full without snippet and historyId.
MESSAGE_FIELDS = "id,threadId,labelIds,internalDate,sizeEstimate,payload"
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


def build_service(
    api: str, credentials: Any, api_root: str | None = None, timeout: float = 60.0
) -> Resource:
    """A service object for ``api`` ("gmail" or "calendar") from the shipped document."""
    text = get_static_doc(api, APIS[api])
    if text is None:
        raise ConnectorError(f"google-api-python-client ships no {api} document")
    document = json.loads(text)
    if api_root is not None:
        root = api_root if api_root.endswith("/") else api_root + "/"
        document["rootUrl"] = root
        document["baseUrl"] = root + document["servicePath"]
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
    return build_from_document(document, http=http)


def connector_error(exc: BaseException, cursor_stream: str | None = None) -> ConnectorError:
    """The connector's error for what the client raised; ``cursor_stream`` names the
    stream whose cursor a 404 (Gmail history) or 410 (Calendar sync) invalidates."""
    if isinstance(exc, RefreshError) and getattr(exc, "retryable", False):
        # google-auth marks 5xx, 408 and 429 from the token endpoint retryable (after
        # its own three tries): an outage, not a refused grant.
        return TransientError("Google's token endpoint is unavailable")
    if isinstance(exc, RefreshError):
        # args[0] is "invalid_grant: Token has been expired or revoked." and the like.
        reason = str(exc.args[0]).split(":", 1)[0] if exc.args else "refresh failed"
        return AuthError(f"Google refused the credentials ({reason})")
    if isinstance(exc, HttpError):
        return _http_error(exc, cursor_stream)
    if isinstance(exc, TransportError | httplib2.HttpLib2Error | socket.timeout | OSError):
        return TransientError(f"Google unreachable: {type(exc).__name__}")
    return ConnectorError(f"unexpected error from the Google client: {type(exc).__name__}")


def _http_error(exc: HttpError, cursor_stream: str | None) -> ConnectorError:
    status = exc.resp.status
    reasons = (
        {d.get("reason") for d in exc.error_details if isinstance(d, Mapping)}
        if isinstance(exc.error_details, list)
        else set()
    )
    if cursor_stream is not None and status in (404, 410):
        return CursorExpired(cursor_stream, f"Google answered {status}")
    if status == 429 or status >= 500 or (status == 403 and reasons & _RATE_REASONS):
        return TransientError(f"Google answered {status}", _retry_after(exc))
    if status in (401, 403):
        return AuthError(f"Google refused the request ({status})")
    return ConnectorError(f"Google answered {status} ({', '.join(sorted(map(str, reasons)))})")


def _retry_after(exc: HttpError) -> float | None:
    value = exc.resp.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the connector's backoff decides


def _execute(request: Any, cursor_stream: str | None = None) -> Any:
    try:
        return request.execute()
    except (HttpError, RefreshError, TransportError, httplib2.HttpLib2Error, OSError) as exc:
        raise connector_error(exc, cursor_stream) from None


# ---------------------------------------------------------------- Gmail


@dataclass(frozen=True)
class MessagePage:
    ids: list[str]
    next_page_token: str | None
    result_size_estimate: int


def list_messages(
    gmail: Resource,
    query: str | None = None,
    label_ids: Sequence[str] = (),
    page_token: str | None = None,
    max_results: int = 500,
) -> MessagePage:
    args: dict[str, Any] = {"userId": "me", "maxResults": max_results}
    args["fields"] = "messages/id,nextPageToken,resultSizeEstimate"
    if query:
        args["q"] = query
    if label_ids:
        args["labelIds"] = list(label_ids)
    if page_token:
        args["pageToken"] = page_token
    page = _execute(gmail.users().messages().list(**args))
    ids = [m["id"] for m in page.get("messages", [])]
    return MessagePage(ids, page.get("nextPageToken"), int(page.get("resultSizeEstimate", 0)))


@dataclass
class FetchedMessages:
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # deleted since listed
    failed: dict[str, ConnectorError] = field(default_factory=dict)


def get_messages(
    gmail: Resource, ids: Iterable[str], fields: str = MESSAGE_FIELDS, batch_size: int = BATCH_SIZE
) -> FetchedMessages:
    """``messages.get(format=full)`` for ``ids``, ``batch_size`` calls per HTTP request."""
    out = FetchedMessages()
    pending = list(dict.fromkeys(ids))

    def answer(request_id: str, response: Any, exc: HttpError | None) -> None:
        if exc is None:
            out.found[request_id] = response
        elif exc.resp.status == 404:
            out.missing.append(request_id)
        else:
            out.failed[request_id] = connector_error(exc)

    messages = gmail.users().messages()
    for start in range(0, len(pending), batch_size):
        batch = gmail.new_batch_http_request(callback=answer)
        for msg_id in pending[start : start + batch_size]:
            request = messages.get(userId="me", id=msg_id, format="full", fields=fields)
            batch.add(request, request_id=msg_id)
        _execute(batch)
    return out


def current_history_id(gmail: Resource) -> str:
    """Where history starts now: the cursor to keep after a full sync."""
    profile = _execute(gmail.users().getProfile(userId="me", fields="historyId"))
    return str(profile["historyId"])


@dataclass(frozen=True)
class HistoryPage:
    added: list[str]  # message ids, in history order, without repeats
    deleted: list[str]
    history_id: str  # the mailbox's history id when this page was read
    next_page_token: str | None


def history_since(
    gmail: Resource,
    start_history_id: str,
    stream: str,
    page_token: str | None = None,
    label_id: str | None = None,
) -> HistoryPage:
    """Messages added and deleted after ``start_history_id``; ``CursorExpired`` once Gmail
    no longer keeps history that old."""
    args: dict[str, Any] = {
        "userId": "me",
        "startHistoryId": start_history_id,
        "historyTypes": ["messageAdded", "messageDeleted"],
        "maxResults": 500,
    }
    if page_token:
        args["pageToken"] = page_token
    if label_id:
        args["labelId"] = label_id
    page = _execute(gmail.users().history().list(**args), cursor_stream=stream)
    added: dict[str, None] = {}
    deleted: dict[str, None] = {}
    for record in page.get("history", []):
        for item in record.get("messagesAdded", []):
            added[item["message"]["id"]] = None
        for item in record.get("messagesDeleted", []):
            deleted[item["message"]["id"]] = None
            added.pop(item["message"]["id"], None)  # added and gone within the span
    return HistoryPage(
        list(added), list(deleted), str(page["historyId"]), page.get("nextPageToken")
    )


def history_records(
    gmail: Resource, start_history_id: str, stream: str, page_token: str | None = None
) -> tuple[list[dict[str, Any]], str, str | None]:
    """One page of raw history records after ``start_history_id`` (additions, deletions and
    label changes), the mailbox's history id and the next page's token; ``CursorExpired``
    once Gmail no longer keeps history that old."""
    args: dict[str, Any] = {
        "userId": "me",
        "startHistoryId": start_history_id,
        "historyTypes": ["messageAdded", "messageDeleted", "labelAdded", "labelRemoved"],
        "maxResults": 500,
    }
    if page_token:
        args["pageToken"] = page_token
    page = _execute(gmail.users().history().list(**args), cursor_stream=stream)
    return list(page.get("history", [])), str(page["historyId"]), page.get("nextPageToken")


# ---------------------------------------------------------------- Calendar


def list_calendars(calendar: Resource) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request = calendar.calendarList().list(
        fields="items(id,summary,primary,accessRole,selected),nextPageToken"
    )
    while request is not None:
        page = _execute(request)
        items.extend(page.get("items", []))
        request = calendar.calendarList().list_next(request, page)
    return items


@dataclass(frozen=True)
class EventPage:
    items: list[dict[str, Any]]
    next_page_token: str | None
    next_sync_token: str | None  # only on the last page


def list_events(
    calendar: Resource,
    calendar_id: str,
    sync_token: str | None = None,
    page_token: str | None = None,
    time_min: str | None = None,
    time_max: str | None = None,
    max_results: int = 250,
) -> EventPage:
    """One page of instances; with ``sync_token``, only what changed (``CursorExpired`` on
    410). The window applies to a full listing only: the API refuses it with a token."""
    args: dict[str, Any] = {
        "calendarId": calendar_id,
        "singleEvents": True,
        "maxResults": max_results,
    }
    if sync_token:
        args["syncToken"] = sync_token
    else:
        args.update({k: v for k, v in (("timeMin", time_min), ("timeMax", time_max)) if v})
    if page_token:
        args["pageToken"] = page_token
    page = _execute(calendar.events().list(**args), cursor_stream=calendar_id)
    return EventPage(page.get("items", []), page.get("nextPageToken"), page.get("nextSyncToken"))
