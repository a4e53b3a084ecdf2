"""What a sync pass needs of the database: ``storage.Database`` satisfies it.

Typed as a Protocol, not as ``Database`` itself, so the sync loop states
exactly which storage calls it depends on, and a test may hand it any
store that keeps the same promises (data and cursor in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

from connectors.records import Held, Inventory
from matcher.plan import Directory, Plan
from storage.apply import ApplyResult
from storage.health import Requeue, StreamCheck

Cursors = dict[str, dict[str, Any]]


class Store(Protocol):
    def hold(self, account: str) -> AbstractContextManager[None]: ...
    def ensure_account(self, name: str, kind: str) -> None: ...
    def load_position(
        self, account: str, stream: str
    ) -> tuple[dict[str, Any] | None, datetime | None]: ...
    def has_cursors(self, account: str) -> bool: ...
    def load_cursors(self, account: str) -> Cursors: ...
    def reset_cursors(self, account: str) -> None: ...
    def directory(self) -> Directory: ...
    def apply(
        self,
        plan: Plan,
        stream: str,
        cursor: Mapping[str, Any] | None,
        window_since: datetime | None = None,
        *,
        held: Sequence[Held] = (),
    ) -> ApplyResult: ...
    def stored_items(self, account: str) -> int: ...
    def completeness(self, account: str | None = None) -> list[StreamCheck]: ...
    def last_checked(self, account: str) -> datetime | None: ...
    def check_stream(
        self, account: str, stream: str, listing: Inventory, requeue: Requeue
    ) -> StreamCheck: ...
    def record_health(self, account: str, state: str, detail: Mapping[str, Any]) -> bool: ...
    def record_success(self, account: str) -> None: ...
    def record_failure(
        self, account: str, state: Literal["error", "needs_reauth"], message: str
    ) -> None: ...
