"""What a sync pass needs of the database: ``storage.Database`` satisfies it.

Typed as a Protocol, not as ``Database`` itself, so the sync loop states
exactly which storage calls it depends on, and a test may hand it any
store that keeps the same promises (data and cursor in one transaction).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Literal, Protocol

from matcher.plan import Directory, Plan
from storage.apply import ApplyResult

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
    ) -> ApplyResult: ...
    def record_success(self, account: str) -> None: ...
    def record_failure(
        self, account: str, state: Literal["error", "needs_reauth"], message: str
    ) -> None: ...
