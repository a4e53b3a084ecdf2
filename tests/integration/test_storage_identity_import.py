"""A CRM's 500 contacts imported twice (CSV, then vCard), then their mail: no duplicate.

The mail comes from the imported addresses (Gmail users without dots and
with tags), then from other addresses of theirs: those whose signature
gave a mobile are linked by it, those with only a name and a company
domain wait for review. None of it creates a second contact. On SQLite
and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from connectors.contact_files import read_csv, read_vcards
from connectors.records import Message, SourceRef
from matcher import plan_batch
from matcher.mailboxes import mailbox_key
from storage import Database
from tests.builders import mail, signing_policy
from tests.crm_files import csv_and_vcards, imported

OWNER = "ann@northwind.com"
POLICY = signing_policy(OWNER)
GIVEN = [
    "Amelia",
    "Oliver",
    "Isla",
    "Arthur",
    "Ava",
    "Noah",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Archie",
    "Sophia",
    "Theodore",
    "Grace",
    "Finley",
    "Evie",
    "Harrison",
    "Poppy",
    "Ezra",
    "Daisy",
    "Hugo",
    "Aurora",
    "Milo",
    "Iris",
]
FAMILY = [
    "Nakamura",
    "Okafor",
    "Lindqvist",
    "Moreau",
    "Kowalski",
    "Haddad",
    "Brennan",
    "Castellano",
    "Oyelaran",
    "Varga",
    "Abernathy",
    "Rasmussen",
    "Takahashi",
    "Delacroix",
    "Novak",
    "Ferreira",
    "Gallagher",
    "Petrov",
    "Achterberg",
    "Quispe",
]
T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def crowd() -> list[tuple[str, str, str]]:
    """(given, family, address): 500 distinct names; every third at Gmail."""
    people = []
    for i in range(500):
        given, family = GIVEN[i % 25], FAMILY[i // 25]
        local = f"{given}.{family}".lower()
        domain = "gmail.com" if i % 3 == 0 else f"co{i % 7}.example"
        people.append((given, family, f"{local}{i}@{domain}"))
    return people


def mobile(i: int) -> str:
    return f"+1 415 62{i % 10} {1000 + i:04d}"


def letter(n: int, sender: str, text: str) -> Message:
    m = mail(("From", sender), ("To", OWNER), message_id=f"n{n}@mail", text=text)
    source = SourceRef("alice", "INBOX", f"n{n}")
    return replace(m, source=source, date=T0 + timedelta(minutes=n), thread_key=f"n{n}@mail")


def test_two_imports_of_500_then_their_mail_from_any_address_give_no_duplicate(
    db: Database,
) -> None:
    people = crowd()
    csv_text, vcf_text = csv_and_vcards(people)
    assert imported(db, list(read_csv(csv_text))).created == 500
    second = imported(db, list(read_vcards(vcf_text)))  # adds the full name (FN) to each
    assert (second.created, second.updated, second.errors) == (0, 500, ())
    # Everyone writes from the imported address; every fifth signs with a mobile.
    first = []
    for i, (g, f, e) in enumerate(people):
        written = e.replace(".", "", 1).replace("@", "+crm@") if "gmail" in e else e
        text = f"Thanks.\n\nBest,\n{g} {f}\nMobile: {mobile(i)}\n" if i % 5 == 0 else "Thanks."
        first.append(letter(i, f"{g} {f} <{written}>", text))
    db.apply(plan_batch(first, POLICY, db.directory()), "INBOX", None)
    assert db.counts()["contacts"] == 500
    # Then from other addresses: the signed ones sign again, the others do not.
    later, alias, waiting = [], {}, set()
    for i, (g, f, e) in enumerate(people):
        domain = e.rpartition("@")[2]
        other = f"{g[0]}{f}.{i}@{domain}".lower()
        if i % 5 == 0:
            alias[other] = e
            text = f"From my other address.\n\n{g} {f}\nMobile: {mobile(i)}\n"
        elif i % 5 == 1 and domain != "gmail.com":
            waiting.add(other)
            text = "Quick note."
        else:
            continue
        later.append(letter(1000 + i, f"{g} {f} <{other}>", text))
    db.apply(plan_batch(later, POLICY, db.directory()), "INBOX", None)

    assert db.counts()["contacts"] == 500
    owner = db.directory().contact_ids
    for other, imported_address in alias.items():
        mine, theirs = mailbox_key(other), mailbox_key(imported_address)
        assert owner([mine]) == {mine: owner([theirs])[theirs]}
    assert {r.email for r in db.reviews()} == waiting
    assert len(alias) == 100 and len(waiting) == 67
