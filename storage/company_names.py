"""A company's one name, chosen by what its people's own mail says.

A company is created under a guess from its domain ("Contoso Mfg" for
contoso-mfg.com). The contacts at the company know better: the company
field each contact derives from its observations (a signature's
"Contoso Manufacturing GmbH", or a value set by hand or by a CRM). After
each batch, every company whose contacts changed takes the name most of
its contacts give; the domain guess stays only while none gives one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

import sqlalchemy as sa

from matcher.companies import company_name
from storage.bulk import select_in, update_rows
from storage.changes import Feed
from storage.schema import companies, company_domains, contacts


def name_companies(conn: sa.Connection, feed: Feed) -> None:
    """Rename the companies of the contacts this transaction touched, by evidence."""
    touched = {i for entity, i, _ in feed if entity == "contact"}
    c = contacts.c
    ids: set[int] = {
        r.company_id
        for r in select_in(conn, [c.id, c.company_id], c.id, touched)
        if r.company_id is not None
    }
    ids |= {i for entity, i, _ in feed if entity == "company"}
    if not ids:
        return
    said: dict[int, Counter[str]] = {}
    for r in select_in(conn, [c.company_id, c.company], c.company_id, ids):
        if r.company and r.company.strip():
            said.setdefault(r.company_id, Counter())[r.company.strip()] += 1
    if not said:
        return
    current = {
        r.id: r.name
        for r in select_in(conn, [companies.c.id, companies.c.name], companies.c.id, said)
    }
    guesses: dict[int, set[str]] = {}
    d = company_domains.c
    for r in select_in(conn, [d.company_id, d.domain], d.company_id, said):
        guesses.setdefault(r.company_id, set()).add(_compact(company_name(r.domain)))
    renamed: list[tuple[int, str]] = []
    for i, votes in sorted(said.items()):
        name = chosen(votes.items(), guesses.get(i, set()))
        if name != current.get(i):
            renamed.append((i, name))
    update_rows(conn, companies, [{"id": i, "name": name} for i, name in renamed])
    feed.extend(("company", i, "update") for i, _ in renamed)


def chosen(votes: Iterable[tuple[str, int]], guesses: Collection[str] = ()) -> str:
    """The name most contacts give. On a tie, the one the domain agrees with
    ("Globex" for globex.com over a subsidiary's "Globex Europe Ltd"), then
    the fuller one ("... GmbH"), then the first alphabetically, so every
    writer chooses alike."""
    return min(votes, key=lambda v: (-v[1], _compact(v[0]) not in guesses, -len(v[0]), v[0]))[0]


def _compact(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())
