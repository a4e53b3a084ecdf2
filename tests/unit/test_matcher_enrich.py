"""Signature fields in the plan: the sender's own, a forwarded author's, quoted people."""

from __future__ import annotations

from dataclasses import replace

from connectors.records import Message
from matcher import InMemoryDirectory, plan_batch
from matcher.plan import (
    AccountPolicy,
    Evidence,
    Observation,
    ParticipantPlan,
    Plan,
    evidence_of,
)
from tests.builders import OWNER, mail, policy

PRIYA = "priya.shah@acme-robotics.com"
JORGE = "jorge.ramos@acme-robotics.com"
LENA = "lena@ortiz-partners.com"

REPLY = (
    "Thanks Ann, the revised quote works for us.\n\nBest regards,\nPriya Shah\n"
    "VP Operations\nAcme Robotics\nOffice: +1 202 555 0143 | Mobile: +1 202 555 0144\n"
)
FORWARD = (
    "Ann, see below from our CFO.\n\nPriya\n\n---------- Forwarded message ---------\n"
    f"From: Jorge Ramos <{JORGE}>\nDate: Mon, 2 Mar 2026 at 10:15\nSubject: Budget\n"
    f"To: Priya Shah <{PRIYA}>\nCc: Lena Ortiz <{LENA}>\n\n"
    "Budget approved for Q3.\n\nJorge Ramos\nChief Financial Officer\nAcme Robotics\n"
    "Direct: +1 202 555 0190\n"
)


def from_priya(text: str, html: bool = False, message_id: str = "a@x") -> Message:
    return mail(
        ("From", f"Priya Shah <{PRIYA}>"),
        ("To", OWNER),
        text=text,
        html=html,
        message_id=message_id,
    )


def plan_of(text: str, contacts: dict[str, int], html: bool = False) -> Plan:
    directory = InMemoryDirectory(contacts=dict(contacts))
    return plan_batch([from_priya(text, html)], policy(), directory)


def people(plan: Plan) -> dict[tuple[str, str], ParticipantPlan]:
    [interaction] = plan.interactions
    return {(p.email, p.role): p for p in interaction.participants}


def test_the_senders_signature_goes_to_the_from_participant() -> None:
    found = people(plan_of(REPLY, {PRIYA: 1}))
    assert set(found) == {(PRIYA, "from"), (OWNER, "to")}
    assert found[(PRIYA, "from")].observations == (
        Observation("name", "Priya Shah", 0.9),
        Observation("title", "VP Operations", 0.8),
        Observation("company", "Acme Robotics", 0.8),  # it names acme-robotics.com
        Observation("phone:office", "+12025550143", 0.9),
        Observation("phone:mobile", "+12025550144", 0.9),
        # then what the header gives: display name and the domain's company
        Observation("name", "Priya Shah", 0.6),
        Observation("given_name", "Priya", 0.6),
        Observation("family_name", "Shah", 0.6),
        Observation("company", "Acme Robotics", 0.4),
    )
    assert found[(OWNER, "to")].observations == ()  # the owner is internal: no fields


def test_a_sender_the_policy_may_create_later_keeps_the_signature_fields() -> None:
    found = people(plan_of(REPLY, {}))  # cold inbound mail under on_exchange
    priya = found[(PRIYA, "from")]
    assert (priya.decision, priya.rule) == ("skip", "policy:person:on_exchange:unmet")
    # Kept for the address: her contact gets them if a later reply creates it.
    assert {o.field for o in priya.observations} >= {"name", "title", "phone:office"}
    never = plan_batch([from_priya(REPLY)], policy("never"), InMemoryDirectory())
    skipped = people(never)[(PRIYA, "from")]
    assert (skipped.decision, skipped.rule, skipped.observations) == ("skip", "class:person", ())


def test_a_forwarded_author_gets_their_own_fields_as_a_quoted_participant() -> None:
    found = people(plan_of(FORWARD, {PRIYA: 1, JORGE: 2}))
    jorge = found[(JORGE, "quoted")]
    assert (jorge.decision, jorge.rule, jorge.contact_id, jorge.klass) == (
        "link",
        "exact-email",
        2,
        "person",
    )
    assert {(o.field, o.value) for o in jorge.observations} == {
        ("name", "Jorge Ramos"),
        ("title", "Chief Financial Officer"),
        ("company", "Acme Robotics"),
        ("phone:office", "+12025550190"),
    }
    # Priya's own zone has no signature block: none of Jorge's fields are hers.
    priya = {(o.field, o.value) for o in found[(PRIYA, "from")].observations}
    assert priya == {
        ("name", "Priya Shah"),
        ("given_name", "Priya"),
        ("family_name", "Shah"),
        ("company", "Acme Robotics"),
    }


def test_quoted_people_are_linked_when_known_and_skipped_otherwise() -> None:
    found = people(plan_of(FORWARD, {PRIYA: 1, LENA: 7}))
    # Priya is named in the forwarded header but is already the From participant.
    assert sorted(found) == [
        (JORGE, "quoted"),
        (LENA, "quoted"),
        (OWNER, "to"),
        (PRIYA, "from"),
    ]
    jorge, lena = found[(JORGE, "quoted")], found[(LENA, "quoted")]
    assert (jorge.decision, jorge.rule, jorge.observations) == ("skip", "class:quoted", ())
    assert (lena.decision, lena.rule, lena.contact_id) == ("link", "exact-email", 7)
    assert lena.observations == ()  # named in a header, no signature of hers


def test_quoted_people_follow_their_own_policy() -> None:
    directory = InMemoryDirectory(contacts={PRIYA: 1})
    always = replace(policy(), creation={**policy().creation, "quoted": "always"})
    plan = plan_batch([from_priya(FORWARD)], always, directory)
    jorge = people(plan)[(JORGE, "quoted")]
    assert (jorge.decision, jorge.rule) == ("create", "policy:quoted:always")
    assert ("title", "Chief Financial Officer") in {(o.field, o.value) for o in jorge.observations}


def test_quoted_gives_no_exchange_evidence() -> None:
    [interaction] = plan_of(FORWARD, {PRIYA: 1, JORGE: 2}).interactions
    assert set(evidence_of(interaction)) == {PRIYA}  # neither Jorge nor Lena wrote to us


def test_blocked_and_internal_quoted_people_get_nothing() -> None:
    blocked = AccountPolicy(
        account="acct",
        owner_addresses=frozenset({OWNER}),
        org_domains=frozenset({"ourco.com", "ortiz-partners.com"}),
        blocklist=replace(policy().blocklist, addresses=frozenset({JORGE})),
    )
    directory = InMemoryDirectory(contacts={PRIYA: 1, JORGE: 2, LENA: 3})
    found = people(plan_batch([from_priya(FORWARD)], blocked, directory))
    assert (JORGE, "quoted") not in found  # a blocked address is not even a participant
    lena = found[(LENA, "quoted")]
    assert (lena.klass, lena.decision, lena.observations) == ("internal", "link", ())


def test_unrenderable_html_keeps_the_message_without_signatures() -> None:
    hostile = "<div>" * 100_000 + "Priya Shah<br>VP Operations<br>+1 202 555 0143"
    found = people(plan_of(hostile, {PRIYA: 1}, html=True))
    assert found[(PRIYA, "from")].decision == "link"
    assert {o.field for o in found[(PRIYA, "from")].observations} == {
        "name",
        "given_name",
        "family_name",
        "company",
    }


def test_an_html_signature_is_read() -> None:
    html = (
        "<p>Thanks Ann, the revised quote works for us.</p><p>Best regards,<br>Priya Shah<br>"
        "VP Operations<br>Acme Robotics<br>Mobile: +1 202 555 0144</p>"
    )
    found = people(plan_of(html, {PRIYA: 1}, html=True))
    fields = {(o.field, o.value) for o in found[(PRIYA, "from")].observations}
    assert {("title", "VP Operations"), ("phone:mobile", "+12025550144")} <= fields


def test_the_same_message_twice_in_a_batch_is_planned_alike() -> None:
    directory = InMemoryDirectory(contacts={PRIYA: 1})
    twice = [from_priya(REPLY), from_priya(REPLY)]
    plan = plan_batch(twice, policy(), directory)
    first, second = plan.interactions
    assert first.participants == second.participants
    assert ("title", "VP Operations") in {
        (o.field, o.value) for o in first.participants[0].observations
    }


def from_owner(text: str, to: str) -> Message:
    return mail(("From", f"Ann Lee <{OWNER}>"), ("To", to), text=text, message_id="out@x")


OWNER_FORWARD = FORWARD.replace("Ann, see below from our CFO.\n\nPriya", "Tom, FYI.\n\nAnn")


def test_our_own_forward_gives_a_known_quoted_author_their_fields() -> None:
    # The sender is the owner (internal): the body is first split into zones
    # only, then read because Jorge, a known contact, wrote a quoted zone.
    directory = InMemoryDirectory(contacts={"tom@initech.com": 3, JORGE: 2})
    plan = plan_batch([from_owner(OWNER_FORWARD, "tom@initech.com")], policy(), directory)
    found = people(plan)
    assert sorted(found) == [
        (JORGE, "quoted"),
        (LENA, "quoted"),
        (OWNER, "from"),
        (PRIYA, "quoted"),
        ("tom@initech.com", "to"),
    ]
    assert ("title", "Chief Financial Officer") in {
        (o.field, o.value) for o in found[(JORGE, "quoted")].observations
    }
    assert found[(PRIYA, "quoted")].decision == "skip"  # no contact: never created from a quote
    assert found[(OWNER, "from")].observations == ()


def test_a_reply_quoting_a_participant_gives_them_nothing_from_the_quote() -> None:
    # Our reply quotes Priya's mail: her quoted signature is a copy of one her
    # own message gave, and a later date must not make it new again.
    quoting = "Thanks Priya, done.\n\nOn Mon, 2 Mar 2026, Priya Shah <" + PRIYA + "> wrote:\n"
    quoting += "".join(f"> {line}\n" for line in REPLY.splitlines())
    directory = InMemoryDirectory(contacts={PRIYA: 1})
    found = people(plan_batch([from_owner(quoting, PRIYA)], policy(), directory))
    assert sorted(found) == [(OWNER, "from"), (PRIYA, "to")]
    assert {o.field for o in found[(PRIYA, "to")].observations} == {
        "name",
        "given_name",
        "family_name",
        "company",
    }
    assert ("title", "VP Operations") not in {
        (o.field, o.value) for o in found[(PRIYA, "to")].observations
    }


def test_a_quoted_policy_with_conditions_reads_stored_evidence() -> None:
    on_exchange = replace(policy(), creation={**policy().creation, "quoted": "on_exchange"})
    known = {JORGE: Evidence(sent_to=True, received_from=True)}
    for stored, outcome in (
        (known, ("create", "policy:quoted:on_exchange")),
        ({}, ("skip", "policy:quoted:on_exchange:unmet")),
    ):
        directory = InMemoryDirectory(contacts={PRIYA: 1}, known=dict(stored))
        jorge = people(plan_batch([from_priya(FORWARD)], on_exchange, directory))[(JORGE, "quoted")]
        assert (jorge.decision, jorge.rule) == outcome


LOTUS = (
    "FYI\n\n"
    "----- Forwarded by Ann Lee/HOU/EXA on 05/24/2001 03:42 PM -----\n\n"
    "\tJohn Smith@ACME\n"
    "\t04/12/2001 03:44 PM\n"
    "\t\t To: Ann Lee/HOU/EXA@EXA\n"
    "\t\t Subject: Re: broker agreement\n\n"
    "The agreement went out for signature today.\n\n"
    "John Smith\nSenior Counsel\n(713) 555-4693\njohn.smith@acme.com\n"
)


def test_a_lotus_header_without_address_finds_its_author_in_the_signature() -> None:
    # The header names John without an address; his signature gives it, and
    # it is known before the lookup, so his contact is linked and enriched.
    directory = InMemoryDirectory(contacts={"tom@initech.com": 3, "john.smith@acme.com": 9})
    us = replace(policy(), phone_region="US")
    found = people(plan_batch([from_owner(LOTUS, "tom@initech.com")], us, directory))
    john = found[("john.smith@acme.com", "quoted")]
    assert (john.decision, john.contact_id) == ("link", 9)
    assert {(o.field, o.value) for o in john.observations} == {
        ("name", "John Smith"),
        ("title", "Senior Counsel"),
        ("phone", "+17135554693"),
        ("email", "john.smith@acme.com"),
    }


def test_the_recipients_own_name_is_never_the_senders_signature_name() -> None:
    # The sender's address says nothing of a name, so only the recipients tell
    # that "Sam Reed" at the top of the block is who the reply is for.
    reply = mail(
        ("From", "p7@contoso-mfg.example"),
        ("To", "Sam Reed <me@ourco.com>"),
        text="Sam Reed\nPO 4471 attached\n\nPeter Brandt\nBuyer\n+1 202 555 0166\n",
    )
    policy = AccountPolicy(
        "acct", frozenset({"me@ourco.com"}), creation={"person": "always"}, phone_region="US"
    )
    plan = plan_batch([reply], policy, InMemoryDirectory())
    [sender] = [p for p in plan.interactions[0].participants if p.role == "from"]
    assert [(o.field, o.value) for o in sender.observations] == [
        ("title", "Buyer"),
        ("phone", "+12025550166"),
        ("company", "Contoso Mfg"),
    ]


def test_a_sender_who_copies_themselves_keeps_their_signature_name() -> None:
    signed = mail(
        ("From", "Julia Novak <julia.novak@contoso-mfg.example>"),
        ("To", "Sam Reed <me@ourco.com>"),
        ("Cc", "Julia Novak <julia.novak@contoso-mfg.example>"),
        text="Sam, confirmed for Tuesday.\n\nJulia Novak\nHead of Procurement\n",
    )
    policy = AccountPolicy("acct", frozenset({"me@ourco.com"}), creation={"person": "always"})
    plan = plan_batch([signed], policy, InMemoryDirectory())
    [julia] = [p for p in plan.interactions[0].participants if p.role == "from"]
    assert [(o.field, o.value, o.confidence) for o in julia.observations][:2] == [
        ("name", "Julia Novak", 0.9),
        ("title", "Head of Procurement", 0.8),
    ]


def test_a_first_name_sign_off_does_not_shorten_the_contacts_name() -> None:
    """ "Thanks,\\nPriya" over the block: storage keeps one name per message,
    the most confident then the smallest, so a sign-off "Priya" at the
    display name's confidence would have named the contact "Priya"."""
    signed_off = "Agreed.\n\nThanks,\nPriya\nVP Operations\nOffice: +1 202 555 0143\n"
    found = people(plan_of(signed_off, {PRIYA: 1}))
    names = [o for o in found[(PRIYA, "from")].observations if o.field == "name"]
    assert names == [Observation("name", "Priya Shah", 0.6)]
