"""A contact estate of any size for bench/resolve_scale.py, bulk-loaded in id order.

Contacts 1..K are the known half of ``bench.mailgen``'s people, in three
cases: ``exact`` (the contact holds the address the mail comes from),
``alias`` (the same name and mobile under another address of theirs) and
``fuzzy`` (the name written another way: "Last, First", a long form of a
nickname, or with an accent, under their free-mail address, with their
mobile). The rest are made-up people:
names from a long tail of syllable-built surnames over a head of common
ones, about twenty per company domain, one in seven on free mail, a third
with a mobile observed, and one in fifty a second contact of an earlier
person (same name and mobile, another address) for ``dedupe --scan`` to find.

Rows go in through ``storage.bulk.write_rows`` (SQLite executemany,
PostgreSQL arrays through ``unnest``) in chunks, bypassing ``apply``: the
estate is the starting state, not what is measured. Each chunk's blocking
keys (``contact_keys``) are written by ``storage.identity_keys.refresh_keys``,
the code ``apply`` keeps them with.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bench.mailgen import Person, _people
from matcher.mailboxes import mailbox_key
from storage import Database
from storage.bulk import write_rows
from storage.identity_keys import refresh_keys
from storage.schema import contact_emails, contact_observations, contacts, interactions
from storage.schema_accounts import accounts

SEED_AT = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 20_000
GIVEN = [
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "william",
    "elizabeth",
    "david",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "christopher",
    "nancy",
    "daniel",
    "lisa",
    "matthew",
    "betty",
    "anthony",
    "margaret",
    "mark",
    "sandra",
    "donald",
    "ashley",
    "steven",
    "kimberly",
    "paul",
    "emily",
    "andrew",
    "donna",
    "joshua",
    "michelle",
    "kenneth",
    "carol",
    "kevin",
    "amanda",
    "brian",
    "dorothy",
    "george",
    "melissa",
    "timothy",
    "deborah",
    "ronald",
    "stephanie",
    "edward",
    "rebecca",
    "jason",
    "sharon",
    "jeffrey",
    "laura",
    "ryan",
    "cynthia",
    "jacob",
    "kathleen",
    "gary",
    "amy",
    "nicholas",
    "angela",
    "eric",
    "shirley",
    "jonathan",
    "anna",
    "stephen",
    "brenda",
    "larry",
    "pamela",
    "justin",
    "emma",
    "scott",
    "nicole",
    "brandon",
    "helen",
    "benjamin",
    "samantha",
    "samuel",
    "katherine",
    "gregory",
    "christine",
    "alexander",
    "debra",
    "frank",
    "rachel",
    "patrick",
    "carolyn",
    "raymond",
    "janet",
    "jack",
    "catherine",
    "ingrid",
    "lars",
    "sofia",
    "mateo",
    "lucia",
    "yusuf",
    "fatima",
    "hiroshi",
    "yuki",
    "priya",
    "arjun",
    "chen",
    "wei",
    "olga",
    "ivan",
]
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "tor",
    "val",
    "bur",
    "sen",
    "dal",
    "fin",
    "gor",
    "han",
    "jus",
    "kel",
    "mor",
    "nar",
    "pel",
    "quin",
    "ros",
    "sta",
    "tul",
    "ven",
    "wil",
    "xan",
    "yor",
    "zel",
    "bran",
    "cor",
    "dre",
    "fal",
    "gri",
    "hol",
    "ist",
    "jor",
    "kra",
    "lun",
    "mer",
    "nor",
    "os",
    "pra",
    "rud",
    "sil",
    "tam",
]
FIRST_FORMS = {"ben": "Benjamin", "liam": "William", "zoe": "Zoë", "ines": "Inés"}


@dataclass(frozen=True, slots=True)
class Known:
    """A mailgen person the estate holds, and how."""

    contact_id: int
    person: Person
    case: str  # exact | alias | fuzzy


def known_people(seed: int, share: float = 0.5) -> list[Known]:
    """Half of mailgen's people (the same ones for one seed), split 2:1:1 into the cases."""
    people = _people(random.Random(seed))  # generate_mail draws its people first, like this
    picked = random.Random(seed + 7).sample(people, int(len(people) * share))
    cases = ["exact", "exact", "alias", "fuzzy"]
    return [Known(n + 1, p, cases[n % 4]) for n, p in enumerate(picked)]


def e164(phone: str) -> str:
    return "+" + "".join(c for c in phone if c.isdigit())


def _known_rows(k: Known) -> tuple[dict[str, Any], str, str | None]:
    """The contact row of a known person, the address it holds, its mobile."""
    p = k.person
    first, last = p.name.split(" ", 1)
    name = p.name
    address = p.email
    if k.case == "alias":
        address = f"{first[0]}{last}@{p.email.split('@')[1].replace('.example', '-old.example')}"
    elif k.case == "fuzzy":  # another name form, and the personal address they also use
        long_form = FIRST_FORMS.get(first.lower())
        name = f"{long_form} {last}" if long_form else f"{last}, {first}"
        address = f"{first}{last}{k.contact_id}@gmail.com"
    row = {"id": k.contact_id, "name": name, "title": p.title, "company": p.company}
    return row, address.lower(), e164(p.phone) if k.case != "exact" else None


def _made_up(
    rng: random.Random, i: int, earlier: list[tuple[str, str, str | None]]
) -> tuple[str, str, str | None, str]:
    """(given, family, mobile, address) of filler contact ``i``."""
    if earlier and rng.random() < 0.02:
        given, family, phone = rng.choice(earlier)
        phone = phone or f"+4477{rng.randrange(10**8):08d}"
    else:
        given = rng.choice(GIVEN)
        if rng.random() < 0.5:
            family = rng.choice(SYLLABLES[:20]) + rng.choice(SYLLABLES[20:])
        else:
            family = "".join(rng.choice(SYLLABLES) for _ in range(3))
        phone = f"+4477{rng.randrange(10**8):08d}" if rng.random() < 0.33 else None
        if len(earlier) < 50_000:
            earlier.append((given, family, phone))
    domain = "gmail.com" if rng.random() < 0.14 else f"co{rng.randrange(max(i // 20, 1))}.example"
    return given, family, phone, f"{given}.{family}.{i:x}@{domain}"


def estate(
    count: int, known: list[Known], seed: int
) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """(contact row, address, mobile) of every contact, ids 1..count."""
    for k in known[:count]:
        yield _known_rows(k)
    rng = random.Random(seed)
    earlier: list[tuple[str, str, str | None]] = []
    for i in range(len(known) + 1, count + 1):
        given, family, phone, address = _made_up(rng, i, earlier)
        name = f"{given.title()} {family.title()}"
        row = {"id": i, "name": name, "title": None, "company": None}
        yield row, address, phone


def load(db: Database, count: int, known: list[Known], seed: int) -> None:
    """Write the estate of ``count`` contacts into an empty, migrated database."""
    with db.engine.connect() as conn, conn.begin():
        account = conn.execute(
            accounts.insert()
            .values(name="bench-seed", kind="bench", state="ok", items_captured=0)
            .returning(accounts.c.id)
        ).scalar_one()
        interaction = conn.execute(
            interactions.insert()
            .values(
                identity="bench:seed",
                kind="email",
                occurred_at=SEED_AT,
                direction="inbound",
                status="received",
                sequence=0,
                created_at=SEED_AT,
                updated_at=SEED_AT,
            )
            .returning(interactions.c.id)
        ).scalar_one()
        batch: list[tuple[dict[str, Any], str, str | None]] = []
        for item in estate(count, known, seed):
            batch.append(item)
            if len(batch) >= CHUNK:
                _write(conn, batch, account, interaction)
                batch = []
        _write(conn, batch, account, interaction)
        if conn.dialect.name == "postgresql":
            for table in ("contacts", "contact_observations"):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table}))"
                    )
                )
            conn.execute(sa.text("ANALYZE"))


def _write(
    conn: sa.Connection,
    batch: list[tuple[dict[str, Any], str, str | None]],
    account: int,
    interaction: int,
) -> None:
    if not batch:
        return
    stamp = {"created_rule": "bench:seed", "created_at": SEED_AT, "updated_at": SEED_AT}
    write_rows(conn, contacts.insert(), [{**r, **stamp} for r, _, _ in batch])
    write_rows(
        conn,
        contact_emails.insert(),
        [
            {"email": a, "contact_id": r["id"], "mailbox": mailbox_key(a), "status": "current"}
            for r, a, _ in batch
        ],
    )
    phones = [
        {
            "contact_id": r["id"],
            "field": "phone:mobile",
            "value": p,
            "confidence": 0.9,
            "interaction_id": interaction,
            "observed_at": SEED_AT,
            "account_id": account,
        }
        for r, _, p in batch
        if p
    ]
    write_rows(conn, contact_observations.insert(), phones)
    # The blocking keys capture finds candidates by, written as apply writes them:
    # without them every alias and fuzzy case would miss and the scan see nothing.
    refresh_keys(conn, [r["id"] for r, _, _ in batch])
