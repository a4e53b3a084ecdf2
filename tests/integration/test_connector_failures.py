"""Connector failures through the agent: every one is typed, none is "unexpected".

CalDAV accounts against Radicale behind the test proxy, which can answer a
request with a status of the test's choosing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.sync import sync_once
from storage.database import Database, open_database
from tests.admin_config import admin_settings
from tests.servers.radicale import CalendarUser, DavProxy

pytestmark = pytest.mark.server


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def caldav_account(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, user: CalendarUser, url: str, **extra: str
) -> object:
    fields = {
        "kind": "caldav",
        "owner": "rep1@ours.example",
        "url": url,
        "username": user.name,
        "password": user.password,
        "backfill": "30d",
        **extra,
    }
    return admin_settings(tmp_path, monkeypatch, "ours.example", {"cal": fields})


def test_a_403_marks_the_account_error_with_a_permission_message_not_needs_reauth(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    radicale.make_calendar("work")
    dav_proxy.fail_next.append((403, {"Content-Type": "text/plain"}, b"Access denied"))
    settings = caldav_account(tmp_path, monkeypatch, radicale, dav_proxy.url)
    [report] = sync_once(settings, db)
    assert report.outcome == "error"
    assert report.message == (
        f"PROPFIND {dav_proxy.url}: access forbidden (HTTP 403); "
        "the account lacks permission for it"
    )
    assert [(s.name, s.state) for s in db.account_status()] == [("cal", "error")]
    assert "unexpected" not in caplog.text and "Traceback" not in caplog.text


def test_an_unusable_status_is_an_account_error_without_a_traceback(
    radicale: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    radicale.make_calendar("work")
    dav_proxy.fail_next.append((400, {}, b""))
    settings = caldav_account(tmp_path, monkeypatch, radicale, dav_proxy.url)
    [report] = sync_once(settings, db)
    assert (report.outcome, report.message) == (
        "error",
        f"PROPFIND {dav_proxy.url}: unexpected HTTP status 400",
    )
    assert "unexpected failure" not in caplog.text and "Traceback" not in caplog.text
