"""A sender's signature learned from their own mail, through the real matcher and storage.

The generated history (``tests.signature_history``) goes through
``matcher.plan_batch`` against the database's own Directory and is applied
by ``Database.apply``, on SQLite and PostgreSQL: once as one batch of thirty
messages, once as thirty batches of one. Both must end the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from itertools import pairwise

import pytest

from connectors.records import Message, SourceRef
from matcher import plan_batch
from matcher.plan import AccountPolicy
from storage import Database
from storage.queries import Observed
from tests.builders import mail
from tests.plans import contact_of, snapshot
from tests.signature_history import BLOCK, SAM, START, message

OWNER = "jane@acme.example"
POLICY = AccountPolicy(
    account="jane",
    owner_addresses=frozenset({OWNER}),
    org_domains=frozenset({"acme.example"}),
    creation={"person": "always", "quoted": "never"},
    phone_region="US",
)
PROMOTED = [BLOCK[0], "Director of Procurement", *BLOCK[2:]]
# Right under the name, where a single message's reading takes it as the title.
ONE_OFF = [BLOCK[0], "Acting Chair, Safety Committee", *BLOCK[1:]]


def from_sam(n: int, block: list[str]) -> Message:
    text = message(n, block)
    sent = mail(("From", f"Sam Carter <{SAM.email}>"), ("To", OWNER), text=text)
    return Message(
        source=SourceRef("jane", "INBOX", str(n + 1)),
        message_id=f"{n}@northwind.example",
        date=START + timedelta(days=n),
        subject=f"Order {2000 + n}",
        headers=sent.headers,
        text=text,
    )


def capture(db: Database, blocks: Sequence[list[str]], batch: int) -> None:
    messages = [from_sam(n, block) for n, block in enumerate(blocks)]
    for first in range(0, len(messages), batch):
        plan = plan_batch(messages[first : first + batch], POLICY, db.directory())
        db.apply(plan, "INBOX", {"n": first + batch})


def history(db: Database, field: str) -> list[Observed]:
    detail = db.get_contact(contact_of(db, SAM.email))
    assert detail is not None
    return sorted((o for o in detail.history if o.field == field), key=lambda o: o.observed_at)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


def fields_by_day(db: Database, field: str) -> list[tuple[datetime, str, float]]:
    return [(o.observed_at, o.value, o.confidence) for o in history(db, field)]


@pytest.mark.parametrize("batch", [30, 1], ids=["one-batch", "batch-per-message"])
def test_a_stable_block_is_found_and_confirmed_by_repetition(db: Database, batch: int) -> None:
    capture(db, [BLOCK] * 30, batch)
    # Found in all thirty; from the second message on, the block the first
    # one showed confirms it, and its fields are surer than one message's.
    expected = {
        "title": ("Head of Procurement", 0.8, 0.9),
        "company": ("Northwind Traders", 0.8, 0.9),
        "phone": ("+14155550134", 0.8, 0.9),
        "address": ("350 Mission Street, San Francisco, CA 94105", 0.5, 0.75),
    }
    for field, (value, single, confirmed) in expected.items():
        assert fields_by_day(db, field) == [
            (day(n), value, single if n == 0 else confirmed) for n in range(30)
        ]
    detail = db.get_contact(contact_of(db, SAM.email))
    assert detail is not None and detail.value("title") == "Head of Procurement"
    model = db.directory().sender_signatures([SAM.email])[SAM.email]
    assert (model.messages, model.latest) == (30, day(29))
    assert {k.text: k.seen for k in model.lines if k.seen == 30} == {
        line.casefold(): 30 for line in BLOCK
    }


@pytest.mark.parametrize("batch", [30, 1], ids=["one-batch", "batch-per-message"])
def test_a_new_title_is_one_dated_change(db: Database, batch: int) -> None:
    capture(db, [BLOCK] * 19 + [PROMOTED] * 11, batch)
    titles = [(at, value) for at, value, _ in fields_by_day(db, "title")]
    # The new title's first message holds it back (it could be a one-off);
    # its second confirms it, and the change is dated by that message.
    assert titles == [
        *((day(n), "Head of Procurement") for n in range(19)),
        *((day(n), "Director of Procurement") for n in range(20, 30)),
    ]
    changes = [(b, new) for (_, old), (b, new) in pairwise(titles) if new != old]
    assert changes == [(day(20), "Director of Procurement")]
    detail = db.get_contact(contact_of(db, SAM.email))
    assert detail is not None and detail.value("title") == "Director of Procurement"


@pytest.mark.parametrize("batch", [16, 1], ids=["one-batch", "batch-per-message"])
def test_a_one_off_line_that_looks_like_a_title_is_not_taken(db: Database, batch: int) -> None:
    capture(db, [BLOCK] * 10 + [ONE_OFF] + [BLOCK] * 5, batch)
    detail = db.get_contact(contact_of(db, SAM.email))
    assert detail is not None
    assert not [o for o in detail.history if "Safety Committee" in o.value]
    assert [(at, value) for at, value, _ in fields_by_day(db, "title")] == [
        (day(n), "Head of Procurement") for n in range(16)
    ]
    assert detail.value("title") == "Head of Procurement"


@pytest.mark.parametrize("batch", [30, 1], ids=["one-batch", "batch-per-message"])
def test_mail_read_again_changes_nothing(db: Database, batch: int) -> None:
    blocks = [BLOCK] * 19 + [PROMOTED] * 11
    capture(db, blocks, batch)
    before = snapshot(db, skip=("sync_cursors",))  # the cursor's row notes when it was written
    capture(db, blocks, batch)
    assert snapshot(db, skip=("sync_cursors",)) == before


def test_an_older_model_never_replaces_a_newer_one(db: Database) -> None:
    """A second writer that planned from the model as it was before the first committed."""
    messages = [from_sam(n, BLOCK) for n in range(3)]
    stale = plan_batch(messages[:2], POLICY, db.directory())
    db.apply(plan_batch(messages, POLICY, db.directory()), "INBOX", None)
    db.apply(stale, "INBOX", None)
    model = db.directory().sender_signatures([SAM.email])[SAM.email]
    assert (model.messages, model.latest) == (3, day(2))


def test_forget_erases_the_signature_model(db: Database) -> None:
    capture(db, [BLOCK] * 3, 3)
    assert set(db.directory().sender_signatures([SAM.email])) == {SAM.email}
    db.forget(addresses=[SAM.email])
    assert db.directory().sender_signatures([SAM.email]) == {}
