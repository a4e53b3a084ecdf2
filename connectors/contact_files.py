"""Contact files a CRM exports: CSV with a header row, and vCard 3.0 / 4.0.

Pure parsers: text in, ``Card`` values and ``CardError`` values out, each
with the line it starts on, so a bad row is reported where a person can find
it and never stops the rest. vCards are parsed one ``BEGIN:VCARD`` block at
a time with vobject (RFC 6350 line folding, parameters and escaping), so one
broken card costs only itself.

CSV columns are recognised by their header, in the words Google Contacts,
Outlook and most CRMs export ("E-mail 1 - Value", "Job Title", "Company",
...), or by an explicit mapping of field to header.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import vobject

from connectors.records import normalize_email

# The contact fields a card can set (storage.schema.DERIVED_FIELDS).
CARD_FIELDS = ("name", "given_name", "family_name", "title", "company")
MAX_CARDS = 1_000_000
MAX_FIELD_CHARS = 1000
MAX_EMAILS = 20

# Header words per field, best first: Outlook's "Title" is "Mr."/"Dr." and
# only means the job title when no "Job Title" column exists.
HEADERS: Mapping[str, tuple[str, ...]] = {
    "name": ("name", "full name", "display name", "contact name"),
    "given_name": ("first name", "given name", "firstname"),
    "family_name": ("last name", "family name", "surname", "lastname"),
    "title": ("job title", "title", "position"),
    "company": ("company", "company name", "organization", "organisation", "account name"),
}
_EMAIL_HEADER = re.compile(r"e-?mail(?!.*\b(?:type|label)\b)")
_HEADER_SPACE = re.compile(r"[\s_]+")


@dataclass(frozen=True, slots=True)
class Card:
    """One contact of a file: its addresses (normalized) and the fields it sets."""

    line: int  # where it starts in the file, 1-based
    emails: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]  # (field, value) for the CARD_FIELDS it gives


@dataclass(frozen=True, slots=True)
class CardError:
    line: int
    reason: str  # short and stable: "no-email", "bad-vcard", "bad-email", ...
    detail: str = ""


Read = Card | CardError


def _header(text: str) -> str:
    return _HEADER_SPACE.sub(" ", text.strip().lower().replace("-", " - ")).replace(" - ", " ")


def csv_columns(header: list[str], mapping: Mapping[str, str]) -> dict[str, list[int]]:
    """Which columns hold each field ("email" may be several); ``mapping``: field -> header."""
    names = [_header(h) for h in header]
    columns: dict[str, list[int]] = {}
    for field, wanted in mapping.items():
        columns[field] = [i for i, n in enumerate(names) if n == _header(wanted)]
    if "email" not in columns:
        columns["email"] = [i for i, h in enumerate(header) if _EMAIL_HEADER.search(h.lower())]
    for field, words in HEADERS.items():
        if field in columns:
            continue
        for word in words:
            if word in names:
                columns[field] = [names.index(word)]
                break
    return columns


def read_csv(text: str, mapping: Mapping[str, str] | None = None) -> Iterator[Read]:
    """Cards of a CSV export whose first row names the columns."""
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except (StopIteration, csv.Error):
        yield CardError(1, "no-header", "the file has no header row")
        return
    columns = csv_columns(header, mapping or {})
    if not columns["email"]:
        yield CardError(1, "no-email-column", "no column holds email addresses")
        return
    start = rows.line_num + 1
    while start - 1 <= MAX_CARDS:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            yield CardError(start, "bad-csv", str(exc)[:200])
            return
        if any(cell.strip() for cell in row):
            yield _card(start, columns, row)
        start = rows.line_num + 1


def _card(line: int, columns: Mapping[str, list[int]], row: list[str]) -> Read:
    def cells(field: str) -> list[str]:
        return [row[i].strip() for i in columns.get(field, []) if i < len(row) and row[i].strip()]

    return _checked(line, cells("email"), {f: next(iter(cells(f)), "") for f in CARD_FIELDS})


def _checked(line: int, written: list[str], values: Mapping[str, str]) -> Read:
    emails: list[str] = []
    for value in written:
        # Several in one cell: "a@x; b@y", or Google's "a@x ::: b@y".
        for part in re.split(r"[;,\s]+|:::", value):
            if not part:
                continue
            email = normalize_email(part)
            if not email:
                return CardError(line, "bad-email", f"not an email address: {part[:80]!r}")
            if email not in emails:
                emails.append(email)
    if not emails:
        return CardError(line, "no-email", "no email address")
    if len(emails) > MAX_EMAILS:
        return CardError(line, "too-many-emails", f"{len(emails)} addresses")
    fields = tuple(
        (f, " ".join(v.split())[:MAX_FIELD_CHARS]) for f, v in values.items() if v and v.strip()
    )
    return Card(line, tuple(emails), fields)


_BEGIN = re.compile(r"^BEGIN:VCARD\s*$", re.I | re.M)


def read_vcards(text: str) -> Iterator[Read]:
    """Cards of a vCard 3.0 or 4.0 file (RFC 2426, RFC 6350), one block at a time."""
    starts = [m.start() for m in _BEGIN.finditer(text)][:MAX_CARDS]
    if not starts:
        yield CardError(1, "no-vcard", "no BEGIN:VCARD in the file")
        return
    for n, start in enumerate(starts):
        block = text[start : starts[n + 1] if n + 1 < len(starts) else len(text)]
        line = text.count("\n", 0, start) + 1
        try:
            card = vobject.readOne(block, ignoreUnreadable=False)
        except Exception as exc:  # vobject raises ParseError, ValueError, ... on bad input
            yield CardError(line, "bad-vcard", type(exc).__name__)
            continue
        yield _vcard(line, card)


def _vcard(line: int, card: vobject.base.Component) -> Read:
    contents = card.contents
    emails = [str(e.value) for e in contents.get("email", [])]
    values = {
        "name": _text(contents, "fn"),
        "title": _text(contents, "title"),
        "company": _first(contents, "org"),
    }
    if "n" in contents:
        n = contents["n"][0].value
        values["given_name"] = _joined(getattr(n, "given", ""))
        values["family_name"] = _joined(getattr(n, "family", ""))
    return _checked(line, emails, values)


def _text(contents: Mapping[str, list[vobject.base.ContentLine]], name: str) -> str:
    lines = contents.get(name)
    return str(lines[0].value) if lines and isinstance(lines[0].value, str) else ""


def _first(contents: Mapping[str, list[vobject.base.ContentLine]], name: str) -> str:
    """ORG is "Company;Unit;...": the organisation is its first component."""
    lines = contents.get(name)
    if not lines:
        return ""
    value = lines[0].value
    return _joined(value[:1]) if isinstance(value, list) else str(value)


def _joined(value: object) -> str:
    return " ".join(str(v) for v in value) if isinstance(value, list) else str(value or "")
