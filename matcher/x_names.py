"""Display names from the X-From, X-To and X-cc fields of the Enron corpus.

The Enron corpus (CMU's release, the most used public mail corpus) was
converted from Lotus Notes and Outlook stores: its From, To and Cc hold bare
addresses ("tim.belden@enron.com") and the names people saw are in X-From,
X-To and X-cc, in the same order ("Tim Belden", "John J Lavorato <John J
Lavorato/ENRON@enronXgate@ENRON>", "Allen, Phillip K. </O=ENRON/OU=NA/
CN=RECIPIENTS/CN=PALLEN>"). A bare address takes the name at its position,
and only when the X field names exactly as many people as its address field
holds, split at its commas or, for "Last, First <route>" names, at its
routes; the corpus cut long X-To fields short, and then a name is taken only
where it is in its mailbox. A name never lands on another person's address.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from connectors.records import Address, normalize_email
from matcher.body.signature_names import folded

# The address field each X field names, by header name.
X_FIELDS = {"from": "x-from", "to": "x-to", "cc": "x-cc"}
MAX_X_CHARS = 20_000  # a distribution list's X-To is as long as its To: past this, not read
_ROUTE = re.compile(r"<[^<>]*>")
_QUOTES = " \t\"'"
_ORG_SUFFIX = re.compile(r"@[A-Za-z][\w\-]*$")


def x_names(value: str, count: int) -> list[str | None]:
    """The ``count`` names of an X field in order (None where an entry is an
    address, not a name); [] when the field does not name ``count`` people."""
    return _counted(*_entries(value), count)


def _counted(plain: list[str], routed: list[str], count: int) -> list[str | None]:
    # Where routes close the entries they are the surer split: "Lavorato, John
    # <...>" is one name even when the field also has two commas' worth.
    # Split at every comma only where each routed piece is a whole name ("John
    # J Lavorato <...>"), not the given name of "Lavorato, John <...>".
    whole = all(len(_ROUTE.sub(" ", p).split()) > 1 for p in plain if "<" in p)
    entries = routed if len(routed) == count or not whole else plain
    return [_name(e) for e in entries] if len(entries) == count else []


def _entries(value: str) -> tuple[list[str], list[str]]:
    """The field's entries split at every comma, and split where Notes routes
    close them ("Lavorato, John <...>" is one name with its comma; a piece
    without a route after the last one is a name of its own)."""
    if len(value) > MAX_X_CHARS or not value.strip():
        return [], []
    pieces = value.split(",")
    if "<" not in value:
        return pieces, pieces
    entries: list[str] = []
    pending: list[str] = []
    for piece in pieces:
        pending.append(piece)
        if ">" in piece:
            entries.append(",".join(pending))
            pending = []
    return pieces, entries + pending


def _name(entry: str) -> str | None:
    # Outlook wrote some names quoted twice, escapes kept: "\"Vavrek, Carolyn\" ".
    text = " ".join(_ROUTE.sub(" ", entry).replace("\\", " ").replace('"', " ").split())
    # Exchange wrote a contact's organisation after an "@": "'Amirault, Paul@AEC'".
    text = _ORG_SUFFIX.sub("", text.strip(_QUOTES)).strip(_QUOTES)
    if not text or "@" in text or "<" in text or ">" in text or not any(c.isalpha() for c in text):
        return None
    return text


def named(addresses: Sequence[Address], value: str) -> list[Address]:
    """``addresses`` with each nameless one named from the X field ``value``: by
    the address an entry's route holds ("Terri Agold <jima@jatent.com>"), else
    at its position: every one when the field names as many people; otherwise
    (the corpus cut long X-To fields short, and some name more people than
    their field holds) only where the mailbox spells the name (``_in_mailbox``)."""
    plain, routed = _entries(value)
    names = _counted(plain, routed, len(addresses))
    checked = not names
    if checked:
        # The last entry of a field cut short may be cut too ("Linda S Br").
        names = [_name(e) for e in (routed if "<" in value else plain)[:-1]]
    by_route = _routed_names(routed) if "@" in value else {}
    out = []
    for index, address in enumerate(addresses):
        name = by_route.get(address.email)
        if name is None:
            name = names[index] if index < len(names) else None
            if name is not None and checked and not _in_mailbox(name, address):
                name = None
        if address.name or name is None:
            out.append(address)
        else:
            out.append(Address.of(address.email, name, address.raw) or address)
    return out


def _routed_names(entries: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in entries:
        route, name = _ROUTE.search(entry), _name(entry)
        if route and name and (email := normalize_email(route.group(0))):
            found.setdefault(email, name)
    return found


def _in_mailbox(name: str, address: Address) -> bool:
    """Whether the mailbox spells a whole ``name``: its surname (or, in an 8-letter
    Notes id such as "jdasovic", the surname's first six letters), and a given
    name or the initial the mailbox starts with ("kbennick", "j.kaminski" for
    Vince J Kaminski). A neighbour with the same surname ("Anthony Campos" for
    sylvia.campos@) or only half a name ("Allen") does not."""
    last, comma, first = name.partition(",")
    if comma:  # "White, Stacey W."
        surnames, given = folded(last).split(), folded(first).split()
    else:
        words = folded(name).split()
        surnames, given = words[-1:], words[:-1]
    if len(surnames) != 1 or len(surnames[0]) < 3 or not given:
        return False
    surname = surnames[0]
    letters = "".join(c for c in address.local.lower() if c.isalpha())
    if surname not in letters and not (len(surname) >= 6 and surname[:6] in letters):
        return False
    return any(len(w) >= 3 and w in letters for w in given) or any(
        letters.startswith(w[0]) for w in given
    )
