"""Graph's wire conventions for the Graph fake: error bodies, query options, preferences, $batch.

Kept apart from the routes in ``microsoft_graph`` so the state machine there
reads as the delta protocol and this file as what Graph says on the wire.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.servers.fake_http import FakeHttpServer, Fault, Request, Response
from tests.servers.microsoft_identity import Principal
from tests.servers.microsoft_mail import MESSAGE_PROPERTIES

MAILBOX_CONCURRENCY = 4  # concurrent requests per app and mailbox Exchange Online serves
MAX_BATCH = 20  # "JSON batch requests are currently limited to 20 individual requests"
DEFAULT_PAGE = 10
_FILTER = re.compile(r"receivedDateTime\s+(ge|gt)\s+(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")
_KEYED_FOLDER = re.compile(r"mailFolders\('([^']+)'\)", re.IGNORECASE)


class GraphError(Exception):
    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


def graph_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    """Graph's error body: code, message and the innerError ids support asks for."""
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": str(uuid.uuid4()),
        "client-request-id": str(uuid.uuid4()),
    }
    return Response.json(
        {"error": {"code": code, "message": message, "innerError": inner}}, status, headers
    )


def throttled(retry_after: int = 1) -> Fault:
    error = graph_error(
        429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
    )
    return Fault.answer(429, {**error.headers, "Retry-After": str(retry_after)}, error.body)


def unavailable() -> Fault:
    error = graph_error(503, "ServiceUnavailable", "Service Unavailable")
    return Fault.answer(503, error.headers, error.body)


def allowed(principal: Principal, upn: str, scope: str) -> bool:
    if principal.user is None:
        return True  # application permissions reach every mailbox in the tenant
    # "https://graph.microsoft.com/Mail.Read" and "Mail.Read" are one permission.
    granted = {s.rsplit("/", 1)[-1] for s in principal.scopes}
    return principal.user == upn and scope in granted


def refuse_unknown(request: Request, allowed: frozenset[str]) -> None:
    for name in request.query:
        if name not in allowed:
            raise GraphError(400, "BadRequest", f"Unrecognized query argument specified: '{name}'.")


def folder_param(request: Request) -> str:
    if "folder" in request.params:
        return unquote(request.params["folder"])
    match = _KEYED_FOLDER.fullmatch(unquote(request.params.get("keyed", "")))
    if match is None:
        raise GraphError(
            400,
            "BadRequest",
            f"Resource not found for the segment '{request.params.get('keyed')}'.",
        )
    return match[1]


def select(request: Request) -> frozenset[str] | None:
    value = request.arg("$select")
    if value is None:
        return None
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    for name in sorted(names - MESSAGE_PROPERTIES):
        raise GraphError(
            400,
            "RequestBroker--ParseUri",
            f"Could not find a property named '{name}' on type 'Microsoft.OutlookServices.Message'.",
        )
    return names


def received_filter(request: Request) -> tuple[str, datetime] | None:
    value = request.arg("$filter")
    if value is None:
        return None
    match = _FILTER.fullmatch(value.strip())
    if match is None:
        raise GraphError(
            400,
            "ErrorInvalidUrlQueryFilter",
            "The query filter contains one or more invalid nodes.",
        )
    return match[1], utc(match[2])


def received_ok(received: datetime, bound: tuple[str, datetime] | None) -> bool:
    if bound is None:
        return True
    return received >= bound[1] if bound[0] == "ge" else received > bound[1]


def utc(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise GraphError(
            400, "ErrorInvalidParameter", f"The value '{value}' is not a valid DateTime."
        ) from None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def preferences(request: Request) -> list[str]:
    return [p.strip() for p in (request.header("prefer") or "").split(",") if p.strip()]


def page_size(request: Request) -> int:
    for pref in preferences(request):
        name, _, value = pref.partition("=")
        if name.strip() == "odata.maxpagesize" and value.strip().isdigit():
            return max(1, int(value))
    return DEFAULT_PAGE


def prefers_text(request: Request) -> bool:
    return 'outlook.body-content-type="text"' in preferences(request)


def applied(request: Request, applied: list[str]) -> dict[str, str]:
    sizes = [p for p in preferences(request) if p.startswith("odata.maxpagesize")]
    both = [*sizes, *applied]
    return {"Preference-Applied": ", ".join(both)} if both else {}


def removed(kind: str, item_id: str) -> dict[str, Any]:
    return {
        "@odata.type": f"#microsoft.graph.{kind}",
        "id": item_id,
        "@removed": {"reason": "deleted"},
    }


def batch_items(request: Request) -> list[Mapping[str, Any]]:
    try:
        items = request.json()["requests"]
    except (ValueError, KeyError, TypeError):
        raise GraphError(400, "BadRequest", "Invalid batch payload format.") from None
    if not isinstance(items, list) or len(items) > MAX_BATCH:
        raise GraphError(
            400,
            "BadRequest",
            f"Unable to deserialize content. Maximum number of requests is {MAX_BATCH}.",
        )
    ids = [str(i.get("id")) for i in items if isinstance(i, Mapping)]
    if len(ids) != len(items) or len(set(ids)) != len(ids):
        raise GraphError(400, "BadRequest", "Batch request ids must be unique and present.")
    if any(not str(i.get("url", "")).startswith("/") or "method" not in i for i in items):
        raise GraphError(
            400, "BadRequest", "Invalid request: url must be relative and method given."
        )
    return items


def answer_batch(server: FakeHttpServer, request: Request) -> Response:
    """``POST /v1.0/$batch``: each item answered by ``server`` as a request of its own
    (routes, bearer check, faults, log), the answers in reverse order (Graph promises none)."""
    try:
        items = batch_items(request)
    except GraphError as error:
        return graph_error(error.status, error.code, error.message)
    answers = [_batch_item(server, request, item) for item in items]
    return Response.json({"responses": list(reversed(answers))})


def _batch_item(server: FakeHttpServer, outer: Request, item: Mapping[str, Any]) -> dict[str, Any]:
    url = urlsplit(str(item["url"]))
    headers = {k.lower(): str(v) for k, v in dict(item.get("headers") or {}).items()}
    headers["authorization"] = outer.header("authorization") or ""
    headers["graph-batch-id"] = str(item["id"])
    inner = Request(
        method=str(item["method"]).upper(),
        path="/v1.0" + url.path,
        query=parse_qs(url.query, keep_blank_values=True),
        headers=headers,
        body=json.dumps(item["body"]).encode() if "body" in item else b"",
    )
    answer = server.respond(inner)
    if isinstance(answer, Fault):
        answer = answer.response or graph_error(503, "ServiceUnavailable", "Service Unavailable")
    body = json.loads(answer.body) if answer.body else None
    return {
        "id": item["id"],
        "status": answer.status,
        "headers": dict(answer.headers),
        "body": body,
    }
