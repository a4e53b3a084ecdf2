"""matcher.classify: every family of address and every message-level signal."""

from __future__ import annotations

import pytest

from connectors.records import Address
from matcher import extract
from matcher.classify import Perimeter, classify, domain_within, list_addresses, sender_signal
from matcher.plan import AccountPolicy, Blocklist
from tests.builders import mail

PERIMETER = Perimeter.of(
    AccountPolicy(
        account="acct",
        owner_addresses=frozenset(
            {"Me@OurCo.com", "me@bücher.de", "not an address", "Rep.Name@googlemail.com"}
        ),
        org_domains=frozenset({"OurCo.com", " "}),
        blocklist=Blocklist(
            addresses=frozenset({"Spouse@Gmail.com"}), domains=frozenset({"Bank.Example"})
        ),
    )
)


def of(email: str, name: str | None = None) -> Address:
    address = Address.of(email, name)
    assert address is not None
    return address


@pytest.mark.parametrize(
    ("email", "klass", "reason"),
    [
        ("me@ourco.com", "internal", "owner"),
        ("ME@OURCO.COM", "internal", "owner"),
        ("me@xn--bcher-kva.de", "internal", "owner"),
        ("me+crm@xn--bcher-kva.de", "internal", "owner"),  # the owner's plus-alias
        ("repname@gmail.com", "internal", "owner"),  # Gmail ignores dots
        ("rep.name+news@gmail.com", "internal", "owner"),
        ("rep.name@gmail.co", "person", "person"),
        ("rep.name@outlook.com", "person", "person"),
        ("col@ourco.com", "internal", "org-domain"),
        ("col@eu.sales.ourco.com", "internal", "org-domain"),
        ("noreply@ourco.com", "internal", "org-domain"),  # our own systems: colleagues' side
        ("col@notourco.com", "person", "person"),
        ("col@ourco.com.evil.io", "person", "person"),
        # automated families, every separator spelling
        ("noreply@acme.com", "automated", "local-part:noreply"),
        ("no-reply@acme.com", "automated", "local-part:noreply"),
        ("no_reply@acme.com", "automated", "local-part:noreply"),
        ("No.Reply@acme.com", "automated", "local-part:noreply"),
        ("noreply-dmarc-support@google.com", "automated", "local-part:noreply"),
        ("notifications-noreply@linkedin.com", "automated", "local-part:notifications"),
        ("donotreply@acme.com", "automated", "local-part:donotreply"),
        ("do-not-reply@acme.com", "automated", "local-part:donotreply"),
        ("dont-reply@acme.com", "automated", "local-part:dontreply"),
        ("notifications@github.com", "automated", "local-part:notifications"),
        ("notification@acme.com", "automated", "local-part:notification"),
        ("MAILER-DAEMON@mx.acme.com", "automated", "local-part:mailerdaemon"),
        ("mailer_daemon@acme.com", "automated", "local-part:mailerdaemon"),
        ("postmaster@acme.com", "automated", "local-part:postmaster"),
        ("bounce@acme.com", "automated", "local-part:bounce"),
        ("bounces+1234-abcd=ourco.com@mail.acme.com", "automated", "local-part:bounces"),
        ("bounce-mc.us5_1234.5678-ann=acme.com@mail123.mcsv.net", "automated", "local-part:bounce"),
        ("bounce2@acme.com", "automated", "local-part:bounce"),
        ("newsletter@acme.com", "automated", "local-part:newsletter"),
        ("auto-reply@acme.com", "automated", "local-part:autoreply"),
        # role accounts
        ("sales@acme.com", "role", "local-part:sales"),
        ("Info@acme.com", "role", "local-part:info"),
        ("support@acme.com", "role", "local-part:support"),
        ("admin@acme.com", "role", "local-part:admin"),
        ("billing@acme.com", "role", "local-part:billing"),
        ("contact@acme.com", "role", "local-part:contact"),
        ("hello@acme.com", "role", "local-part:hello"),
        ("team@acme.com", "role", "local-part:team"),
        ("office@acme.com", "role", "local-part:office"),
        ("jobs@acme.com", "role", "local-part:jobs"),
        ("hr@acme.com", "role", "local-part:hr"),
        ("marketing@acme.com", "role", "local-part:marketing"),
        ("press@acme.com", "role", "local-part:press"),
        ("help@acme.com", "role", "local-part:help"),
        ("service@acme.com", "role", "local-part:service"),
        ("sales.emea@acme.com", "role", "local-part:sales"),
        ("info-de@acme.com", "role", "local-part:info"),
        ("customer-service@acme.com", "role", "local-part:customerservice"),
        ("sales+crm@acme.com", "role", "local-part:sales"),
        # distribution lists that name their whole audience, anywhere in the local part
        ("enron.everyone_et&s_omaha@enron.com", "role", "local-part:everyone"),
        ("emea-allstaff@acme.com", "role", "local-part:allstaff"),
        ("announcements.enron@enron.com", "role", "local-part:announcements"),
        # Google Calendar's own addresses: shared calendars, rooms, imported events
        ("c_1f2e3d4c5b6a@group.calendar.google.com", "automated", "domain:calendar"),
        ("en.usa#holiday@group.v.calendar.google.com", "automated", "domain:calendar"),
        ("unknownorganizer@calendar.google.com", "automated", "domain:calendar"),
        ("acme.com_3830353532@resource.calendar.google.com", "room", "domain:calendar-resource"),
        # reply and bounce hosts, generated local parts
        ("reply+AABBCCDDEEFF00112233@reply.github.com", "automated", "domain:reply"),
        ("octocat@noreply.github.com", "automated", "domain:noreply"),
        ("ann@bounces.acme-mail.com", "automated", "domain:bounces"),
        (
            "0100018c3e4f5a6b-1234abcd-5678-90ef-abcd-1234567890ab-000000@email.amazonses.com",
            "automated",
            "local-part:generated",
        ),
        ("9f86d081884c7d659a2feaa0c55ad015@tickets.acme.com", "automated", "local-part:generated"),
        # people, including look-alikes
        ("ann@reply.co.uk", "person", "person"),  # a company named Reply, under co.uk
        ("deadbeef@acme.com", "person", "person"),
        ("ann@acme.com", "person", "person"),
        ("ann.lee@acme.com", "person", "person"),
        ("john.sales@acme.com", "person", "person"),
        ("salesforce.ann@acme.com", "person", "person"),
        ("information-ann@acme.com", "person", "person"),
        ("helena@acme.com", "person", "person"),
    ],
)
def test_address_classes(email: str, klass: str, reason: str) -> None:
    found = classify(of(email), PERIMETER)
    assert (found.klass, found.reason) == (klass, reason)


@pytest.mark.parametrize(
    ("email", "cutype", "klass", "reason"),
    [
        ("room-4@ourco.com", "ROOM", "room", "cutype:room"),
        ("beamer@acme.com", "resource", "room", "cutype:resource"),
        ("all@acme.com", "GROUP", "role", "cutype:group"),
        ("ann@acme.com", "INDIVIDUAL", "person", "person"),
        ("ann@acme.com", "UNKNOWN", "person", "person"),
        ("col@ourco.com", "GROUP", "internal", "org-domain"),
    ],
)
def test_calendar_user_types(email: str, cutype: str, klass: str, reason: str) -> None:
    found = classify(of(email), PERIMETER, cutype=cutype)
    assert (found.klass, found.reason) == (klass, reason)


@pytest.mark.parametrize(
    ("headers", "signal"),
    [
        ((), None),
        ((("List-Id", "Dev <dev.lists.acme.com>"),), "header:list-id"),
        ((("List-Unsubscribe", "<mailto:u@acme.com>"),), "header:list-unsubscribe"),
        ((("List-Id", "  "),), None),
        ((("Precedence", "bulk"),), "header:precedence:bulk"),
        ((("Precedence", " List "),), "header:precedence:list"),
        ((("Precedence", "junk"),), "header:precedence:junk"),
        ((("Precedence", "first-class"),), None),
        ((("Auto-Submitted", "auto-replied"),), "header:auto-submitted:auto-replied"),
        (
            (("Auto-Submitted", "auto-generated; owner-email=x@y"),),
            "header:auto-submitted:auto-generated",
        ),
        ((("Auto-Submitted", "No"),), None),
        ((("Auto-Submitted", "no ; comment"),), None),
        # Outlook asks recipients not to auto-reply: nothing about who sent it.
        ((("X-Auto-Response-Suppress", "All"),), None),
        ((("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply"),), None),
        ((("X-Autoreply", "yes"),), "header:x-autoreply"),
        ((("X-Autorespond", "1"),), "header:x-autorespond"),
        ((("Return-Path", "<>"),), "header:return-path:null"),
        ((("Return-Path", "< >"),), "header:return-path:null"),
        ((("Return-Path", "<bounce@acme.com>"),), None),
    ],
)
def test_message_signals(headers: tuple[tuple[str, str], ...], signal: str | None) -> None:
    assert sender_signal(mail(*headers)) == signal


def test_signal_applies_only_when_given_and_after_internal_and_local_part() -> None:
    assert (
        classify(of("ann@acme.com"), PERIMETER, signal="header:list-id").reason == "header:list-id"
    )
    assert classify(of("me@ourco.com"), PERIMETER, signal="header:list-id").klass == "internal"
    noreply = classify(of("noreply@acme.com"), PERIMETER, signal="header:list-id")
    assert noreply.reason == "local-part:noreply"
    assert classify(of("sales@acme.com"), PERIMETER, signal="header:precedence:bulk").klass == (
        "automated"
    )


@pytest.mark.parametrize(
    ("email", "blocked"),
    [
        ("spouse@gmail.com", True),
        ("SPOUSE@GMAIL.COM", True),
        ("other@gmail.com", False),
        ("x@bank.example", True),
        ("x@mail.eu.bank.example", True),
        ("x@notbank.example", False),
        ("x@bank.example.org", False),
    ],
)
def test_blocklist(email: str, blocked: bool) -> None:
    assert PERIMETER.blocks(of(email).email) is blocked


def test_perimeter_normalizes_policy_values() -> None:
    assert PERIMETER.owners == frozenset(
        {"me@ourco.com", "me@xn--bcher-kva.de", "repname@gmail.com"}
    )
    assert PERIMETER.org_domains == frozenset({"ourco.com"})
    assert PERIMETER.blocked_domains == frozenset({"bank.example"})


@pytest.mark.parametrize(
    ("domain", "within"),
    [("a.com", True), ("x.a.com", True), ("xa.com", False), ("com", False), ("a.com.b", False)],
)
def test_domain_within(domain: str, within: bool) -> None:
    assert domain_within(domain, frozenset({"a.com"})) is within


def test_an_outlook_message_from_a_person_stays_a_person() -> None:
    # Outlook and Exchange add X-Auto-Response-Suppress to ordinary mail a
    # person writes; it asks *recipients* not to auto-reply (MS-OXCMAIL).
    outlook = mail(
        ("From", "Julia Novak <julia.novak@contoso-mfg.example>"),
        ("To", "Sam Reed <me@ourco.com>"),
        ("X-Auto-Response-Suppress", "All"),
        ("Content-Type", 'multipart/alternative; boundary="_000_DB9PR"'),
    )
    found = extract([outlook], AccountPolicy("acct", frozenset({"me@ourco.com"})))[0]
    assert [(p.email, p.klass, p.reason) for p in found.participants] == [
        ("julia.novak@contoso-mfg.example", "person", "person"),
        ("me@ourco.com", "internal", "owner"),
    ]


# Header blocks as Google Groups, Mailman 2 and LISTSERV write them (trimmed).
GOOGLE_GROUP = (
    ("From", "Julia Novak <julia.novak@contoso-mfg.example>"),
    ("To", "Sales EMEA <sales-emea@contoso-mfg.example>"),
    ("Cc", "Sam Reed <me@ourco.com>"),
    ("List-Id", "<sales-emea.contoso-mfg.example>"),
    (
        "List-Help",
        "<https://support.google.com/a/contoso-mfg.example/bin/topic.py?topic=25838>,"
        " <mailto:sales-emea+help@contoso-mfg.example>",
    ),
    ("List-Subscribe", "<mailto:sales-emea+subscribe@contoso-mfg.example>"),
)
MAILMAN_ANNOUNCE = (
    ("From", "Piet de Vries <piet@fleet.example>"),
    ("To", "announce@lists.fleet.example"),
    ("List-Id", "Fleet announcements <announce.lists.fleet.example>"),
    ("List-Post", "NO"),  # RFC 2369 3.4: posting not allowed
    ("List-Help", "<mailto:announce-request@lists.fleet.example?subject=help>"),
    ("List-Subscribe", "<mailto:announce-request@lists.fleet.example?subject=subscribe>"),
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (GOOGLE_GROUP, {
            "sales-emea+help@contoso-mfg.example": "list-help",
            "sales-emea@contoso-mfg.example": "list-id",  # the first header to name it
            "sales-emea+subscribe@contoso-mfg.example": "list-subscribe",
        }),
        (MAILMAN_ANNOUNCE[4:], {  # List-Help alone
            "announce-request@lists.fleet.example": "list-help",
            "announce@lists.fleet.example": "list-help",
        }),
        ((("List-Id", "<DEVEL.LISTSERV.UNI.EXAMPLE>"),), {"devel@listserv.uni.example": "list-id"}),
        (MAILMAN_ANNOUNCE, {
            "announce@lists.fleet.example": "list-id",
            "announce-request@lists.fleet.example": "list-help",
        }),
        ((("List-Post", "<mailto:dev@lists.beta.io>"),), {"dev@lists.beta.io": "list-post"}),
        ((("List-Id", "no angle brackets"), ("List-Post", "NO")), {}),
    ],
)  # fmt: skip
def test_list_addresses_from_every_list_header(
    headers: tuple[tuple[str, str], ...], expected: dict[str, str]
) -> None:
    assert list_addresses(mail(*headers)) == expected


@pytest.mark.parametrize("headers", [GOOGLE_GROUP, MAILMAN_ANNOUNCE])
def test_a_list_address_without_list_post_is_automated(
    headers: tuple[tuple[str, str], ...],
) -> None:
    found = extract([mail(*headers)], AccountPolicy("acct", frozenset({"me@ourco.com"})))[0]
    classes = {p.email: (p.klass, p.reason) for p in found.participants}
    list_address = next(e for e in classes if "sales-emea@" in e or "announce@" in e)
    assert classes[list_address] == ("automated", "list-address:list-id")


def test_a_relay_sends_in_a_persons_name_from_its_own_address() -> None:
    """DocuSign, LinkedIn and Mailman write "Jane Doe via DocuSign": the
    address is the service's; a surname "Via" is no relay."""
    relayed = classify(of("dse_NA3@docusign.net", "Jane Doe via DocuSign"), PERIMETER)
    assert (relayed.klass, relayed.reason) == ("automated", "display:relayed")
    person = classify(of("maria.via@acme.com", "Maria Via"), PERIMETER)
    assert (person.klass, person.reason) == ("person", "person")
