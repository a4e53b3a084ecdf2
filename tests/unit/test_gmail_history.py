"""Gmail history records folded into fetches and removals; the quota pace; the search query."""

from __future__ import annotations

from typing import Any

from connectors.google.gmail_mail import HistoryFold, search_query
from connectors.google.session import QuotaPace

SKIP = frozenset({"SPAM", "TRASH", "DRAFT", "CHAT"})


def record(n: int, kind: str, msg: str, labels: list[str], changed: list[str] | None = None) -> Any:
    entry: dict[str, Any] = {"message": {"id": msg, "threadId": msg, "labelIds": labels}}
    if changed is not None:
        entry["labelIds"] = changed
    return {"id": str(n), "messages": [{"id": msg}], kind: [entry]}


def test_added_deleted_trashed_and_restored_mail_in_record_order() -> None:
    fold = HistoryFold(SKIP)
    for r in [
        record(10, "messagesAdded", "a1", ["INBOX"]),
        record(11, "messagesAdded", "b2", ["SPAM"]),  # straight to spam: never fetched
        record(12, "messagesAdded", "c3", ["DRAFT"]),
        record(13, "messagesAdded", "d4", ["INBOX"]),
        record(14, "labelsAdded", "d4", ["INBOX", "TRASH"], ["TRASH"]),
        record(15, "labelsRemoved", "e5", ["INBOX"], ["TRASH"]),  # out of the trash
        record(16, "messagesDeleted", "f6", []),
        record(17, "labelsRemoved", "a1", [], ["UNREAD"]),  # read: nothing to do
        record(18, "labelsAdded", "g7", ["INBOX", "SPAM", "UNREAD"], ["SPAM"]),
        record(19, "labelsRemoved", "g7", ["TRASH"], ["SPAM"]),  # spam -> trash: still gone
    ]:
        fold.add(r)
    assert list(fold.fetch) == ["a1", "e5"]
    assert list(fold.gone) == ["d4", "f6", "g7"]
    assert fold.last_id == "19"


def test_a_message_added_then_deleted_in_one_span_is_only_removed() -> None:
    fold = HistoryFold(SKIP)
    fold.add(record(20, "messagesAdded", "a1", ["INBOX"]))
    fold.add(record(21, "messagesDeleted", "a1", []))
    assert (list(fold.fetch), list(fold.gone)) == ([], ["a1"])


def test_the_listing_query_leaves_skipped_labels_out_by_gmail_search_names() -> None:
    assert search_query(
        1_790_000_000, ["DRAFT", "CHAT", "SPAM", "CATEGORY_PROMOTIONS", "Bank mail"]
    ) == ("after:1790000000 -in:drafts -in:chats -category:promotions -label:bank-mail")


def test_the_pace_lets_a_burst_through_then_spends_at_its_rate() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pace = QuotaPace(90.0, 250.0, clock=lambda: now[0], sleep=sleep)
    pace.take(250)  # one batch of 50 messages.get: within the burst
    assert slept == []
    pace.take(45)  # nothing left: half a second at 90 units/s
    assert slept == [0.5]
    now[0] += 10.0  # idle: the bucket refills to the burst, no further
    pace.take(250)
    assert slept == [0.5]
