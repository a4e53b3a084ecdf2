"""The IMAP cursor: everything of a folder up to one UID, under one UIDVALIDITY.

Backfill runs oldest-first (``connectors.imap.connector``), so this one
high-water mark is the whole state of a folder, with the modification
sequence CONDSTORE reported (RFC 7162) and the UIDs ``verify`` asked to
capture again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connectors.base import CursorExpired
from connectors.records import Cursor


@dataclass(frozen=True, slots=True)
class ImapCursor:
    """Everything in the folder up to ``last_uid`` (under ``uidvalidity``) is captured."""

    uidvalidity: int
    last_uid: int
    highestmodseq: int | None = None
    # UIDs at or below ``last_uid`` that ``verify`` found never captured
    # (``requeue``): the next fetch captures them before anything new.
    refetch: tuple[int, ...] = ()

    def to_cursor(self) -> Cursor:
        cursor: dict[str, Any] = {
            "uidvalidity": self.uidvalidity,
            "last_uid": self.last_uid,
            "highestmodseq": self.highestmodseq,
        }
        if self.refetch:
            cursor["refetch"] = list(self.refetch)
        return cursor

    @classmethod
    def of(cls, cursor: Cursor, stream: str) -> ImapCursor:
        try:
            modseq = cursor.get("highestmodseq")
            return cls(
                int(cursor["uidvalidity"]),
                int(cursor["last_uid"]),
                int(modseq) if modseq is not None else None,
                tuple(sorted({int(u) for u in cursor.get("refetch") or ()})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            # An unreadable cursor is an expired one: the resync is bounded and harmless.
            raise CursorExpired(stream, "unreadable cursor") from exc
