"""Printing for the CLI: aligned text for people, one JSON object per line for scripts."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO


def plain(value: Any) -> Any:
    """A JSON-ready copy of dataclasses, datetimes, paths and containers."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    return value


def json_lines(rows: Iterable[Any], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    for row in rows:
        out.write(json.dumps(plain(row), ensure_ascii=False, sort_keys=True) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    return " ".join(str(value).split())


def table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str],
    out: TextIO | None = None,
    max_width: int = 48,
    whole: Collection[str] = (),
) -> None:
    """Aligned columns; a cell wider than ``max_width`` is shortened with an ellipsis,
    except in the ``whole`` columns (paths and ids that must stay usable)."""
    out = out or sys.stdout
    cells = [
        [cell(row.get(c)) if c in whole else _fit(cell(row.get(c)), max_width) for c in columns]
        for row in rows
    ]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out.write(
        "  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n"
    )
    for r in cells:
        out.write("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() + "\n")
    if not rows:
        out.write("(none)\n")


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def records(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [plain(r) if not isinstance(r, Mapping) else dict(r) for r in rows]
