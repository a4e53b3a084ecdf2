"""WebDAV XML: request bodies parse back to what they ask; responses as Radicale and others send them."""

from __future__ import annotations

import pytest

from connectors.base import InvalidInput
from connectors.caldav.webdav import (
    CALDAV,
    DAV,
    calendar_data,
    clark,
    has_precondition,
    href_path,
    multiget_body,
    parse_multistatus,
    parse_xml,
    propfind_body,
    status_code,
    sync_collection_body,
)

# Recorded from Radicale 3.9: PROPFIND Depth 1 on a calendar home.
HOME_LISTING = b"""<?xml version='1.0' encoding='utf-8'?>
<multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><response><href>/alice/</href>
<propstat><prop><resourcetype><principal /><collection /></resourcetype></prop>
<status>HTTP/1.1 200 OK</status></propstat><propstat><prop><C:supported-calendar-component-set />
<displayname /></prop><status>HTTP/1.1 404 Not Found</status></propstat></response>
<response><href>/alice/cal%20one/</href><propstat><prop><resourcetype><C:calendar /><collection />
</resourcetype><C:supported-calendar-component-set><C:comp name="VTODO" /><C:comp name="VEVENT" />
</C:supported-calendar-component-set><supported-report-set><supported-report><report><sync-collection />
</report></supported-report></supported-report-set><displayname>Work</displayname></prop>
<status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"""

# RFC 6578 section 3.8 style: one changed member, one deleted (404 at response level).
SYNC_REPORT = b"""<?xml version="1.0" encoding="utf-8"?>
<d:multistatus xmlns:d="DAV:"><d:response><d:href>/cal/a.ics</d:href><d:propstat><d:prop>
<d:getetag>"e1"</d:getetag></d:prop><d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>
<d:response><d:href>/cal/b.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>
<d:sync-token>http://example.com/ns/sync/1234</d:sync-token></d:multistatus>"""

MULTIGET = b"""<?xml version="1.0"?><multistatus xmlns="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<response><href>/cal/a.ics</href><propstat><prop><getetag>"e1"</getetag>
<C:calendar-data>BEGIN:VCALENDAR&#13;
END:VCALENDAR&#13;
</C:calendar-data></prop><status>HTTP/1.1 200 OK</status></propstat></response></multistatus>"""


def test_home_listing_gives_types_components_and_names() -> None:
    found = parse_multistatus(HOME_LISTING)
    home, cal = found.responses
    assert home.href == "/alice/" and home.components() is None
    assert home.resource_types() == {clark(DAV, "principal"), clark(DAV, "collection")}
    assert home.text(DAV, "displayname") is None  # 404 propstats are not properties
    assert cal.resource_types() == {clark(CALDAV, "calendar"), clark(DAV, "collection")}
    assert cal.components() == frozenset({"VTODO", "VEVENT"})
    assert cal.text(DAV, "displayname") == "Work"
    assert href_path("http://h:1/", cal.href) == "/alice/cal one/"
    assert found.sync_token is None


def test_sync_report_separates_changes_from_deletions() -> None:
    found = parse_multistatus(SYNC_REPORT)
    assert [(r.href, r.status, r.text(DAV, "getetag")) for r in found.responses] == [
        ("/cal/a.ics", None, '"e1"'),
        ("/cal/b.ics", 404, None),
    ]
    assert found.sync_token == "http://example.com/ns/sync/1234"


def test_multiget_calendar_data_is_bytes_with_crlf() -> None:
    (item,) = parse_multistatus(MULTIGET).responses
    assert calendar_data(item) == b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"


def test_valid_sync_token_precondition_is_read_from_the_body() -> None:
    radicale = b"<?xml version='1.0'?>\n<error xmlns=\"DAV:\"><valid-sync-token /></error>"
    assert has_precondition(radicale, "valid-sync-token")
    assert not has_precondition(
        b"<error xmlns='DAV:'><need-privileges/></error>", "valid-sync-token"
    )
    assert not has_precondition(b"<html>Forbidden</html>", "valid-sync-token")
    assert not has_precondition(b"", "valid-sync-token")


def test_entity_expansion_and_dtds_are_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<multistatus xmlns="DAV:">&lol2;</multistatus>"""
    with pytest.raises(InvalidInput) as caught:
        parse_multistatus(bomb)
    assert caught.value.reason == "xml-forbidden"
    external = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    )
    with pytest.raises(InvalidInput, match="xml-forbidden"):
        parse_xml(external)


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"<multistatus", "bad-xml"), (b"", "bad-xml"), (b"<html/>", "bad-multistatus")],
)
def test_garbage_is_invalid_input(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_multistatus(body)
    assert caught.value.reason == reason


def test_status_lines() -> None:
    assert status_code("HTTP/1.1 404 Not Found") == 404
    assert status_code("HTTP/1.1 two hundred") is None
    assert status_code(None) is None


def test_request_bodies_are_well_formed_and_escaped() -> None:
    sync = parse_xml(sync_collection_body("http://x/sync?a=1&b=<2>"))
    assert sync.findtext(clark(DAV, "sync-token")) == "http://x/sync?a=1&b=<2>"
    assert sync.findtext(clark(DAV, "sync-level")) == "1"
    empty = parse_xml(sync_collection_body(None)).find(clark(DAV, "sync-token"))
    assert empty is not None and empty.text is None
    multiget = parse_xml(multiget_body(["/c/a&b.ics", "/c/x.ics"]))
    assert [h.text for h in multiget.iter(clark(DAV, "href"))] == ["/c/a&b.ics", "/c/x.ics"]
    assert multiget.find(f"{clark(DAV, 'prop')}/{clark(CALDAV, 'calendar-data')}") is not None
    props = parse_xml(propfind_body([(DAV, "getetag"), (CALDAV, "calendar-home-set")]))
    assert [c.tag for c in props.find(clark(DAV, "prop")) or ()] == [
        clark(DAV, "getetag"),
        clark(CALDAV, "calendar-home-set"),
    ]
