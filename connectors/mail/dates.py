"""Date header fields (RFC 5322 3.3) as UTC datetimes, for every connector that reads mail."""

from __future__ import annotations

import email.utils
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

# The form RFC 5322 3.3 prescribes, which nearly every Date takes: read here
# exactly as email.utils reads it, without its search for other layouts.
_MONTHS = {"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6}
_MONTHS |= {"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12}
_RFC5322_DATE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{1,2}) "
    rf"({'|'.join(_MONTHS)}) ([0-9]{{4}}) ([0-9]{{2}}):([0-9]{{2}}):([0-9]{{2}}) ([+-][0-9]{{4}})"
)


def _parsedate(value: str) -> datetime:
    """``email.utils.parsedate_to_datetime``, raising what it raises."""
    match = _RFC5322_DATE.fullmatch(value)
    if match is None or match[3] < "0100":  # two-digit years have rules of their own
        return email.utils.parsedate_to_datetime(value)
    day, month, year, hour, minute, second, zone = match.groups()
    when = (int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second))
    offset = int(zone)
    if offset == 0 and zone[0] == "-":
        return datetime(*when)  # "-0000": no zone known
    minutes = abs(offset) // 100 * 60 + abs(offset) % 100  # "+0575" is 6:15 there too
    return datetime(*when, tzinfo=timezone(timedelta(minutes=minutes if offset > 0 else -minutes)))


# Some generators (ticketing systems, scripts) write ISO 8601 / RFC 3339
# instead of RFC 5322's form; email.utils cannot read it. Taken only with an
# explicit offset: a bare local time there leaves the zone to guess.
_ISO_DATE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:?[0-9]{2})"
)


def mail_date(value: str | None) -> datetime | None:
    """A Date header as a UTC datetime; None when absent or unreadable."""
    if not value:
        return None
    parsed: datetime | None
    try:
        parsed = _parsedate(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        parsed = _iso_date(value)
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" or no zone: RFC 5322 3.3 says UTC is the best guess
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _iso_date(value: str) -> datetime | None:
    iso = _ISO_DATE.fullmatch(value.strip().upper())
    try:
        return datetime.fromisoformat(iso[0]) if iso else None
    except ValueError:  # "2026-02-30", an offset of 24 hours
        return None


@dataclass(frozen=True, slots=True)
class Dated:
    """A source's own date for an item: ``origin`` names it in the ingest note."""

    when: datetime
    origin: str  # "server" (IMAP INTERNALDATE), "mbox-envelope", "file" (modification time)


# A source's own date, or how to work it out: most mail has a Date field, so
# reading an mbox "From " line's asctime for every message would be wasted.
DateFallback = Dated | Callable[[], Dated | None] | None

_ORIGINS = {
    "server": "the server's arrival time (INTERNALDATE)",
    "mbox-envelope": "the mbox From line",
    "file": "the file's modification time",
}


def received_date(values: Iterable[str]) -> datetime | None:
    """The date of the newest Received field that has a readable one.

    Each relay prepends its Received field (RFC 5321 4.4), so the first is
    the newest: the one our own server added, and the hardest to forge. Its
    date follows the last ";".
    """
    for value in values:
        when = mail_date(value.rpartition(";")[2].strip())
        if when is not None:
            return when
    return None


def message_date(
    fields: Sequence[tuple[str, str]], fallback: DateFallback
) -> tuple[datetime | None, list[tuple[str, str]]]:
    """One rule for every connector and for ``inspect``: the Date field, else the
    newest Received date, else the source's own date (``fallback``). A date
    not taken from the Date field comes with a note naming where it came from."""
    header = next((value for name, value in fields if name == "date"), None)
    date = mail_date(header)
    if date is not None:
        return date, []
    why = "no Date header" if header is None else f"unreadable Date header {header[:60]!r}"
    received = received_date(value for name, value in fields if name == "received")
    if received is not None:
        return received, [("date-from-received", f"{why}; dated by the newest Received header")]
    if callable(fallback):
        fallback = fallback()
    if fallback is not None:
        by = _ORIGINS.get(fallback.origin, fallback.origin)
        return fallback.when, [(f"date-from-{fallback.origin}", f"{why}; dated by {by}")]
    return None, []
