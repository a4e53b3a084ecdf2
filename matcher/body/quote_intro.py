"""An attribution in no known language: "DATE NAME <addr>:" right above a quote.

``matcher.body.zone_headers`` knows "On DATE, NAME wrote:" in five languages, but
clients write it in every language the sender uses ("Il giorno ... ha
scritto:", "W dniu ... pisze:") and older Gmail wrote only
"2017-03-16 21:51 GMT+01:00 NAME <addr>:", and Thunderbird in Finnish,
Hungarian or Russian puts the date last ("NAME <addr> kirjoitti 3.3.2026
klo 10.15:"). What they share is the shape: a line (or a line wrapped once)
that ends in ":", names a date or time and an address, and introduces text
one quote level deeper. The shape alone
decides, so a line the sender ends with ":" before a pasted log (no
address) stays the sender's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from connectors.records import Address
from matcher.body.signature_lines import EMAIL

MAX_INTRO_CHARS = 300
_BLANKS_BELOW = 2  # blank lines allowed between the introduction and its quote
_DATED = re.compile(r"\d{1,2}:\d{2}|\b\d{4}\b|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b")
_WORD = re.compile(r"[^\W\d_][\w.'\-]*")


def intro_at(
    lines: Sequence[str], depths: Sequence[int], index: int
) -> tuple[int, Address, str | None] | None:
    """(last line, author, author's name) of the introduction starting at ``index``."""
    joined, last = lines[index].strip(), index
    if not joined.endswith(":") and index + 1 < len(lines) and depths[index + 1] == depths[index]:
        joined, last = f"{joined} {lines[index + 1].strip()}", index + 1
    if len(joined) > MAX_INTRO_CHARS or not joined.endswith(":"):
        return None
    email = EMAIL.search(joined)
    if email is None or not _DATED.search(joined):
        return None
    if not _quote_below(lines, depths, last, depths[index]):
        return None
    name = _name_before(joined[: email.start()])
    author = Address.of(email.group(0), name)
    return (last, author, name) if author is not None else None


def _quote_below(lines: Sequence[str], depths: Sequence[int], last: int, depth: int) -> bool:
    for below in range(last + 1, min(len(lines), last + 2 + _BLANKS_BELOW)):
        if lines[below].strip():
            return depths[below] > depth
    return False


def _name_before(text: str) -> str | None:
    """The capitalised words right before the address, after the date: the
    display name. Anything else there (a verb, a preposition) means the
    name cannot be told apart, and none is better than a wrong one."""
    dates = list(_DATED.finditer(text))
    rest = text[dates[-1].end() :] if dates else text
    words = _WORD.findall(rest.replace("<", " ").replace("[", " "))
    taken: list[str] = []
    for word in reversed(words):
        if not word[0].isupper():
            break
        taken.append(word)
    if not taken or len(taken) > 4:
        return None
    return " ".join(reversed(taken))
