"""The account health state machine, one transition per test, against real servers.

Each test drives an account through real Dovecot or Radicale (the latter
behind a proxy that can answer 429 or 500 for the server) and asserts the
exact stored state, its detail, and the transitions recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.health_view import health_text
from agent.sync import sync_account, sync_once
from storage.database import Database
from tests.health_accounts import caldav_settings
from tests.imap_mailbox import load, settings_for
from tests.servers.dovecot import MailUser
from tests.servers.radicale import CalendarUser, DavProxy, ics_event

pytestmark = pytest.mark.server


def moves(db: Database, account: str) -> list[tuple[str | None, str, dict[str, object] | None]]:
    return [(t.from_state, t.to_state, t.detail) for t in db.transitions(account)]


def health(db: Database, account: str) -> tuple[str | None, dict[str, object] | None]:
    (row,) = [r for r in db.account_status() if r.name == account]
    return row.health, row.health_detail


def test_a_first_sync_is_backfilling_with_progress_then_live(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)  # INBOX 4 messages, Sent 1; batch_size 2
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    (report,) = sync_once(settings, db)
    assert (report.outcome, report.records) == ("ok", 5)
    # INBOX's first batch: 2 stored, 2 said to remain; the state then only
    # updates its detail (2 more, and Sent's one) until the pass ends.
    assert moves(db, "rep") == [
        (None, "backfilling", {"done": 2, "total": 4}),
        ("backfilling", "live", {}),
    ]
    assert health(db, "rep") == ("live", {})
    (idle,) = sync_once(settings, db)
    assert idle.outcome == "ok"
    assert len(moves(db, "rep")) == 2  # live again: no transition


def test_refused_credentials_are_needs_reauth_with_the_command_then_live_once_fixed(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)
    wrong = "wrong-" + dovecot.password
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, wrong)})
    (report,) = sync_once(settings, db)
    assert report.outcome == "needs_reauth"
    (secret,) = settings.account("rep").secrets().values()
    detail = {
        "command": "autocapture sync --account rep",
        "fix": f"store new credentials in password ({secret.reference})",
    }
    assert health(db, "rep") == ("needs_reauth", detail)
    assert moves(db, "rep") == [(None, "needs_reauth", detail)]
    (row,) = db.account_status()
    assert health_text(row.health, row.health_since, row.health_detail) == (
        f"needs_reauth: store new credentials in password ({secret.reference}), "
        "then run: autocapture sync --account rep"
    )
    assert wrong not in str(moves(db, "rep"))

    fixed = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    (again,) = sync_once(fixed, db)
    assert again.outcome == "ok"
    assert [m[:2] for m in moves(db, "rep")] == [
        (None, "needs_reauth"),
        ("needs_reauth", "backfilling"),
        ("backfilling", "live"),
    ]


def test_a_disabled_account_is_disabled(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    off = settings.model_copy(
        update={"accounts": (settings.account("rep").model_copy(update={"enabled": False}),)}
    )
    assert sync_once(off, db) == []
    assert health(db, "rep") == ("disabled", {})
    assert moves(db, "rep") == [(None, "disabled", {})]


@pytest.fixture
def calendar(radicale: CalendarUser) -> CalendarUser:
    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y%m%dT100000Z")
    radicale.make_calendar("work")
    radicale.put("work", "a.ics", ics_event("a@ours", soon, summary="Kickoff"))
    return radicale


def test_a_retry_after_beyond_the_pass_is_throttled_until_then_live(
    calendar: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = caldav_settings(tmp_path, monkeypatch, calendar, dav_proxy.url)
    account = settings.account("rep1")
    assert sync_account(settings, account, db).outcome == "ok"
    dav_proxy.fail_next = [(429, {"Retry-After": "3600"}, b"")]
    now = datetime.now(UTC)
    report = sync_account(settings, account, db, now=now)
    assert (report.outcome, report.retry_after) == ("error", 3600.0)
    state, detail = health(db, "rep1")
    assert (state, detail and detail["until"]) == (
        "throttled",
        (now + timedelta(hours=1)).isoformat(),
    )
    assert sync_account(settings, account, db).outcome == "ok"
    assert [m[:2] for m in moves(db, "rep1")] == [
        (None, "live"),
        ("live", "throttled"),
        ("throttled", "live"),
    ]


def test_repeated_failures_stay_failing_since_the_first_with_the_last_error(
    calendar: CalendarUser,
    dav_proxy: DavProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = caldav_settings(tmp_path, monkeypatch, calendar, dav_proxy.url)
    account = settings.account("rep1")
    sync_account(settings, account, db)
    # Every try of the pass (the client's and the agent's) meets a 500.
    dav_proxy.fail_next = [(500, {"Retry-After": "0"}, b"")] * 8
    assert sync_account(settings, account, db).outcome == "error"
    (first,) = [r for r in db.account_status() if r.name == "rep1"]
    assert first.health == "failing"
    assert first.health_detail == {"last_error": first.message}
    assert first.message is not None and first.message.endswith(": HTTP 500")
    dav_proxy.fail_next = [(503, {"Retry-After": "0"}, b"")] * 8
    assert sync_account(settings, account, db).outcome == "error"
    (second,) = [r for r in db.account_status() if r.name == "rep1"]
    assert second.health_since == first.health_since  # failing since the first failure
    assert second.health_detail == {"last_error": second.message}
    assert second.message is not None and second.message.endswith(": HTTP 503")
    assert [m[:2] for m in moves(db, "rep1")] == [(None, "live"), ("live", "failing")]
    assert sync_account(settings, account, db).outcome == "ok"
    assert [m[:2] for m in moves(db, "rep1")][-1] == ("failing", "live")
