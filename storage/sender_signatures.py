"""Senders' signature models (``matcher.plan.SenderSignature``), one per mailbox key.

The matcher reads them through ``Directory.sender_signatures`` and returns
the ones a batch taught something in ``Plan.sender_signatures``; ``apply``
writes those in the batch's transaction. A model only replaces one that
learned from older mail (``learned_through``), so a replayed batch, or a
second writer that planned from an older model, never undoes what the
stored one knows.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from matcher.plan import KnownLine, SenderSignature
from storage.bulk import remember, select_in, upsert, usable_email, write_rows
from storage.schema import sender_signatures


def stored_signatures(
    conn: sa.Connection, mailboxes: Collection[str]
) -> dict[str, SenderSignature]:
    t = sender_signatures.c
    rows = select_in(conn, [t.mailbox, t.model], t.mailbox, mailboxes)
    return {r.mailbox: model_of(r.model) for r in rows}


def store_signatures(
    conn: sa.Connection, models: Mapping[str, SenderSignature], now: datetime
) -> None:
    rows = [
        {"mailbox": key, "model": _encoded(m), "learned_through": m.latest, "updated_at": now}
        for key, m in sorted(models.items())
        if m.latest is not None and usable_email(key)
    ]
    if not rows:
        return
    t = sender_signatures
    stmt = upsert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["mailbox"],
        set_={c: stmt.excluded[c] for c in ("model", "learned_through", "updated_at")},
        where=t.c.learned_through < stmt.excluded.learned_through,
    )
    write_rows(conn, stmt, rows)


def _encoded(model: SenderSignature) -> str:
    text = json_of(model)
    remember(_remembered, text, model, MAX_REMEMBERED)
    return text


def json_of(model: SenderSignature) -> str:
    # A message dates every line it ends with: few distinct times per model.
    iso = {when: when.isoformat() for k in model.lines for when in (k.first, k.last)}
    lines = [[k.text, k.seen, iso[k.first], iso[k.last]] for k in model.lines]
    latest = model.latest.isoformat() if model.latest is not None else None
    return json.dumps({"messages": model.messages, "latest": latest, "lines": lines})


# A model is read by every batch with mail of its sender, and mostly finds the
# text this process wrote one batch before: the value it encoded is kept by its
# text (models are immutable, so sharing one is safe). A text from elsewhere
# (another agent, an older batch) is simply not found and is decoded.
MAX_REMEMBERED = 1024
_remembered: dict[str, SenderSignature] = {}


def model_of(text: str) -> SenderSignature:
    known = _remembered.get(text)
    if known is not None:
        return known
    return remember(_remembered, text, _decoded(text), MAX_REMEMBERED)


def _decoded(text: str) -> SenderSignature:
    data: dict[str, Any] = json.loads(text)
    when = {t: datetime.fromisoformat(t) for _, _, *times in data["lines"] for t in times}
    lines = tuple(
        KnownLine(line, int(seen), when[first], when[last])
        for line, seen, first, last in data["lines"]
    )
    latest = data.get("latest")
    return SenderSignature(
        lines, int(data["messages"]), datetime.fromisoformat(latest) if latest else None
    )
