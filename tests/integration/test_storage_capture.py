"""Real mail through the real matcher into storage: what capture keeps across batches.

Each batch goes through ``matcher.plan_batch`` against the database's own
Directory and is applied by ``Database.apply``, on SQLite and PostgreSQL, so
what one batch leaves behind is what the next one reads.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from connectors.records import Message
from matcher import plan_batch
from matcher.plan import AccountPolicy, Blocklist
from storage import Database
from storage import schema as t
from tests.builders import OWNER, list_post, mail, meeting, person, reply_to_list

POLICY = AccountPolicy(
    account="alice",
    owner_addresses=frozenset({OWNER}),
    org_domains=frozenset({"ourco.com"}),
    phone_region="US",
)


def policy(person: str = "on_exchange") -> AccountPolicy:
    return replace(POLICY, creation={**POLICY.creation, "person": person})  # type: ignore[dict-item]


def capture(db: Database, *messages: Message, person: str = "on_exchange") -> None:
    db.apply(plan_batch(list(messages), policy(person), db.directory()), "INBOX", None)


def rows(db: Database, query: sa.Select) -> set[tuple[object, ...]]:  # type: ignore[type-arg]
    with db.engine.connect() as conn:
        return {tuple(r) for r in conn.execute(query)}


def test_a_list_stays_automated_when_the_owner_replies_in_a_later_batch(db: Database) -> None:
    capture(db, list_post(), person="on_sent")
    capture(db, reply_to_list(), person="on_sent")
    p = t.interaction_participants.c
    the_list = "sales-emea@contoso-mfg.example"
    assert rows(
        db, sa.select(p.role, p.klass, p.class_reason, p.rule).where(p.email == the_list)
    ) == {
        ("to", "automated", "list-address:list-id", "class:automated"),
        ("to", "automated", "list-address:known", "class:automated"),
    }
    assert rows(db, sa.select(t.contact_emails.c.email)) == set()
    assert db.directory().evidence([the_list])[the_list].listed is True


def test_nothing_blocked_is_stored_but_the_cursor_moves_past_it(db: Database) -> None:
    blocking = replace(
        policy("always"),
        privacy="full",
        blocklist=Blocklist(domains=frozenset({"competitor.example"})),
    )
    records = [
        mail(
            ("From", "Victor Crane <victor.crane@competitor.example>"),
            ("To", "Sam Reed <me@ourco.com>"),
            ("Subject", "Partnership idea"),
            message_id="in@competitor.example",
            text="Hi Sam,\n\nA referral partnership?\n\nVictor Crane\nPartnerships\n+1 202 555 0190\n",
        ),
        mail(
            ("From", "Sam Reed <me@ourco.com>"),
            ("To", "Victor Crane <victor.crane@competitor.example>"),
            message_id="re@ourco.com",
            text="Hi Victor, not this year.\n",
        ),
    ]
    plan = plan_batch(records, blocking, db.directory())
    db.apply(plan, "INBOX", {"uid": 2})
    with db.engine.connect() as conn:
        stored = {
            table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            for table in (
                t.interactions,
                t.interaction_sources,
                t.interaction_participants,
                t.contacts,
                t.contact_emails,
                t.contact_observations,
                t.address_evidence,
                t.companies,
            )
        }
    assert set(stored.values()) == {0}, stored
    assert db.load_cursor("alice", "INBOX") == {"uid": 2}


def contoso(sender: str, msgid: str, signature: str = "") -> Message:
    return mail(
        ("From", sender),
        ("To", f"Sam Reed <{OWNER}>"),
        message_id=msgid,
        text=f"Hi Sam,\n\nplease see the attached order.\n\n{signature}",
    )


JULIA_SIGNS = (
    "Best regards,\nJulia Novak\nHead of Procurement\nContoso Manufacturing GmbH\n"
    "Tel. +1 202 555 0187\n"
)


def company_of(db: Database, email: str) -> tuple[str | None, str | None]:
    [summary] = db.search_contacts(email)
    detail = db.get_contact(summary.id)
    assert detail is not None
    return detail.company_name, summary.company


def test_a_company_takes_the_name_its_people_sign_with_not_the_domain_guess(
    db: Database,
) -> None:
    ben = "ben.carter@contoso-mfg.example"
    julia = "julia.novak@contoso-mfg.example"
    capture(db, contoso(f"Ben Carter <{ben}>", "b1@contoso-mfg.example"), person="always")
    assert company_of(db, ben) == ("Contoso Mfg", "Contoso Mfg")  # the domain guess, until...
    after = max(c.id for c in db.changes_since(0))
    capture(
        db,
        contoso(f"Julia Novak <{julia}>", "j1@contoso-mfg.example", JULIA_SIGNS),
        person="always",
    )
    # ...a person at the company says what it is called: one name for both.
    assert company_of(db, julia) == ("Contoso Manufacturing GmbH", "Contoso Manufacturing GmbH")
    assert company_of(db, ben) == ("Contoso Manufacturing GmbH", "Contoso Manufacturing GmbH")
    with db.engine.connect() as conn:
        names = conn.execute(sa.select(t.companies.c.name)).scalars().all()
    assert names == ["Contoso Manufacturing GmbH"]
    [renamed] = [c for c in db.changes_since(after) if c.entity == "company"]
    assert renamed.operation == "update"


def test_a_company_name_set_by_a_crm_names_the_company(db: Database) -> None:
    ben = "ben.carter@contoso-mfg.example"
    capture(db, contoso(f"Ben Carter <{ben}>", "b1@contoso-mfg.example"), person="always")
    [summary] = db.search_contacts(ben)
    db.set_contact_field(summary.id, "company", "Contoso Manufacturing GmbH", owner="crm")
    assert company_of(db, ben) == ("Contoso Manufacturing GmbH", "Contoso Manufacturing GmbH")
    db.unlock_contact_field(summary.id, "company")  # no observation gives one: the value stays
    assert company_of(db, ben) == ("Contoso Manufacturing GmbH", "Contoso Manufacturing GmbH")


def test_an_all_day_meeting_is_stored_as_a_date(db: Database) -> None:
    """00:00 UTC of a date is the date itself only with the flag: a CRM west of
    UTC would otherwise show an offsite on the day before."""
    day = datetime(2026, 11, 5, tzinfo=UTC)
    offsite = replace(
        meeting(person(OWNER), person("ann@acme.com", "Ann Lee")),
        uid="offsite@acme.com",
        start=day,
        end=day + timedelta(days=1),
        all_day=True,
    )
    call = meeting(person(OWNER), person("ann@acme.com", "Ann Lee"))
    db.apply(plan_batch([offsite, call], policy(), db.directory()), "calendar", None)
    stored = rows(db, sa.select(t.interactions.c.identity, t.interactions.c.all_day))
    assert stored == {(offsite.identity, True), (call.identity, False)}
