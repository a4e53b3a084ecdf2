"""What the Google fake knows about each API, read from the discovery documents the client ships.

The fake takes routes, query parameters and response schemas from the same
``gmail.v1.json`` / ``calendar.v3.json`` that ``googleapiclient`` builds its
service objects from, so the two cannot drift apart: a parameter the client
may send is one the fake accepts, and nothing else is.

- Query parameters: unknown names, repeated non-repeated parameters, values
  outside an ``enum``, non-integer integers and non-boolean booleans are
  refused with 400, as the real front ends do.
- ``fields`` (partial responses): the selector grammar of the Google APIs
  (``a,b/c,d(e,f)``) is parsed and checked against the response schema; a
  name the schema does not have is a 400 "Invalid field selection", as the
  real API answers.

Errors come in the two shapes the APIs use: Gmail (on the newer front end)
adds a ``status`` string to the ``error`` object, Calendar does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import googleapiclient

DOCUMENTS = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"
_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    410: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer: status, reason and message as the API words them."""

    def __init__(
        self,
        code: int,
        message: str,
        reason: str,
        domain: str = "global",
        location: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.domain = domain
        self.location = location
        self.headers = dict(headers or {})

    def body(self, api: str) -> dict[str, Any]:
        item: dict[str, Any] = {"message": self.message, "domain": self.domain}
        item["reason"] = self.reason
        if self.location:
            item["location"] = self.location
            item["locationType"] = "header" if self.location == "Authorization" else "parameter"
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [item]}
        if api == "gmail":
            error["status"] = _STATUS.get(self.code, "UNKNOWN")
        return {"error": error}


def first(query: Mapping[str, list[str]], name: str) -> str | None:
    """The value of a query parameter, None when absent."""
    values = query.get(name)
    return values[0] if values else None


@cache
def document(api: str) -> dict[str, Any]:
    name = {"gmail": "gmail.v1.json", "calendar": "calendar.v3.json"}[api]
    doc: dict[str, Any] = json.loads((DOCUMENTS / name).read_text())
    return doc


def document_at(api: str, root_url: str) -> dict[str, Any]:
    """The shipped document with its ``rootUrl`` moved (what ``build_from_document`` takes)."""
    doc = dict(document(api))
    doc["rootUrl"] = root_url
    doc["baseUrl"] = root_url + doc["servicePath"]
    return doc


@dataclass(frozen=True)
class Method:
    api: str
    id: str  # "gmail.users.messages.list"
    http_method: str
    pattern: re.Pattern[str]  # matches the request path, groups = path parameters
    parameters: dict[str, dict[str, Any]]  # query parameters, the API's global ones included
    response: str | None  # schema name

    def check_query(self, query: Mapping[str, list[str]]) -> None:
        for name, values in query.items():
            spec = self.parameters.get(name)
            if spec is None:
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message.",
                    "badRequest" if self.api == "gmail" else "invalidParameter",
                    location=name,
                )
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(
                    400, f"Duplicate parameter {name}", "invalidParameter", location=name
                )
            for value in values:
                _check_value(name, value, spec)


def _check_value(name: str, value: str, spec: Mapping[str, Any]) -> None:
    kind = spec.get("type")
    bad = False
    if kind == "integer":
        bad = not re.fullmatch(r"-?\d+", value) or int(value) < int(spec.get("minimum", -(2**63)))
    elif kind == "boolean":
        bad = value not in ("true", "false")
    if not bad and "enum" in spec:
        # The document spells Gmail's enums in lower case; the API also takes
        # the upper-case names of its protocol buffers (format=FULL).
        bad = value not in spec["enum"] and value.lower() not in spec["enum"]
    if bad:
        raise ApiError(
            400, f"Invalid value '{value}' for {name}", "invalidParameter", location=name
        )


@cache
def methods(api: str) -> tuple[Method, ...]:
    doc = document(api)
    found: list[Method] = []
    _collect(api, doc, doc.get("resources", {}), found)
    return tuple(found)


def _collect(api: str, doc: dict[str, Any], resources: dict[str, Any], out: list[Method]) -> None:
    for resource in resources.values():
        for method in resource.get("methods", {}).values():
            path = "/" + doc["servicePath"] + method["path"]
            regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path))
            params = {
                name: spec
                for name, spec in {**doc["parameters"], **method.get("parameters", {})}.items()
                if spec.get("location") == "query"
            }
            response = method.get("response", {}).get("$ref")
            out.append(
                Method(api, method["id"], method["httpMethod"], re.compile(regex), params, response)
            )
        _collect(api, doc, resource.get("resources", {}), out)


# ----------------------------------------------------------- partial response

Selection = dict[str, "Selection | None"]  # name -> sub-selection; None selects the whole value


def parse_fields(text: str) -> Selection:
    """The selector grammar: ``a,b/c,d(e,f/g)``; ``b/c`` is the same as ``b(c)``."""
    selection, pos = _fields(text, 0)
    if pos != len(text):
        raise ApiError(
            400, f"Invalid field selection {text}", "invalidParameter", location="fields"
        )
    return selection


def _fields(text: str, pos: int) -> tuple[Selection, int]:
    out: Selection = {}
    while True:
        match = re.compile(r"[\w$@.-]+(?:/[\w$@.-]+)*").match(text, pos)
        if match is None:
            raise ApiError(400, f"Invalid field selection {text}", "invalidParameter")
        names = match.group().split("/")
        pos = match.end()
        sub: Selection | None = None
        if text.startswith("(", pos):
            sub, pos = _fields(text, pos + 1)
            if not text.startswith(")", pos):
                raise ApiError(400, f"Invalid field selection {text}", "invalidParameter")
            pos += 1
        for name in reversed(names[1:]):
            sub = {name: sub}
        _merge(out, names[0], sub)
        if not text.startswith(",", pos):
            return out, pos
        pos += 1


def _merge(out: Selection, name: str, sub: Selection | None) -> None:
    if name in out and out[name] is not None and sub is not None:
        current = out[name]
        assert current is not None
        for key, value in sub.items():
            _merge(current, key, value)
    elif name in out and (out[name] is None or sub is None):
        out[name] = None
    else:
        out[name] = sub


def select(api: str, schema: str, value: Any, fields: str) -> Any:
    """``value`` cut down to ``fields``; 400 for a name ``schema`` does not have."""
    selection = parse_fields(fields)
    _check_selection(api, {"$ref": schema}, selection)
    return _apply(value, selection)


def _resolve(api: str, spec: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in spec:
        spec = document(api)["schemas"][spec["$ref"]]
    return spec


def _check_selection(api: str, spec: Mapping[str, Any], selection: Selection) -> None:
    spec = _resolve(api, spec)
    while spec.get("type") == "array":
        spec = _resolve(api, spec["items"])
    props = spec.get("properties", {})
    extra = spec.get("additionalProperties")
    for name, sub in selection.items():
        child = props.get(name, extra)
        if child is None:
            raise ApiError(
                400, f"Invalid field selection {name}", "invalidParameter", location="fields"
            )
        if sub is not None:
            _check_selection(api, child, sub)


def _apply(value: Any, selection: Selection | None) -> Any:
    if selection is None:
        return value
    if isinstance(value, list):
        return [_apply(item, selection) for item in value]
    if not isinstance(value, dict):
        return value
    return {k: _apply(value[k], sub) for k, sub in selection.items() if k in value}
