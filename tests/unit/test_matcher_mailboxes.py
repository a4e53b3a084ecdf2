"""Mailbox keys: provider rules where the provider documents them, and nowhere else."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.records import Address, normalize_email
from matcher import InMemoryDirectory, plan_batch
from matcher.mailboxes import mailbox_key
from tests.builders import OWNER, mail, policy


@pytest.mark.parametrize(
    ("written", "key"),
    [
        # Gmail: dots and "+tag" ignored, googlemail.com is gmail.com.
        ("robert.smith@gmail.com", "robertsmith@gmail.com"),
        ("r.o.b.e.r.t.smith+crm@gmail.com", "robertsmith@gmail.com"),
        ("robert.smith@googlemail.com", "robertsmith@gmail.com"),
        # Outlook.com, iCloud, Fastmail: "+tag" only; dots are part of the name.
        ("ann.lee+shop@outlook.com", "ann.lee@outlook.com"),
        ("ann.lee+x@hotmail.com", "ann.lee@hotmail.com"),
        ("ann+x@live.com", "ann@live.com"),
        ("ann.lee+travel@icloud.com", "ann.lee@icloud.com"),
        ("ann+a+b@me.com", "ann@me.com"),
        ("ann+lists@fastmail.com", "ann@fastmail.com"),
        # Unknown rules: the address is its own mailbox.
        ("robert.smith+crm@acme.com", "robert.smith+crm@acme.com"),
        ("robert.smith@acme-gmail.com", "robert.smith@acme-gmail.com"),
        ("ann+x@mail.gmail.com.evil.example", "ann+x@mail.gmail.com.evil.example"),
        # A plus sign that starts the local part is the name, not a tag.
        ("+44@gmail.com", "+44@gmail.com"),
        ("...@gmail.com", "...@gmail.com"),
    ],
)
def test_provider_rules(written: str, key: str) -> None:
    assert mailbox_key(written) == key


def test_listed_domains_strip_subaddresses_only_where_listed() -> None:
    listed = frozenset({"acme.com"})
    assert mailbox_key("robert.smith+crm@acme.com", listed) == "robert.smith@acme.com"
    # A Google Workspace domain keeps its dots (j.smith and jsmith may be two people).
    assert mailbox_key("r.smith@acme.com", listed) == "r.smith@acme.com"
    assert mailbox_key("bob+x@eu.acme.com", listed) == "bob+x@eu.acme.com"  # no subdomains
    assert mailbox_key("bob+x@other.com", listed) == "bob+x@other.com"


def test_written_addresses_fold_case_nfc_and_idna() -> None:
    decomposed = "Jose\u0301@Ex\u00e4mple.COM"  # e + combining acute
    composed = "jos\u00e9@xn--exmple-cua.com"
    assert normalize_email(decomposed) == composed
    assert normalize_email("jos\u00e9@ex\u00e4mple.com") == composed


def test_a_local_part_starting_with_a_dot_is_no_address() -> None:
    # RFC 5322 3.4.1; converted archives hold such husks ("pr <.palmer@enron.com>").
    assert normalize_email(".palmer@enron.com") == ""
    # Japanese carriers issued trailing and doubled dots: those mailboxes are real.
    assert normalize_email("taro..yamada@docomo.ne.jp") == "taro..yamada@docomo.ne.jp"
    assert normalize_email("hanako.@ezweb.ne.jp") == "hanako.@ezweb.ne.jp"


def variant_batch() -> list[object]:
    """Robert writes from a dotted Gmail spelling; we reply to a tagged one."""
    return [
        replace(
            mail(("From", "Robert Smith <Robert.Smith@gmail.com>"), ("To", OWNER)),
            message_id="r1@gmail.com",
        ),
        replace(
            mail(("From", OWNER), ("To", "robertsmith+crm@googlemail.com")),
            message_id="o1@ourco.com",
        ),
    ]


def test_two_spellings_of_one_gmail_mailbox_are_one_exchange_and_one_contact() -> None:
    directory = InMemoryDirectory()
    plan = plan_batch(variant_batch(), policy(), directory)  # type: ignore[arg-type]
    decided = [
        (p.email, p.key, p.decision, p.rule)
        for i in plan.interactions
        for p in i.participants
        if p.klass == "person"
    ]
    assert decided == [
        ("robert.smith@gmail.com", "robertsmith@gmail.com", "create", "policy:person:on_exchange"),
        (
            "robertsmith+crm@googlemail.com",
            "robertsmith@gmail.com",
            "create",
            "policy:person:on_exchange",
        ),
    ]
    directory.absorb(plan)
    assert directory.contacts == {"robertsmith@gmail.com": 1}
    later = replace(
        mail(("From", "Bob Smith <r.smith@gmail.com>"), ("To", OWNER)), message_id="r2@x"
    )
    again = plan_batch([later], policy(), directory)
    (bob,) = [p for p in again.interactions[0].participants if p.klass == "person"]
    # r.smith is another Gmail user: not robertsmith.
    assert (bob.key, bob.contact_id) == ("rsmith@gmail.com", None)
    tagged = replace(mail(("From", "robert.smith+x@gmail.com"), ("To", OWNER)), message_id="r3@x")
    (robert,) = [
        p
        for p in plan_batch([tagged], policy(), directory).interactions[0].participants
        if p.klass == "person"
    ]
    assert (robert.decision, robert.rule, robert.contact_id) == ("link", "exact-email", 1)


def test_unknown_domains_keep_tagged_addresses_apart_unless_listed() -> None:
    records = [
        replace(mail(("From", "ann+eu@acme.com"), ("To", OWNER)), message_id="a1@x"),
        replace(mail(("From", OWNER), ("To", "ann@acme.com")), message_id="a2@x"),
    ]
    plain = plan_batch(records, policy(), InMemoryDirectory())
    assert [(p.email, p.decision) for i in plain.interactions for p in i.participants] == [
        ("ann+eu@acme.com", "skip"),
        (OWNER, "skip"),
        (OWNER, "skip"),
        ("ann@acme.com", "skip"),
    ]
    listed = replace(policy(), subaddress_domains=frozenset({"acme.com"}))
    joined = plan_batch(records, listed, InMemoryDirectory())
    assert [(p.email, p.key, p.decision) for i in joined.interactions for p in i.participants] == [
        ("ann+eu@acme.com", "ann@acme.com", "create"),
        (OWNER, OWNER, "skip"),
        (OWNER, OWNER, "skip"),
        ("ann@acme.com", "ann@acme.com", "create"),
    ]


def test_address_record_keeps_the_spelling() -> None:
    address = Address.of("Robert.Smith+CRM@GMail.com", "Robert Smith")
    assert address is not None
    assert address.email == "robert.smith+crm@gmail.com"
