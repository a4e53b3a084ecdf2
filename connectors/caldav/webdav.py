"""WebDAV/CalDAV for the CalDAV connector: XML bodies, multistatus parsing, discovery.

Covers the subset the CalDAV connector needs: PROPFIND (RFC 4918), the
``current-user-principal`` (RFC 5397) -> ``calendar-home-set`` -> calendars
walk (RFC 4791 section 6.2), ``sync-collection`` (RFC 6578),
``calendar-multiget`` (RFC 4791 section 7.9).

The XML functions are pure (bytes in, values out); ``discover_calendars``
and the calendar requests at the end (``sync_report``, ``list_etags``,
``multiget``) talk to the server through the project's ``HttpClient``.

Server XML is untrusted: it is parsed with defusedxml, which refuses DTDs and
entity declarations (billion laughs, external entities); size is capped
before parsing by the HTTP layer. Anything unparseable raises ``InvalidInput``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from connectors.base import (
    ConfigurationError,
    CursorExpired,
    InvalidInput,
    ResponseTooLarge,
    TransientError,
)
from connectors.http import HttpClient, HttpResponse, describe, refusal

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
_NS = f'xmlns:d="{DAV}" xmlns:c="{CALDAV}"'
_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'
XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}


def clark(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


@dataclass(frozen=True, slots=True)
class DavResponse:
    """One ``DAV:response``: its href, a response-level status if any, and found properties."""

    href: str  # exactly as the server wrote it (sent back in multiget)
    status: int | None  # sync-collection reports deletions as a response-level 404
    props: Mapping[str, Element]  # Clark name -> element, from 2xx propstats only

    def text(self, ns: str, name: str) -> str | None:
        el = self.props.get(clark(ns, name))
        if el is None or el.text is None:
            return None
        return el.text.strip() or None

    def hrefs(self, ns: str, name: str) -> list[str]:
        """The ``DAV:href`` children of a property (principal, home set)."""
        el = self.props.get(clark(ns, name))
        if el is None:
            return []
        return [h.text.strip() for h in el.iter(clark(DAV, "href")) if h.text and h.text.strip()]

    def resource_types(self) -> frozenset[str]:
        el = self.props.get(clark(DAV, "resourcetype"))
        return frozenset() if el is None else frozenset(child.tag for child in el)

    def components(self) -> frozenset[str] | None:
        """``supported-calendar-component-set``; None when absent (RFC 4791 5.2.3: all)."""
        el = self.props.get(clark(CALDAV, "supported-calendar-component-set"))
        if el is None:
            return None
        return frozenset(
            (comp.get("name") or "").upper() for comp in el.iter(clark(CALDAV, "comp"))
        )


@dataclass(frozen=True, slots=True)
class Multistatus:
    responses: tuple[DavResponse, ...]
    sync_token: str | None  # RFC 6578: the token after this report


def propfind_body(props: Iterable[tuple[str, str]]) -> bytes:
    prefix = {DAV: "d", CALDAV: "c"}
    inner = "".join(f"<{prefix[ns]}:{name}/>" for ns, name in props)
    return f"{_DECL}<d:propfind {_NS}><d:prop>{inner}</d:prop></d:propfind>".encode()


def sync_collection_body(token: str | None) -> bytes:
    """RFC 6578 3.2; an empty sync-token asks for the initial full listing."""
    tok = f"<d:sync-token>{escape(token)}</d:sync-token>" if token else "<d:sync-token/>"
    return (
        f"{_DECL}<d:sync-collection {_NS}>{tok}<d:sync-level>1</d:sync-level>"
        "<d:prop><d:getetag/></d:prop></d:sync-collection>"
    ).encode()


def multiget_body(hrefs: Iterable[str]) -> bytes:
    """RFC 4791 7.9: etag and data of each named object in one round trip."""
    inner = "".join(f"<d:href>{escape(h)}</d:href>" for h in hrefs)
    return (
        f"{_DECL}<c:calendar-multiget {_NS}><d:prop><d:getetag/><c:calendar-data/></d:prop>"
        f"{inner}</c:calendar-multiget>"
    ).encode()


def parse_xml(body: bytes) -> Element:
    try:
        root: Element = SafeET.fromstring(body, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InvalidInput("xml-forbidden", type(exc).__name__) from None
    except ParseError as exc:
        raise InvalidInput("bad-xml", str(exc)[:200]) from None
    return root


def parse_multistatus(body: bytes) -> Multistatus:
    root = parse_xml(body)
    if root.tag != clark(DAV, "multistatus"):
        raise InvalidInput("bad-multistatus", f"root element {root.tag[:100]}")
    responses = []
    for resp in root.findall(clark(DAV, "response")):
        href = resp.findtext(clark(DAV, "href"))
        if not href or not href.strip():
            continue  # a response without an href names nothing we could fetch
        props: dict[str, Element] = {}
        for propstat in resp.findall(clark(DAV, "propstat")):
            code = status_code(propstat.findtext(clark(DAV, "status")))
            prop = propstat.find(clark(DAV, "prop"))
            if prop is not None and code is not None and 200 <= code < 300:
                props.update((child.tag, child) for child in prop)
        code = status_code(resp.findtext(clark(DAV, "status")))
        responses.append(DavResponse(href.strip(), code, props))
    token = root.findtext(clark(DAV, "sync-token"))
    return Multistatus(tuple(responses), token.strip() if token else None)


def status_code(line: str | None) -> int | None:
    """200 from "HTTP/1.1 200 OK" (RFC 4918 14.28)."""
    if not line:
        return None
    parts = line.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None


def has_precondition(body: bytes, name: str) -> bool:
    """True when an error body names the ``DAV:`` precondition ``name`` (RFC 4918 16)."""
    try:
        root = parse_xml(body)
    except InvalidInput:
        return False
    return root.tag == clark(DAV, "error") and root.find(clark(DAV, name)) is not None


def calendar_data(response: DavResponse) -> bytes | None:
    el = response.props.get(clark(CALDAV, "calendar-data"))
    if el is None or el.text is None:
        return None
    return el.text.encode("utf-8")


def href_path(base: str, href: str) -> str:
    """The decoded path an href names, so "/a%20b/" and "http://h/a b/" compare equal."""
    return unquote(urlsplit(urljoin(base, href)).path)


def read_multistatus(body: bytes, stream: str) -> Multistatus:
    try:
        return parse_multistatus(body)
    except InvalidInput as exc:
        # A listing we cannot read may be a proxy's error page; the next poll retries.
        raise TransientError(f"{stream}: unreadable multistatus ({exc.reason})") from None


# -- discovery (RFC 6764 bootstrapping, RFC 5397 principal, RFC 4791 6.2 home set) ---------

_CALENDAR_PROPS = [
    (DAV, "resourcetype"),
    (DAV, "displayname"),
    (CALDAV, "supported-calendar-component-set"),
]
_START_PROPS = [(DAV, "current-user-principal"), (CALDAV, "calendar-home-set"), *_CALENDAR_PROPS]
_CALENDAR = f"{{{CALDAV}}}calendar"


def discover_calendars(client: HttpClient, url: str, wanted: list[str] | None) -> dict[str, str]:
    """{calendar path: URL} of the VEVENT calendars reachable from ``url``.

    ``url`` may be a calendar, a calendar home, a principal or just the server:
    each step is skipped when the URL already answers it.
    """
    found = _propfind(client, url, "0", _START_PROPS)
    if found is not None and found[1] and _CALENDAR in found[1][0].resource_types():
        return _chosen(_event_calendars(found[0], found[1]), wanted, url)
    homes = found[1][0].hrefs(CALDAV, "calendar-home-set") if found and found[1] else []
    base = found[0] if found else url
    if not homes:
        base, principal = _principal(client, url, found)
        homes_found = _propfind(client, principal, "0", [(CALDAV, "calendar-home-set")])
        if homes_found is not None and homes_found[1]:
            base = homes_found[0]
            homes = homes_found[1][0].hrefs(CALDAV, "calendar-home-set")
    if not homes:
        raise ConfigurationError(f"{describe(url)}: the server names no calendar home")
    calendars: dict[str, tuple[str, set[str]]] = {}
    for home in homes:
        listed = _propfind(client, urljoin(base, home), "1", _CALENDAR_PROPS)
        if listed is not None:
            calendars.update(_event_calendars(listed[0], listed[1]))
    return _chosen(calendars, wanted, url)


def _chosen(
    calendars: dict[str, tuple[str, set[str]]], wanted: list[str] | None, url: str
) -> dict[str, str]:
    """The calendars the account names; a name that matches none is a configuration error,
    because a typo would otherwise capture nothing, silently, forever."""
    if wanted is None:
        return {path: cal_url for path, (cal_url, _) in calendars.items()}
    unknown = sorted(set(wanted).difference(*(names for _, names in calendars.values())))
    if unknown:
        raise ConfigurationError(f"{describe(url)}: no event calendar named {', '.join(unknown)}")
    return {path: u for path, (u, names) in calendars.items() if names.intersection(wanted)}


def _principal(
    client: HttpClient, url: str, found: tuple[str, list[DavResponse]] | None
) -> tuple[str, str]:
    """(base, principal URL): from ``url`` itself, else from /.well-known/caldav (RFC 6764)."""
    if found is not None and found[1]:
        hrefs = found[1][0].hrefs(DAV, "current-user-principal")
        if hrefs:
            return found[0], urljoin(found[0], hrefs[0])
    known = _propfind(client, urljoin(url, "/.well-known/caldav"), "0", _START_PROPS)
    if known is not None and known[1]:
        hrefs = known[1][0].hrefs(DAV, "current-user-principal")
        if hrefs:
            return known[0], urljoin(known[0], hrefs[0])
    raise ConfigurationError(f"{describe(url)}: no CalDAV principal found (RFC 6764)")


def _propfind(
    client: HttpClient, url: str, depth: str, props: list[tuple[str, str]]
) -> tuple[str, list[DavResponse]] | None:
    """(final URL, responses) of a PROPFIND; None where the URL is no WebDAV resource."""
    response = client.request(
        "PROPFIND", url, headers={**XML_HEADERS, "Depth": depth}, body=propfind_body(props)
    )
    if response.status in (404, 405, 501):
        return None
    if response.status != 207:
        raise refusal(response, f"PROPFIND {describe(url)}")
    return response.url, list(read_multistatus(response.body, describe(url)).responses)


def _event_calendars(base: str, items: list[DavResponse]) -> dict[str, tuple[str, set[str]]]:
    """{path: (URL, names)} of the calendars that hold events (RFC 4791 5.2.3: no component
    set means all); an account may name one by display name, path or last path segment."""
    found: dict[str, tuple[str, set[str]]] = {}
    for item in items:
        components = item.components()
        if _CALENDAR not in item.resource_types():
            continue
        if components is not None and "VEVENT" not in components:
            continue
        path = href_path(base, item.href)
        names = {path, path.rstrip("/").rpartition("/")[2]}
        names.add(item.text(DAV, "displayname") or path)
        found[path] = (urljoin(base, item.href), names)
    return found


# -- calendar listing and fetching (RFC 6578 sync-collection, RFC 4791 multiget) ------------

GONE = "gone"  # multiget: the object was deleted after it was listed


def sync_report(client: HttpClient, url: str, token: str | None) -> HttpResponse:
    return client.request(
        # RFC 6578 3.2: defined for Depth 0 only; sync-level says how deep.
        "REPORT",
        url,
        headers={**XML_HEADERS, "Depth": "0"},
        body=sync_collection_body(token),
    )


def list_etags(client: HttpClient, url: str, stream: str) -> dict[str, str]:
    """{href: ETag} of every object in the calendar (PROPFIND Depth 1)."""
    body = propfind_body([(DAV, "getetag"), (DAV, "resourcetype")])
    response = client.request("PROPFIND", url, headers={**XML_HEADERS, "Depth": "1"}, body=body)
    if response.status != 207:
        raise gone_or_refused(stream, response, f"PROPFIND {describe(url)}")
    listed = {
        item.href: item.text(DAV, "getetag") or ""
        for item in read_multistatus(response.body, stream).responses
        if not item.resource_types()
    }
    return {h: listed[h] for h in member_hrefs(url, list(listed)) if listed[h]}


def member_hrefs(url: str, hrefs: list[str]) -> list[str]:
    """Hrefs of objects inside this calendar: not the collection itself, no
    subcollections, nothing elsewhere (a copy's provider id is its path, so a
    confused server must not make one calendar's object look like another's)."""
    own = href_path(url, url)
    inside = [(h, href_path(url, h)) for h in hrefs if not h.endswith("/")]
    return [h for h, path in inside if path.startswith(own) and path != own]


# A fetched object: its calendar data (or why there is none) and its ETag ("" if unsent).
Fetched = tuple[bytes | str, str]


def multiget(client: HttpClient, url: str, stream: str, hrefs: list[str]) -> dict[str, Fetched]:
    """{path: (calendar data or why there is none, ETag)}; halves the request while too large."""
    try:
        response = client.request(
            # RFC 4791 7.9: no Depth header; the hrefs name what is wanted.
            "REPORT",
            url,
            headers=XML_HEADERS,
            body=multiget_body(hrefs),
        )
    except ResponseTooLarge:
        if len(hrefs) == 1:
            return {href_path(url, hrefs[0]): ("ical-too-large", "")}
        half = len(hrefs) // 2
        found = multiget(client, url, stream, hrefs[:half])
        found.update(multiget(client, url, stream, hrefs[half:]))
        return found
    if response.status != 207:
        raise refusal(response, f"REPORT calendar-multiget {describe(url)}")
    found_data: dict[str, Fetched] = {}
    for item in read_multistatus(response.body, stream).responses:
        data = calendar_data(item)
        why = GONE if item.status == 404 else "no-calendar-data"
        etag = item.text(DAV, "getetag") or ""
        found_data[href_path(url, item.href)] = (data if data is not None else why, etag)
    return found_data


def gone_or_refused(stream: str, response: HttpResponse, what: str) -> Exception:
    """A calendar no longer at its URL (deleted, moved) expires the cursors: the agent
    resyncs, which lists the calendars again instead of trusting the kept listing."""
    if response.status in (404, 410):
        return CursorExpired(stream, f"the calendar is gone (HTTP {response.status})")
    return refusal(response, what)
