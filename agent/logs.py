"""Log line formats: text for people, JSON for log collectors.

A JSON line carries the record's fields as keys, so a collector (journald's
JSON export, Loki, an ELK pipeline) can filter by account or level without
parsing prose. The message is the one ``agent.redact.RedactingFilter``
already rendered and redacted: this formatter adds no field that could hold
a secret (no args, no exception objects, no environment).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        return json.dumps(line, ensure_ascii=False)


def formatter(kind: str) -> logging.Formatter:
    return JsonLines() if kind == "json" else logging.Formatter(TEXT)
