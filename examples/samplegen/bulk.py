"""Machine-sent mail: newsletters, notifications, invoices, list traffic and a bounce.

None of these senders may ever become a contact; each carries the headers a
real sender of its kind sets (RFC 2369 List-*, RFC 3834 Auto-Submitted,
Precedence: bulk, RFC 3464 delivery-status reports).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from samplegen.cast import person
from samplegen.render import Email, encode_name, mailbox, message_id

UTC = ZoneInfo("UTC")

SAAS_TOPICS = (
    "Why usage-based pricing keeps winning",
    "Five onboarding emails that convert",
    "The state of B2B churn in 2026",
    "Hiring your first sales engineer",
    "Procurement cycles are getting longer",
    "What we learned from 300 QBR decks",
    "Discounting without regret",
    "Security reviews: a survival guide",
    "The case for annual contracts",
    "Forecasting with incomplete data",
)
ROBOTICS_TOPICS = (
    "Warehouse automation orders hit a record",
    "Grippers, cobots and the labour gap",
    "Inside a lights-out fulfilment centre",
    "The robotics funding round-up",
    "Safety standards update: what changed",
    "Peak season readiness checklist",
)
DEVOPS_TOPICS = (
    "Kubernetes upgrades without downtime",
    "Idempotency keys in practice",
    "Postmortem culture at small companies",
    "SFTP is not dead: integration patterns",
    "Observability budgets",
    "Rotating secrets safely",
    "Backpressure in webhook consumers",
    "Blue-green for databases",
)


def _raw(headers: list[str], body: str) -> bytes:
    return ("\n".join(headers) + "\n\n" + body).encode("utf-8")


def _newsletter(
    name: str, sender: str, to_key: str, when: datetime, topic: str, issue: int
) -> Email:
    domain = sender.rpartition("@")[2]
    mid = message_id(when, sender, topic, domain)
    body = (
        f"{name}, issue {issue}\n\nThis week: {topic}.\n\n"
        "Read the full story on our website.\n\n"
        f"You are receiving this because you subscribed with {person(to_key).email}.\n"
        f"Unsubscribe: https://{domain}/u/{issue:04d}\n"
    )
    headers = [
        f"From: {encode_name(name)} <{sender}>",
        f"Reply-To: {encode_name(name + ' Editors')} <editors@{domain}>",
        f"To: {person(to_key).email}",
        f"Subject: {name} #{issue}: {topic}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {mid}",
        f"List-Unsubscribe: <https://{domain}/u/{issue:04d}>, <mailto:unsubscribe@{domain}>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Precedence: bulk",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
    ]
    return Email(mid, when, "", frozenset(), _raw(headers, body), frozenset({to_key}))


def newsletters() -> list[Email]:
    out: list[Email] = []
    start = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    for i in range(20):  # fortnightly, Tuesdays
        topic = SAAS_TOPICS[i % len(SAAS_TOPICS)]
        when = start + timedelta(days=14 * i)
        out.append(
            _newsletter("SaaS Weekly", "news@saasweekly.example", "alice", when, topic, i + 1)
        )
    start = datetime(2026, 1, 15, 7, 30, tzinfo=UTC)
    for i in range(11):  # monthly
        topic = ROBOTICS_TOPICS[i % len(ROBOTICS_TOPICS)]
        when = start + timedelta(days=28 * i)
        out.append(
            _newsletter(
                "The Robotics Brief",
                "newsletter@roboticsbrief.example",
                "alice",
                when,
                topic,
                40 + i,
            )
        )
    start = datetime(2026, 1, 9, 6, 0, tzinfo=UTC)
    for i in range(20):  # fortnightly, Fridays
        topic = DEVOPS_TOPICS[i % len(DEVOPS_TOPICS)]
        when = start + timedelta(days=14 * i)
        out.append(
            _newsletter("DevOps Digest", "digest@devopsdigest.example", "bob", when, topic, 200 + i)
        )
    return out


def _notification(
    from_header: str, to_key: str, when: datetime, subject: str, body: str, auto: bool
) -> Email:
    addr = from_header.rpartition("<")[2].rstrip(">")
    mid = message_id(when, addr, subject, addr.rpartition("@")[2])
    headers = [
        f"From: {from_header}",
        f"To: {person(to_key).email}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {mid}",
    ]
    if auto:
        headers += ["Auto-Submitted: auto-generated", "X-Auto-Response-Suppress: All"]
    headers += ["MIME-Version: 1.0", 'Content-Type: text/plain; charset="utf-8"']
    return Email(mid, when, "", frozenset(), _raw(headers, body), frozenset({to_key}))


TRACKER_EVENTS = (
    ("carol", "assigned you", "NW-101 Globex security review"),
    ("dev", "commented on", "NW-114 Acme SFTP late files"),
    ("carol", "mentioned you in", "NW-120 Q2 forecast"),
    ("dev", "closed", "NW-114 Acme SFTP late files"),
    ("carol", "assigned you", "NW-133 Umbrella pilot plan"),
    ("bob", "commented on", "NW-133 Umbrella pilot plan"),
)
CODEHUB_EVENTS = (
    "connector-sdk: CI failed on main",
    "connector-sdk: pull request #212 approved",
    "infra: dependency alert for requests",
    "connector-sdk: release v2.4.0 published",
)


def _invoices() -> list[Email]:
    """Monthly invoices on the 1st: a noreply@ address and no Auto-Submitted header."""
    out: list[Email] = []
    for month in range(1, 12):
        when = datetime(2026, month, 1, 4, 0, tzinfo=UTC)
        period = when.strftime("%B %Y")
        body = (
            f"Hello,\n\nYour invoice CH-2026-{month:02d}-0042 for {period} is ready. "
            "Amount due: $1,240.00.\n\nThis mailbox is not monitored.\n"
        )
        sender = "CloudHost Billing <noreply@billing.cloudhost.example>"
        subject = f"Your CloudHost invoice for {period}"
        out.append(_notification(sender, "alice", when, subject, body, False))
    return out


def _tracker() -> list[Email]:
    """Task tracker mail: a colleague's name as display name of a notifications@ address."""
    out: list[Email] = []
    for i in range(12):
        actor, verb, item = TRACKER_EVENTS[i % len(TRACKER_EVENTS)]
        when = datetime(2026, 1, 20, 15, 0, tzinfo=UTC) + timedelta(days=25 * i, hours=i)
        name = person(actor).name
        body = f"{name} {verb} {item}.\n\nView it in Trackly: https://trackly.example/nw/{i}\n"
        sender = f"{name} (Trackly) <notifications@trackly.example>"
        out.append(
            _notification(sender, "alice", when, f"[Trackly] {name} {verb} {item}", body, True)
        )
    return out


def _codehub() -> list[Email]:
    out: list[Email] = []
    for i in range(16):
        event = CODEHUB_EVENTS[i % len(CODEHUB_EVENTS)]
        when = datetime(2026, 1, 7, 18, 30, tzinfo=UTC) + timedelta(days=19 * i)
        body = (
            f"{event}\n\nhttps://codehub.example/northwind/{i}\n\n"
            "You are receiving this because you watch this repository.\n"
        )
        sender = "CodeHub <notifications@codehub.example>"
        out.append(_notification(sender, "bob", when, f"[CodeHub] {event}", body, True))
    return out


def notifications() -> list[Email]:
    return _invoices() + _tracker() + _codehub()


LIST_POSTS = (
    ("kenji", "2026-02-24 10:00", "Webhook retries: exponential or fixed?"),
    ("hannah", "2026-02-24 16:30", "Re: Webhook retries: exponential or fixed?"),
    ("mateo", "2026-03-30 09:15", "OpenFleet 3.2 schema changes"),
    ("kenji", "2026-03-31 12:40", "Re: OpenFleet 3.2 schema changes"),
    ("mateo", "2026-06-18 14:05", "Telematics sandbox is down"),
    ("hannah", "2026-09-21 11:20", "Retrying telematics webhooks: our write-up"),
    ("kenji", "2026-09-21 19:02", "Re: Retrying telematics webhooks: our write-up"),
    ("mateo", "2026-10-27 08:45", "Call for talks: OpenFleet meetup"),
)
LIST_ADDR = "integrators@lists.openfleet.example"


def list_traffic() -> list[Email]:
    """OpenFleet integrators list: delivered to Alice as a subscriber, To: the list."""
    out: list[Email] = []
    for key, when_text, subject in LIST_POSTS:
        author = person(key)
        when = datetime.strptime(when_text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(author.zone))
        mid = message_id(when, author.email, subject, author.email.rpartition("@")[2])
        body = (
            f"{subject.removeprefix('Re: ')}: notes from our side follow.\n\n{author.name}\n\n"
            "_______________________________________________\n"
            "integrators mailing list\nhttps://lists.openfleet.example/integrators\n"
        )
        headers = [
            f"From: {mailbox(author)}",
            f"To: OpenFleet integrators <{LIST_ADDR}>",
            f"Subject: [integrators] {subject}",
            f"Date: {format_datetime(when)}",
            f"Message-ID: {mid}",
            "Sender: integrators-bounces@lists.openfleet.example",
            "List-Id: OpenFleet integrators <integrators.lists.openfleet.example>",
            f"List-Post: <mailto:{LIST_ADDR}>",
            "List-Unsubscribe: <mailto:integrators-leave@lists.openfleet.example>",
            "Precedence: list",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="utf-8"',
        ]
        out.append(Email(mid, when, "", frozenset(), _raw(headers, body), frozenset({"alice"})))
    return out


def out_of_office() -> Email:
    """Omar's auto-reply (RFC 3834) to Alice's first prospecting mail: not an answer."""
    omar, alice = person("omar"), person("alice")
    when = datetime(2026, 5, 4, 9, 0, 20, tzinfo=ZoneInfo(omar.zone))
    subject = "Automatic reply: Northwind Labs for Umbrella's supply chain team"
    mid = message_id(when, omar.email, subject, "umbrella-health.example")
    body = (
        "Thank you for your message. I am out of the office until May 11 with\n"
        "limited access to email. For urgent supply orders, contact the\n"
        "supply desk.\n\nOmar\n"
    )
    headers = [
        f"From: {mailbox(omar)}",
        f"To: {mailbox(alice)}",
        f"Subject: {subject}",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {mid}",
        "Auto-Submitted: auto-replied",
        "X-Autoreply: yes",
        "X-Auto-Response-Suppress: All",
        "MIME-Version: 1.0",
        'Content-Type: text/plain; charset="utf-8"',
    ]
    return Email(mid, when, "", frozenset(), _raw(headers, body), frozenset({"alice"}))


BOUNCE_BODY = """This is a MIME-encapsulated message.

--{b}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx1.umbrella-health.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<o.farouk@umbrella-health.example>: user unknown

--{b}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.umbrella-health.example
Arrival-Date: Wed, 20 May 2026 14:02:09 +0000 (UTC)

Final-Recipient: rfc822; o.farouk@umbrella-health.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <o.farouk@umbrella-health.example>: user unknown

--{b}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Alice Martin <alice@northwind-labs.example>
To: Omar Farouk <o.farouk@umbrella-health.example>
Subject: Supply chain forecasting webinar
Date: Wed, 20 May 2026 10:01:55 -0400
Message-ID: <campaign-5531.alice@crm.northwind-labs.example>

--{b}--
"""


def bounce() -> Email:
    """An RFC 3464 report for a campaign mail sent from the CRM, so no sent copy exists."""
    when = datetime(2026, 5, 20, 14, 2, tzinfo=UTC)
    mid = "<20260520140211.7C1E2A0042@mx1.umbrella-health.example>"
    b = "7C1E2A0042.1779285731/mx1.umbrella-health.example"
    body = BOUNCE_BODY.format(b=b)
    headers = [
        "Return-Path: <>",
        "From: MAILER-DAEMON@mx1.umbrella-health.example (Mail Delivery System)",
        "To: alice@northwind-labs.example",
        "Subject: Undelivered Mail Returned to Sender",
        f"Date: {format_datetime(when)}",
        f"Message-ID: {mid}",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=delivery-status;\n boundary="{b}"',
    ]
    return Email(mid, when, "", frozenset(), _raw(headers, body), frozenset({"alice"}))
