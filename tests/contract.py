"""The one contract every connector passes (docs/ARCHITECTURE.md, "The Connector protocol").

A connector's test module subclasses ``ConnectorContract`` and supplies one
fixture, ``harness``, returning an object with these hooks (see
``ContractHarness``)::

    class TestImapContract(ConnectorContract):
        @pytest.fixture
        def harness(self, dovecot): return ImapHarness(dovecot)

Hooks:

``stream``
    The stream name under test; must be one of ``make_connector().streams()``.
``make_connector() -> Connector``
    A fresh connector on the source. The suite builds a new one to replay a
    cursor, so everything the connector needs to resume must be in the cursor
    (the agent restarts between polls). The suite closes what it makes.
``add_item(n) -> str``
    Adds the n-th good item at the source (``n`` counts up from 0 and is
    unique within a test: use it for distinct ids and subjects) and returns
    the ``identity`` of the one record it must produce (``Message.identity``
    or ``Meeting.identity``). Items must lie inside the connector's window.
``add_bad_item() -> str``
    Adds one item the connector cannot parse and returns the ``reason`` of
    the ``IngestError`` it must produce (e.g. "header-too-large", "bad-ical").
``remove_item(n)``
    Deletes the n-th item added by ``add_item`` at the source, the way a user
    deletes a message or cancels an event by deleting it. A source whose
    connector cannot see deletions calls ``pytest.skip`` here with the reason.
``expire_cursor(cursor) -> Cursor``
    Makes ``cursor`` invalid the way the source does in life (IMAP
    UIDVALIDITY change, CalDAV token the server forgot, an archive file
    rewritten) and returns the cursor to present; usually ``cursor`` itself.

Class attributes a subclass may override: ``initial_items`` (how many items
exist before the first fetch) and ``batch_limit`` (the ``limit`` passed to
``fetch``; small, so that paging with ``has_more`` is exercised).

Every cursor passes through a JSON round trip before it is presented again,
because that is how the agent stores it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from connectors.base import Connector, CursorExpired
from connectors.records import Batch, Cursor, IngestError, Record, SourceRef

# A source that keeps returning has_more would hang the suite; no test here
# needs more batches than this.
MAX_BATCHES = 200


class ContractHarness(Protocol):
    stream: str

    def make_connector(self) -> Connector: ...

    def add_item(self, n: int) -> str: ...

    def add_bad_item(self) -> str: ...

    def remove_item(self, n: int) -> None: ...

    def expire_cursor(self, cursor: Cursor) -> Cursor: ...


@dataclass
class Drained:
    """Everything one drain (fetch while has_more) returned."""

    records: list[Record] = field(default_factory=list)
    errors: list[IngestError] = field(default_factory=list)
    removed: list[SourceRef] = field(default_factory=list)
    cursors: list[Cursor] = field(default_factory=list)  # next_cursor of each batch
    batch_ends: list[int] = field(default_factory=list)  # len(records) after each batch

    @property
    def identities(self) -> list[str]:
        return sorted(r.identity for r in self.records)

    @property
    def cursor(self) -> Cursor | None:
        return self.cursors[-1] if self.cursors else None


def stored(cursor: Cursor | None) -> Cursor | None:
    """The cursor as the agent hands it back after storing it as JSON."""
    if cursor is None:
        return None
    loaded = json.loads(json.dumps(cursor))
    assert isinstance(loaded, dict), "a cursor must be a JSON object"
    return loaded


def drain(connector: Connector, stream: str, cursor: Cursor | None, limit: int) -> Drained:
    out = Drained()
    for _ in range(MAX_BATCHES):
        batch = connector.fetch(stream, stored(cursor), limit)
        check_batch(batch, stream, limit)
        out.records.extend(batch.records)
        out.errors.extend(batch.errors)
        out.removed.extend(batch.removed)
        out.cursors.append(batch.next_cursor)
        out.batch_ends.append(len(out.records))
        cursor = batch.next_cursor
        if not batch.has_more:
            return out
    raise AssertionError(f"still has_more after {MAX_BATCHES} batches")


def check_batch(batch: Batch, stream: str, limit: int) -> None:
    assert isinstance(batch, Batch)
    assert len(batch.records) <= limit, "a batch holds at most `limit` records"
    for record in batch.records:
        assert record.source.stream == stream
    for error in batch.errors:
        assert error.source.stream == stream
        assert error.reason and " " not in error.reason, "reasons are short stable tokens"
    for ref in batch.removed:
        assert ref.stream == stream


class ConnectorContract:
    initial_items = 5
    batch_limit = 2

    @pytest.fixture
    def connector(self, harness: ContractHarness) -> Iterator[Connector]:
        made = harness.make_connector()
        try:
            yield made
        finally:
            made.close()

    def replay(self, harness: ContractHarness, cursor: Cursor | None) -> Drained:
        """Drain from ``cursor`` with a fresh connector, as after an agent restart."""
        fresh = harness.make_connector()
        try:
            return drain(fresh, harness.stream, cursor, self.batch_limit)
        finally:
            fresh.close()

    def populate(self, harness: ContractHarness) -> list[str]:
        return sorted(harness.add_item(n) for n in range(self.initial_items))

    def test_stream_is_listed(self, harness: ContractHarness, connector: Connector) -> None:
        assert harness.stream in connector.streams()
        assert isinstance(connector.kind, str) and connector.kind

    def test_first_fetch_returns_every_item_once(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        expected = self.populate(harness)
        got = drain(connector, harness.stream, None, self.batch_limit)
        assert got.identities == expected
        assert got.errors == []

    def test_replaying_the_cursor_returns_nothing(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        self.populate(harness)
        first = drain(connector, harness.stream, None, self.batch_limit)
        again = self.replay(harness, first.cursor)
        assert again.records == []
        assert again.errors == []

    def test_every_intermediate_cursor_resumes_exactly(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        # A crash after committing batch k resumes from cursor k: the items
        # after it must come back exactly once, the ones before never.
        expected = self.populate(harness)
        first = drain(connector, harness.stream, None, self.batch_limit)
        assert first.identities == expected
        for k, cursor in enumerate(first.cursors):
            before = self.replay(harness, cursor)
            seen = [r.identity for r in first.records[: first.batch_ends[k]]]
            assert sorted(seen + before.identities) == expected, f"resuming from cursor {k}"

    def test_new_item_appears_exactly_once(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        self.populate(harness)
        first = drain(connector, harness.stream, None, self.batch_limit)
        new_identity = harness.add_item(self.initial_items)
        second = self.replay(harness, first.cursor)
        assert second.identities == [new_identity]
        assert second.errors == []
        third = self.replay(harness, second.cursor)
        assert third.records == []

    def test_removed_item_is_reported_once(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        identities = [harness.add_item(n) for n in range(self.initial_items)]
        first = drain(connector, harness.stream, None, self.batch_limit)
        assert first.removed == []
        copies = sorted(
            (r.source for r in first.records if r.identity == identities[0]),
            key=lambda ref: ref.provider_id,
        )
        assert copies, "the item to remove was captured"
        harness.remove_item(0)
        second = self.replay(harness, first.cursor)
        # Every copy the item produced, each once, so storage can mark it
        # removed; nothing else comes back.
        assert sorted(second.removed, key=lambda ref: ref.provider_id) == copies
        assert second.records == [] and second.errors == []
        third = self.replay(harness, second.cursor)
        assert third.removed == [] and third.records == [] and third.errors == []

    def test_expired_cursor_raises(self, harness: ContractHarness, connector: Connector) -> None:
        self.populate(harness)
        first = drain(connector, harness.stream, None, self.batch_limit)
        assert first.cursor is not None
        expired = harness.expire_cursor(first.cursor)
        fresh = harness.make_connector()
        try:
            with pytest.raises(CursorExpired) as caught:
                fresh.fetch(harness.stream, stored(expired), self.batch_limit)
        finally:
            fresh.close()
        assert caught.value.stream == harness.stream

    def test_bad_item_becomes_an_error_between_good_items(
        self, harness: ContractHarness, connector: Connector
    ) -> None:
        before = harness.add_item(0)
        reason = harness.add_bad_item()
        after = harness.add_item(1)
        got = drain(connector, harness.stream, None, self.batch_limit)
        assert got.identities == sorted([before, after])
        assert [e.reason for e in got.errors] == [reason]
        # The bad item is behind the cursor now: it is not reported again.
        again = self.replay(harness, got.cursor)
        assert again.records == [] and again.errors == []
