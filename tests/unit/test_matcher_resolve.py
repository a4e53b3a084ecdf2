"""matcher.resolve and plan_batch: link / create / skip under each creation mode."""

from __future__ import annotations

from dataclasses import replace

import pytest

from connectors.records import IngestError, Message, Record, SourceRef, When
from matcher import InMemoryDirectory, plan_batch
from matcher.plan import (
    Blocklist,
    Evidence,
    InteractionPlan,
    Observation,
    Plan,
)
from tests.builders import ORGANIZER, OWNER, list_post, mail, meeting, person, policy, reply_to_list


def sent(to: str, n: int = 1) -> Message:
    return mail(("From", OWNER), ("To", to), message_id=f"out{n}@ourco.com")


def received(sender: str, n: int = 1) -> Message:
    return mail(("From", sender), ("To", OWNER), message_id=f"in{n}@x")


def decisions(plan: Plan) -> list[list[tuple[str, str, str]]]:
    return [[(p.email, p.decision, p.rule) for p in i.participants] for i in plan.interactions]


def run(records: list[Record], when: When = "on_exchange", **kw: When) -> Plan:
    return plan_batch(records, policy(when, **kw), InMemoryDirectory())


ME_SKIPPED = (OWNER, "skip", "class:internal")


def test_cold_inbound_mail_creates_nothing_on_exchange() -> None:
    assert decisions(run([received("Ann <ann@acme.com>")])) == [
        [("ann@acme.com", "skip", "policy:person:on_exchange:unmet"), ME_SKIPPED]
    ]


def test_cold_outbound_mail_creates_nothing_on_exchange() -> None:
    assert decisions(run([sent("ann@acme.com")])) == [
        [ME_SKIPPED, ("ann@acme.com", "skip", "policy:person:on_exchange:unmet")]
    ]


def test_cold_inbound_mail_creates_a_contact_under_always() -> None:
    assert decisions(run([received("ann@acme.com")], "always")) == [
        [("ann@acme.com", "create", "policy:person:always"), ME_SKIPPED]
    ]


@pytest.mark.parametrize(
    ("records", "decision", "rule"),
    [
        ([sent("ann@acme.com")], "create", "policy:person:on_sent"),
        ([received("ann@acme.com")], "skip", "policy:person:on_sent:unmet"),
    ],
)
def test_on_sent(records: list[Record], decision: str, rule: str) -> None:
    plan = run(records, "on_sent")
    (ann,) = [p for p in plan.interactions[0].participants if p.email == "ann@acme.com"]
    assert (ann.decision, ann.rule) == (decision, rule)


def test_never() -> None:
    plan = run([sent("ann@acme.com"), received("ann@acme.com")], "never")
    assert {p.rule for i in plan.interactions for p in i.participants if p.klass == "person"} == {
        "class:person"
    }


def test_exchange_in_one_batch_equals_exchange_across_two_batches() -> None:
    """Evidence from the directory and evidence within a batch decide alike."""
    records: list[Record] = [sent("Ann@Acme.com"), received("Ann Lee <ann@ACME.com>", 2)]
    one = run(records)

    directory = InMemoryDirectory()
    first = plan_batch(records[:1], policy(), directory)
    directory.absorb(first)
    second = plan_batch(records[1:], policy(), directory)

    expected_reply = [("ann@acme.com", "create", "policy:person:on_exchange"), ME_SKIPPED]
    assert decisions(one) == [
        [ME_SKIPPED, ("ann@acme.com", "create", "policy:person:on_exchange")],
        expected_reply,
    ]
    assert decisions(second) == [expected_reply]
    assert decisions(first) == [
        [ME_SKIPPED, ("ann@acme.com", "skip", "policy:person:on_exchange:unmet")]
    ]
    directory.absorb(second)
    assert directory.contacts == {"ann@acme.com": 1}
    assert directory.known["ann@acme.com"] == Evidence(sent_to=True, received_from=True)


def test_case_variants_are_one_contact() -> None:
    directory = InMemoryDirectory()
    for n, variant in enumerate(["Ann@Acme.com", "ANN@ACME.COM", "ann@acme.com"]):
        plan = plan_batch([received(variant, n)], policy("always"), directory)
        directory.absorb(plan)
    assert directory.contacts == {"ann@acme.com": 1}


def test_existing_contact_is_linked_whatever_the_class() -> None:
    directory = InMemoryDirectory(contacts={"noreply@acme.com": 7, "ann@acme.com": 8})
    plan = plan_batch(
        [received("noreply@acme.com"), received("ann@acme.com", 2)], policy("never"), directory
    )
    linked = [
        (p.email, p.decision, p.rule, p.contact_id)
        for i in plan.interactions
        for p in i.participants
    ]
    assert linked == [
        ("noreply@acme.com", "link", "exact-email", 7),
        (OWNER, "skip", "class:internal", None),
        ("ann@acme.com", "link", "exact-email", 8),
        (OWNER, "skip", "class:internal", None),
    ]


def test_meetings_are_an_exchange_unless_cancelled() -> None:
    held = meeting(ORGANIZER, person(OWNER))
    cancelled = replace(held, status="cancelled")
    assert decisions(run([held])) == [
        [("ann@acme.com", "create", "policy:person:on_exchange"), ME_SKIPPED]
    ]
    assert decisions(run([cancelled])) == [
        [("ann@acme.com", "skip", "policy:person:on_exchange:unmet"), ME_SKIPPED]
    ]


def test_nothing_is_created_for_machines_lists_rooms_colleagues_or_blocked() -> None:
    """One of each kind of sender: only the real person becomes a contact, even under always."""
    records: list[Record] = [
        mail(
            ("From", "News <news@acme.com>"),
            ("To", OWNER),
            ("List-Unsubscribe", "<u@acme.com>"),
            message_id="1@x",
        ),
        mail(("From", "noreply@shop.example"), ("To", OWNER), message_id="2@x"),
        mail(
            ("From", "MAILER-DAEMON@mx.ourisp.net"),
            ("To", OWNER),
            ("Return-Path", "<>"),
            message_id="3@x",
        ),
        mail(
            ("From", "Bob <bob@beta.io>"),
            ("To", "dev@lists.beta.io"),
            ("Cc", OWNER),
            ("List-Id", "<dev.beta.io>"),
            ("List-Post", "<mailto:dev@lists.beta.io>"),
            message_id="4@x",
        ),
        mail(("From", "col@ourco.com"), ("To", OWNER), message_id="5@x"),
        mail(("From", "spouse@gmail.com"), ("To", OWNER), message_id="6@x"),
        mail(("From", "Ann Lee <ann@acme.com>"), ("To", OWNER), message_id="7@x"),
        meeting(person(OWNER), person("room-1@ourco.com", cutype="ROOM"), person("col@ourco.com")),
    ]
    blocked = replace(
        policy("always"), blocklist=Blocklist(addresses=frozenset({"spouse@gmail.com"}))
    )
    plan = plan_batch(records, blocked, InMemoryDirectory())
    created = [p.email for i in plan.interactions for p in i.participants if p.decision == "create"]
    assert created == ["ann@acme.com"]
    # The spouse's mail has no other outside party: not captured at all.
    assert len(plan.interactions) == 7
    skipped = {
        (p.email, p.rule) for i in plan.interactions for p in i.participants if p.decision == "skip"
    }
    assert skipped == {
        ("news@acme.com", "class:automated"),
        ("noreply@shop.example", "class:automated"),
        ("mailer-daemon@mx.ourisp.net", "class:automated"),
        ("bob@beta.io", "class:automated"),
        ("dev@lists.beta.io", "class:automated"),
        ("col@ourco.com", "class:internal"),
        (OWNER, "class:internal"),
    }
    everyone = {p.email for i in plan.interactions for p in i.participants}
    assert "spouse@gmail.com" not in everyone
    assert "room-1@ourco.com" not in everyone


def test_role_accounts_create_under_always_with_company_but_no_name() -> None:
    plan = run([received("Acme Sales <sales@acme-robotics.co.uk>")], role="always")
    sales = plan.interactions[0].participants[0]
    assert (sales.decision, sales.rule, sales.class_reason) == (
        "create",
        "policy:role:always",
        "local-part:sales",
    )
    assert sales.observations == (Observation("company", "Acme Robotics", 0.4),)
    assert sales.company_domain == "acme-robotics.co.uk"


@pytest.mark.parametrize(
    ("sender", "observations", "company_domain"),
    [
        (
            '"Lee, Ann" <ann@eu.acme-robotics.co.uk>',
            (
                Observation("name", "Ann Lee", 0.6),
                Observation("given_name", "Ann", 0.6),
                Observation("family_name", "Lee", 0.6),
                Observation("company", "Acme Robotics", 0.4),
            ),
            "acme-robotics.co.uk",
        ),
        (
            "=?UTF-8?B?SsO2cmcgTcO8bGxlcg==?= <jm@gmail.com>",
            (
                Observation("name", "Jörg Müller", 0.6),
                Observation("given_name", "Jörg", 0.6),
                Observation("family_name", "Müller", 0.6),
            ),
            None,
        ),
        (
            "ann.lee@yahoo.co.uk",
            (
                Observation("name", "Ann Lee", 0.3),
                Observation("given_name", "Ann", 0.3),
                Observation("family_name", "Lee", 0.3),
            ),
            None,
        ),
        ("Acme <al@acme.com>", (Observation("company", "Acme", 0.4),), "acme.com"),
        ("al@acme.com <al@acme.com>", (Observation("company", "Acme", 0.4),), "acme.com"),
        ("AL <al@acme.com>", (Observation("company", "Acme", 0.4),), "acme.com"),
    ],
)
def test_observations_on_create(
    sender: str, observations: tuple[Observation, ...], company_domain: str | None
) -> None:
    created = run([received(sender)], "always").interactions[0].participants[0]
    assert created.decision == "create"
    assert (created.observations, created.company_domain) == (observations, company_domain)


def test_only_participants_the_policy_may_still_create_carry_observations() -> None:
    ann = run([received("Ann Lee <ann@acme.com>")]).interactions[0].participants[0]
    assert (ann.decision, ann.observations, ann.company_domain, ann.name) == (
        "skip",
        (
            Observation("name", "Ann Lee", 0.6),
            Observation("given_name", "Ann", 0.6),
            Observation("family_name", "Lee", 0.6),
            Observation("company", "Acme", 0.4),
        ),
        "acme.com",
        "Ann Lee",
    )
    never = run([received("Ann Lee <ann@acme.com>")], "never").interactions[0].participants[0]
    assert (never.decision, never.observations, never.company_domain) == ("skip", (), None)
    sales = run([received("Acme Sales <sales@acme.com>")]).interactions[0].participants[0]
    assert (sales.decision, sales.observations, sales.company_domain) == ("skip", (), None)


def test_plan_batch_carries_account_errors_and_removed() -> None:
    error = IngestError(SourceRef("acct", "INBOX", "9"), "header-too-large")
    gone = SourceRef("acct", "INBOX", "3")
    plan = plan_batch([], policy(), InMemoryDirectory(), errors=[error], removed=[gone])
    assert plan == Plan(account="acct", interactions=(), errors=(error,), removed=(gone,))


def test_meeting_participants_keep_partstat_through_resolution() -> None:
    plan = run([meeting(ORGANIZER, person("bob@beta.io", partstat="DECLINED"), person(OWNER))])
    assert [
        (p.email, p.role, p.response_status, p.decision) for p in plan.interactions[0].participants
    ] == [
        ("ann@acme.com", "organizer", None, "create"),
        ("bob@beta.io", "attendee", "DECLINED", "skip"),  # declined: met nobody
        (OWNER, "attendee", "NEEDS-ACTION", "skip"),
    ]


def test_only_participants_who_did_not_decline_have_met() -> None:
    answers = ("ACCEPTED", "TENTATIVE", "NEEDS-ACTION", "DECLINED", "DELEGATED")
    invitees = [person(f"{a.lower()}@beta.io", partstat=a) for a in answers]
    held = meeting(person(OWNER, partstat="ACCEPTED"), *invitees, person("plain@beta.io"))
    assert decisions(run([held])) == [
        [
            ME_SKIPPED,
            ("accepted@beta.io", "create", "policy:person:on_exchange"),
            ("tentative@beta.io", "create", "policy:person:on_exchange"),
            ("needs-action@beta.io", "create", "policy:person:on_exchange"),
            ("declined@beta.io", "skip", "policy:person:on_exchange:unmet"),
            ("delegated@beta.io", "skip", "policy:person:on_exchange:unmet"),
            ("plain@beta.io", "create", "policy:person:on_exchange"),  # no PARTSTAT
        ]
    ]
    # The owner declined an outside invitation: the owner met nobody either.
    declined = meeting(ORGANIZER, person(OWNER, partstat="DECLINED"), invitees[0])
    assert decisions(run([declined])) == [
        [
            ("ann@acme.com", "skip", "policy:person:on_exchange:unmet"),
            ME_SKIPPED,
            ("accepted@beta.io", "skip", "policy:person:on_exchange:unmet"),
        ]
    ]


SCENARIOS: dict[str, list[Record]] = {
    "reply after send": [sent("ann@acme.com"), received("Ann@Acme.com", 2)],
    "send after receive": [received("ann@acme.com"), sent("ANN@acme.com", 2)],
    "two one-way mails": [received("ann@acme.com"), received("ann@acme.com", 2)],
    "meeting then mail": [meeting(ORGANIZER, person(OWNER)), received("ann@acme.com", 2)],
    "cancelled meeting then mail": [
        meeting(ORGANIZER, person(OWNER), status="cancelled"),
        received("ann@acme.com", 2),
    ],
    "declined meeting then mail": [
        meeting(person(OWNER), person("ann@acme.com", partstat="DECLINED")),
        received("ann@acme.com", 2),
    ],
    "cc on a thread": [
        mail(("From", OWNER), ("To", "ann@acme.com"), ("Cc", "bob@beta.io"), message_id="o@x"),
        mail(("From", "bob@beta.io"), ("To", OWNER), message_id="i@x"),
    ],
}


@pytest.mark.parametrize("when", ["never", "on_sent", "on_exchange", "always"])
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_decisions_do_not_depend_on_batch_boundaries(scenario: str, when: When) -> None:
    records = SCENARIOS[scenario]
    together = plan_batch(records, policy(when), InMemoryDirectory())
    directory = InMemoryDirectory()
    apart: list[Plan] = []
    for record in records:
        plan = plan_batch([record], policy(when), directory)
        directory.absorb(plan)
        apart.append(plan)
    # In one batch every interaction sees the whole batch's evidence; across
    # batches the last one sees everything before it. So the last
    # interaction captures the same people (created in one batch, linked to
    # the contact an earlier batch made in the other), and the same contacts
    # come out.
    assert captured(apart[-1].interactions[-1]) == captured(together.interactions[-1])
    made = InMemoryDirectory()
    made.absorb(together)
    assert set(made.contacts) == set(directory.contacts)


def captured(interaction: InteractionPlan) -> list[str]:
    return [p.email for p in interaction.participants if p.decision != "skip"]


@pytest.mark.parametrize(
    "header",
    [("Auto-Submitted", "auto-replied"), ("List-Id", "<dev.acme.com>"), ("Precedence", "bulk")],
)
def test_machine_answers_are_no_exchange(header: tuple[str, str]) -> None:
    """An out-of-office reply or a list post is not the person writing to us."""
    reply = mail(("From", "Omar <omar@acme.com>"), ("To", OWNER), header, message_id="ooo@x")
    plan = run([sent("omar@acme.com"), reply])
    assert decisions(plan)[0] == [
        ME_SKIPPED,
        ("omar@acme.com", "skip", "policy:person:on_exchange:unmet"),
    ]
    assert decisions(plan)[1] == [("omar@acme.com", "skip", "class:automated"), ME_SKIPPED]


@pytest.mark.parametrize("one_batch", [True, False])
def test_replying_to_a_list_does_not_make_the_list_a_contact(one_batch: bool) -> None:
    directory = InMemoryDirectory()
    batches = [[list_post(), reply_to_list()]] if one_batch else [[list_post()], [reply_to_list()]]
    plans = []
    for records in batches:
        plans.append(plan_batch(records, policy("on_sent"), directory))
        directory.absorb(plans[-1])
    [reply] = [i for p in plans for i in p.interactions if i.identity == "msgid:re-list1@ourco.com"]
    [the_list] = [p for p in reply.participants if p.email == "sales-emea@contoso-mfg.example"]
    assert (the_list.klass, the_list.class_reason, the_list.decision, the_list.rule) == (
        "automated",
        "list-address:known",
        "skip",
        "class:automated",
    )
    assert directory.contacts == {}
    assert directory.known["sales-emea@contoso-mfg.example"] == Evidence(listed=True, sent_to=False)
