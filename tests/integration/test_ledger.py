"""The completeness ledger in storage, on SQLite and PostgreSQL: what a check calls
missing and gone, which copies it removes, and the cursor it leaves for the next poll."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from connectors.records import Held, Inventory
from matcher.plan import Plan
from storage.database import Database
from tests.plans import mail

SINCE = datetime(2026, 10, 1, tzinfo=UTC)
CURSOR = {"uidvalidity": 7, "last_uid": 4, "highestmodseq": None}


def requeued(cursor: dict[str, Any], items: list[str]) -> dict[str, Any]:
    return {**cursor, "refetch": items}


def test_missing_gone_and_a_copy_another_item_still_holds(db: Database) -> None:
    # UIDs 1 and 2 are one message appended twice (one copy); 3 was blocked (no copy);
    # 4 is another message.
    plan = Plan("alice", (mail("a@x", provider_id="INBOX/a"), mail("b@x", provider_id="INBOX/b")))
    held = [
        Held("1", "7", ("INBOX/a",)),
        Held("2", "7", ("INBOX/a",)),
        Held("3", "7", ()),
        Held("4", "7", ("INBOX/b",)),
    ]
    db.apply(plan, "INBOX", CURSOR, SINCE, held=held)

    # The provider lists 1, 3 and 5 in the window (5 never read); 2 and 4 are gone.
    listing = Inventory({"1": "7", "3": "7", "5": "7"}, frozenset({"1", "3", "5"}), SINCE)
    check = db.check_stream("alice", "INBOX", listing, requeued)
    assert (check.listed, check.missing, check.outstanding, check.removed) == (3, 1, 1, 1)
    assert db.load_cursor("alice", "INBOX") == {**CURSOR, "refetch": ["5"]}
    views = {v.identity: (v.status, [s.removed for s in v.sources]) for v in db.list_interactions()}
    # a@x is still held by UID 1: not removed; b@x's only item is gone.
    assert views == {"msgid:a@x": ("received", [False]), "msgid:b@x": ("removed", [True])}

    # The next poll reads UID 5: the check's finding is closed.
    db.apply(
        Plan("alice", (mail("c@x", provider_id="INBOX/c"),)),
        "INBOX",
        CURSOR,
        SINCE,
        held=[Held("5", "7", ("INBOX/c",))],
    )
    (stored,) = db.completeness("alice")
    assert (stored.missing, stored.outstanding) == (1, 0)
    again = db.check_stream("alice", "INBOX", listing, requeued)
    assert (again.missing, again.removed) == (0, 0)


def test_a_changed_version_is_missing_and_a_listing_that_cannot_judge_removes_nothing(
    db: Database,
) -> None:
    plan = Plan("alice", (mail("m@x", provider_id="/cal/m.ics", stream="/cal/"),))
    db.apply(
        plan, "/cal/", {"mode": "sync"}, SINCE, held=[Held("/cal/m.ics", '"e1"', ("/cal/m.ics",))]
    )
    changed = Inventory({"/cal/m.ics": '"e2"'}, None, SINCE)
    check = db.check_stream("alice", "/cal/", changed, requeued)
    assert (check.missing, check.removed) == (1, 0)
    empty = db.check_stream("alice", "/cal/", Inventory({}, None, SINCE), requeued)
    assert (empty.listed, empty.missing, empty.removed) == (0, 0, 0)
    assert [v.status for v in db.list_interactions()] == ["received"]


def test_a_resync_forgets_the_ledger_and_transitions_are_kept_in_order(db: Database) -> None:
    db.apply(
        Plan("alice", (mail("a@x", provider_id="INBOX/a"),)),
        "INBOX",
        CURSOR,
        SINCE,
        held=[Held("1", "7", ("INBOX/a",))],
    )
    db.reset_cursors("alice")
    check = db.check_stream("alice", "INBOX", Inventory({"1": "8"}, None, SINCE), requeued)
    assert (check.missing, db.load_cursor("alice", "INBOX")) == (1, None)  # no cursor to queue in
    assert db.record_health("alice", "backfilling", {"done": 1, "total": 3}) is True
    assert db.record_health("alice", "backfilling", {"done": 2, "total": 3}) is False
    assert db.record_health("alice", "live", {}) is True
    assert [(t.from_state, t.to_state, t.detail) for t in db.transitions("alice")] == [
        (None, "backfilling", {"done": 1, "total": 3}),
        ("backfilling", "live", {}),
    ]
    (row,) = db.account_status()
    assert (row.health, row.health_detail) == ("live", {})
