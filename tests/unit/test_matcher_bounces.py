"""Delivery reports as real mail systems write them: who failed, and whether for good."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from connectors.base import Limits
from connectors.google.gmail_parse import parse_gmail_message
from connectors.mail.mime import parse_message
from connectors.records import Message, SourceRef
from matcher import InMemoryDirectory, plan_batch
from matcher.bounces import FailedDelivery, failed_deliveries, is_delivery_report
from tests.builders import policy
from tests.servers.google_gmail import Mailbox

DATA = Path(__file__).resolve().parents[1] / "data" / "bounces"


def read(name: str) -> Message:
    return parse_message((DATA / name).read_bytes(), SourceRef("acct", "INBOX", name), Limits())


def test_postfix_rfc3464_report_gives_each_recipient_with_its_status() -> None:
    report = read("postfix-dsn.eml")
    assert report.delivery_status is not None
    assert failed_deliveries(report) == (
        FailedDelivery("bob.smith@acme.com", "5.1.1", True, "dsn"),
    )  # dana@acme.com was only delayed (Action: delayed, 4.4.1): not a failure


def test_without_the_status_part_the_human_text_gives_the_same() -> None:
    # IMAP fetches only the first text part: the notification text.
    report = replace(read("postfix-dsn.eml"), delivery_status=None)
    assert is_delivery_report(report)
    assert failed_deliveries(report) == (
        FailedDelivery("bob.smith@acme.com", "5.1.1", True, "text:postfix"),
    )


def test_gmail_report_in_both_parts() -> None:
    report = read("gmail-dsn.eml")
    want = ("carol.old@initech.example", "5.1.1", True)
    assert [(f.email, f.status, f.permanent) for f in failed_deliveries(report)] == [want]
    text_only = failed_deliveries(replace(report, delivery_status=None))
    assert [(f.email, f.status, f.permanent, f.source) for f in text_only] == [
        (*want, "text:gmail")
    ]


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("exchange-ndr-text.eml", [("erik.jansen@contoso.example", "5.1.10", True)]),
        ("qmail-text.eml", [("frank@hosting.example", "5.1.1", True)]),
    ],
)
def test_text_only_reports(name: str, want: list[tuple[str, str, bool]]) -> None:
    report = read(name)
    assert report.delivery_status is None
    assert [(f.email, f.status, f.permanent) for f in failed_deliveries(report)] == want


def test_out_of_office_is_no_bounce_whatever_it_looks_like() -> None:
    ooo = read("out-of-office.eml")
    assert not is_delivery_report(ooo)
    assert failed_deliveries(ooo) == ()


def test_delayed_and_soft_failures_are_not_permanent() -> None:
    text = (
        "Delivery to the following recipient has been delayed:\n\n     ann@slow.example\n\n"
        "Message will be retried for 2 more day(s)\n"
    )
    delayed = replace(read("gmail-dsn.eml"), delivery_status=None, text=text)
    assert failed_deliveries(delayed) == (
        FailedDelivery("ann@slow.example", "", False, "text:gmail"),
    )
    full = replace(
        read("qmail-text.eml"),
        text="<gus@full.example>:\n452 4.2.2 Mailbox full, try again later\n",
    )
    assert failed_deliveries(full) == (
        FailedDelivery("gus@full.example", "4.2.2", False, "text:postfix"),
    )


def test_a_report_plans_its_hard_bounces_and_creates_nobody() -> None:
    plan = plan_batch([read("postfix-dsn.eml")], policy("always"), InMemoryDirectory())
    (report,) = plan.interactions
    assert [(b.email, b.mailbox, b.status, b.source) for b in report.bounced] == [
        ("bob.smith@acme.com", "bob.smith@acme.com", "5.1.1", "dsn")
    ]
    assert [(p.email, p.klass, p.decision) for p in report.participants] == [
        ("mailer-daemon@mail.ourco.com", "internal", "skip"),  # our own mail server
        ("me@ourco.com", "internal", "skip"),
    ]
    ooo = plan_batch([read("out-of-office.eml")], policy("always"), InMemoryDirectory())
    assert ooo.interactions[0].bounced == ()


def test_office365_report_from_its_system_mailbox_is_automated() -> None:
    report = read("o365-ndr.eml")
    want = ("hanna.berg@contoso.example", "5.1.10", True)
    assert [(f.email, f.status, f.permanent) for f in failed_deliveries(report)] == [want]
    text_only = failed_deliveries(replace(report, delivery_status=None))
    assert [(f.email, f.status, f.permanent, f.source) for f in text_only] == [
        (*want, "text:exchange")
    ]
    plan = plan_batch([report], policy("always"), InMemoryDirectory())
    system, _ = plan.interactions[0].participants
    assert (system.klass, system.class_reason, system.decision) == (
        "automated",
        "header:content-type:report",
        "skip",
    )


def test_a_gmail_api_copy_of_the_report_is_read_from_its_text() -> None:
    box = Mailbox("me.sales@gmail.com")
    raw = (DATA / "gmail-dsn.eml").read_bytes()
    resource = box.get_message({"format": ["full"]}, box.add(raw))
    message, _ = parse_gmail_message(resource, "acct", "mail", Limits())
    assert [(f.email, f.status, f.permanent) for f in failed_deliveries(message)] == [
        ("carol.old@initech.example", "5.1.1", True)
    ]
