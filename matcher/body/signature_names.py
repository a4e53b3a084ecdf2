"""Whose name a signature line is: the author's, a recipient's, or someone else's.

A block's name line is only the author's when it can be: a line that merely
names whom the text is addressed to greets them ("Sam Reed,"), and a name
that shares nothing with the author's display name or mailbox belongs to
someone else (an assistant's note, a colleague's pasted signature). Names
compare folded to ASCII letters, so "Renée Dubois," matches renee.dubois@.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from connectors.records import Address
from matcher.remembered import remembered

_FIRST_LAST = re.compile(r"[a-z]{2,}[._\-][a-z]{2,}")


def folded(text: str) -> str:
    """Lower-case ASCII letters and spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if "a" <= c <= "z" or c == " ")


# Every message's recipients are compacted; the same names recur all the time.
@remembered(maxsize=8192, chars=256)
def compact_name(text: str) -> str:
    """``folded`` without spaces: how a recipient's name is recognised on a line."""
    return "".join(folded(text).split())


def addressed_names(people: Iterable[tuple[str, Address]]) -> frozenset[str]:
    """The compact names of the people (role, address) a message or quoted
    header is addressed to: their names on a line greet them, never sign."""
    return frozenset(
        name
        for role, address in people
        if role in ("to", "cc", "bcc") and address.name
        for name in [compact_name(address.name)]
        if len(name) > 2
    )


def agrees(name: str, author: Address | None, author_name: str | None) -> bool:
    """Whether a signature's name can be the author's: it shares a word with
    their display name or their mailbox ("novak" in jnovak@, or initials).

    An author with neither a display name nor a first.last mailbox gives
    nothing to compare, and any name agrees.
    """
    display = author_name or (author.name if author is not None else None)
    shown = {w for w in folded(display or "").split() if len(w) > 1}
    local = author.local.lower() if author is not None else ""
    if not shown and not _FIRST_LAST.fullmatch(local):
        return True
    words = [w for w in folded(name).split() if len(w) > 1]
    mailbox = compact_name(re.sub(r"[._\-+]", " ", local))
    initials = "".join(w[0] for w in words)
    return bool(
        shown.intersection(words)
        or any(len(w) >= 3 and w in mailbox for w in words)
        or (len(mailbox) > 1 and mailbox == initials)
    )
