"""What ``status`` and ``verify`` print about health and completeness.

Pure formatting of stored values (``storage.account_state.AccountStatus``,
``storage.health.StreamCheck``); the commands read the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from agent import render
from agent.completeness import VerifyReport, describe_check
from storage.health import StreamCheck


def _minute(when: Any) -> str:
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    if not isinstance(when, datetime):
        return "?"
    return when.strftime("%Y-%m-%d %H:%M UTC")


def health_text(state: str | None, since: datetime | None, detail: dict[str, Any] | None) -> str:
    """One account's state as a line: "backfilling 1200/5000", "failing since ..."."""
    detail = detail or {}
    if state is None:
        return "unknown (no pass since the upgrade)"
    if state == "backfilling":
        return f"backfilling {detail.get('done', 0)}/{detail.get('total', '?')}"
    if state == "throttled":
        return f"throttled until {_minute(detail.get('until'))}"
    if state == "needs_reauth":
        fix, command = detail.get("fix", "sign in again"), detail.get("command", "")
        return (
            f"needs_reauth: {fix}"
            if command in fix
            else f"needs_reauth: {fix}, then run: {command}"
        )
    if state == "failing":  # the last error is the status row's message, beside it
        return f"failing since {_minute(since)}"
    return state


def health_json(
    state: str | None, since: datetime | None, detail: dict[str, Any] | None
) -> dict[str, Any]:
    return {"state": state, "since": since, **(detail or {})}


def completeness_lines(checks: Iterable[StreamCheck]) -> list[str]:
    """Per checked stream: "rep: 12 missing in INBOX since 2026-11-02 (checked ...)"."""
    return [f"{c.account}: {describe_check(c)} (checked {_minute(c.checked_at)})" for c in checks]


def completeness_json(check: StreamCheck) -> dict[str, Any]:
    return {
        "stream": check.stream,
        "checked_at": check.checked_at,
        "since": check.since,
        "listed": check.listed,
        "missing": check.missing,
        "outstanding": check.outstanding,
        "removed": check.removed,
    }


def verify_lines(report: VerifyReport) -> list[str]:
    if report.outcome != "ok":
        return [f"{report.account}: {report.outcome} - {report.message}"]
    lines = [f"{report.account}: {describe_check(c)}" for c in report.streams]
    total = f"{report.missing} missing, {report.removed} removed"
    return [*lines, f"{report.account}: {len(report.streams)} streams checked, {total}"]


def status_json(row: Any, db: Any, checks: list[StreamCheck], backfill_from: Any) -> dict[str, Any]:
    """``status --json``: the stored row, its health, the last checks, recent transitions."""
    return {
        **render.plain(row),
        "backfill_from": backfill_from,
        "health": health_json(row.health, row.health_since, row.health_detail),
        "completeness": [completeness_json(c) for c in checks if c.account == row.name],
        "transitions": [render.plain(t) for t in db.transitions(row.name)[-20:]],
    }
