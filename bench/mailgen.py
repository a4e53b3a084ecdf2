"""A realistic, deterministic mailbox for benchmarks: one sales rep's mail.

The mix follows what a rep's mailbox holds: conversations with customers and
colleagues (top-posted replies that quote the previous message, both ways,
with signatures), newsletters (text + HTML alternatives, List-Id,
List-Unsubscribe), notifications from no-reply senders, a few meeting
invitations (text/calendar), and about 15% of conversation mail carrying a
150 KB attachment. Transfer encodings vary as real clients choose them
(7bit, quoted-printable, base64; UTF-8 and ISO-8859-1).

Sizes are realistic rather than tiny, because the IMAP benchmark measures
bytes fetched against the average message size: a generator of 1 KB
messages would make "fetch only what is needed" unmeasurable.

``generate_messages(n, seed)`` yields raw RFC 5322 bytes; ``generate_mail``
also says which folder (INBOX or Sent) each message belongs in.
"""

from __future__ import annotations

import base64
import quopri
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

OWNER_NAME = "Dana Whitfield"
OWNER = "dana.whitfield@acme-corp.example"
ORG_DOMAIN = "acme-corp.example"
ATTACHMENT_BYTES = 150 * 1024
DEFAULT_END = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "David",
    "Elif",
    "Farid",
    "Greta",
    "Hugo",
    "Ines",
    "Jonas",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
    "Umar",
    "Vera",
    "Wim",
    "Yara",
    "Zoe",
]
LAST = [
    "Adler",
    "Brooks",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fischer",
    "Garcia",
    "Hartmann",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petersen",
    "Quist",
    "Rossi",
    "Schmidt",
    "Tanaka",
    "Urban",
    "Vogel",
    "Weber",
    "Yilmaz",
    "Zimmermann",
]
COMPANIES = [
    ("Northwind Traders", "northwind.example"),
    ("Globex Industries", "globex.example"),
    ("Initech", "initech.example"),
    ("Umbrella Logistics", "umbrella-logistics.example"),
    ("Stark Components", "stark-components.example"),
    ("Wayne Freight", "waynefreight.example"),
    ("Soylent Foods", "soylent.example"),
    ("Hooli Analytics", "hooli.example"),
    ("Vandelay Imports", "vandelay.example"),
    ("Tyrell Robotics", "tyrell.example"),
]
TITLES = [
    "Head of Procurement",
    "VP Operations",
    "Purchasing Manager",
    "CTO",
    "Account Executive",
    "Supply Chain Lead",
    "Finance Director",
]
NEWSLETTERS = [
    ("SaaS Weekly", "news@saasweekly.example", "saasweekly.example"),
    ("Logistics Today", "editors@logisticstoday.example", "logisticstoday.example"),
    ("The Revenue Letter", "hello@revenueletter.example", "revenueletter.example"),
    ("Cloud Digest", "digest@clouddigest.example", "clouddigest.example"),
]
NOTIFIERS = [
    ("GitHub", "notifications@github.example", "[acme/crm] New comment on issue #{n}"),
    ("Calendar", "calendar-notification@google.example", "Reminder: pipeline review @ {n}:00"),
    ("DocuSign", "dse@docusign.example", "Completed: Order form #{n} signed"),
    ("Jira", "jira@acme-corp.atlassian.example", "[JIRA] (SALES-{n}) Quote approval"),
]
SENTENCES = [
    "Thanks for the call earlier, it was good to walk through the rollout plan together.",
    "I have attached the revised quote with the volume discount we discussed.",
    "Could you confirm whether the pilot can start on the first of the month?",
    "Our procurement team needs the security questionnaire before they can sign.",
    "We are comparing two other vendors, so pricing clarity would really help.",
    "Let me check with legal about the liability cap and get back to you by Friday.",
    "The integration with our ERP is the main open question on our side.",
    "Happy to set up a technical deep dive with your engineers next week.",
    "Shipping volumes went up by about twenty percent this quarter.",
    "Please loop in Maria from finance for the invoicing details.",
    "I would suggest a phased approach: two warehouses first, then the rest.",
    "Attached are the meeting notes; the action items are at the bottom.",
    "Apologies for the slow reply, I was travelling most of last week.",
    "Can we move our Thursday sync to the afternoon?",
    "The board approved the budget, so we can proceed with the order form.",
]
NEWS_PARAGRAPH = (
    "This week: how mid-market teams shorten sales cycles, what buyers expect from "
    "security reviews, and three pricing experiments that moved win rates. "
)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    title: str
    company: str
    phone: str

    def signature(self) -> str:
        return (
            f"--\n{self.name}\n{self.title} | {self.company}\n"
            f"Mobile: {self.phone}\nwww.{self.email.split('@')[1]}\n"
        )


@dataclass(frozen=True)
class GeneratedMail:
    folder: str  # "INBOX" or "Sent"
    raw: bytes


def generate_messages(n: int, seed: int = 1) -> Iterator[bytes]:
    """``n`` raw messages of a realistic mailbox; the same ``seed`` gives the same bytes."""
    for mail in generate_mail(n, seed):
        yield mail.raw


def generate_mail(n: int, seed: int = 1, end: datetime = DEFAULT_END) -> Iterator[GeneratedMail]:
    rng = random.Random(seed)
    people = _people(rng)
    owner = Person(OWNER_NAME, OWNER, "Account Executive", "Acme Corp", "+1 415 555 0100")
    blobs = [_attachment(rng) for _ in range(6)]
    step = timedelta(days=300) / max(n, 1)
    state = _Threads()
    for i in range(n):
        when = end - step * (n - i)
        roll = rng.random()
        if roll < 0.62:
            mail = state.next_message(rng, i, seed, when, owner, people, blobs)
        elif roll < 0.80:
            mail = _newsletter(rng, i, seed, when)
        elif roll < 0.97:
            mail = _notification(rng, i, seed, when)
        else:
            mail = _invitation(rng, i, seed, when, owner, people)
        yield mail


def _people(rng: random.Random) -> list[Person]:
    out = []
    for first in FIRST:
        for last in rng.sample(LAST, 8):
            company, domain = rng.choice(COMPANIES)
            email = f"{first.lower()}.{last.lower()}@{domain}"
            phone = f"+44 20 7946 {rng.randint(1000, 9999)}"
            out.append(Person(f"{first} {last}", email, rng.choice(TITLES), company, phone))
    return out


def _attachment(rng: random.Random) -> str:
    data = rng.randbytes(ATTACHMENT_BYTES)
    return base64.encodebytes(data).decode("ascii").replace("\n", "\r\n")


def _paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(
        " ".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5))) for _ in range(count)
    )


def _msgid(seed: int, i: int, domain: str) -> str:
    return f"<{seed}.{i}.{(i * 2654435761) % 4294967296:08x}@{domain}>"


def _addr(p: Person) -> str:
    return f'"{p.name}" <{p.email}>'


def _text_part(rng: random.Random, text: str) -> tuple[str, str]:
    """(headers, body) of a text/plain part in the encoding a random client picks."""
    text = text.replace("\n", "\r\n")
    pick = rng.random()
    if pick < 0.5:
        return 'Content-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit', text
    if pick < 0.8:
        body = quopri.encodestring(text.encode("utf-8")).decode("ascii")
        return (
            'Content-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: quoted-printable",
            body,
        )
    body = base64.encodebytes(text.encode("latin-1", "replace")).decode("ascii")
    return (
        'Content-Type: text/plain; charset="iso-8859-1"\r\nContent-Transfer-Encoding: base64',
        body.replace("\n", "\r\n"),
    )


def _assemble(headers: list[tuple[str, str]], body_headers: str, body: str) -> bytes:
    lines = [f"{k}: {v}" for k, v in headers]
    lines.append("MIME-Version: 1.0")
    return ("\r\n".join(lines) + "\r\n" + body_headers + "\r\n\r\n" + body + "\r\n").encode("utf-8")


def _mixed(rng: random.Random, parts: list[tuple[str, str]]) -> tuple[str, str]:
    boundary = f"=_mix_{rng.getrandbits(48):012x}"
    body = "This is a multi-part message in MIME format.\r\n"
    for headers, content in parts:
        body += f"\r\n--{boundary}\r\n{headers}\r\n\r\n{content}\r\n"
    body += f"--{boundary}--"
    return f'Content-Type: multipart/mixed; boundary="{boundary}"', body


class _Threads:
    """Open conversations; each message either starts one or replies to one."""

    def __init__(self) -> None:
        self.open: list[tuple[Person, str, str, list[str], str, int]] = []

    def next_message(
        self,
        rng: random.Random,
        i: int,
        seed: int,
        when: datetime,
        owner: Person,
        people: list[Person],
        blobs: list[str],
    ) -> GeneratedMail:
        contact, subject, last_body, refs, last_from, depth = self._turn(rng, people)
        outbound = last_from != owner.email if depth else rng.random() < 0.4
        sender, recipient = (owner, contact) if outbound else (contact, owner)
        text = _reply_text(rng, when, sender, recipient, last_body)
        msgid = _msgid(seed, i, sender.email.split("@")[1])
        headers = [
            ("From", _addr(sender)),
            ("To", _addr(recipient)),
            ("Subject", subject),
            ("Date", format_datetime(when)),
            ("Message-ID", msgid),
        ]
        if rng.random() < 0.25:
            headers.insert(2, ("Cc", _addr(rng.choice(people))))
        if refs:
            headers += [("In-Reply-To", refs[-1]), ("References", " ".join(refs[-8:]))]
        part_headers, part_body = _text_part(rng, text)
        if rng.random() < 0.24:  # of 62% conversation mail: ~15% of all mail
            attachment = (
                'Content-Type: application/pdf; name="proposal.pdf"\r\n'
                'Content-Disposition: attachment; filename="proposal.pdf"\r\n'
                "Content-Transfer-Encoding: base64",
                rng.choice(blobs),
            )
            part_headers, part_body = _mixed(rng, [(part_headers, part_body), attachment])
        if depth < 5:
            self.open.append((contact, subject, text, [*refs, msgid], sender.email, depth + 1))
        if len(self.open) > 200:
            self.open.pop(0)
        folder = "Sent" if outbound else "INBOX"
        return GeneratedMail(folder, _assemble(headers, part_headers, part_body))

    def _turn(
        self, rng: random.Random, people: list[Person]
    ) -> tuple[Person, str, str, list[str], str, int]:
        """A reply in an open conversation (60%) or a new one."""
        if self.open and rng.random() < 0.6:
            k = rng.randrange(len(self.open))
            contact, subject, last_body, refs, last_from, depth = self.open.pop(k)
            subject = subject if subject.startswith("Re: ") else "Re: " + subject
            return contact, subject, last_body, refs, last_from, depth
        contact = rng.choice(people)
        subject = rng.choice(SENTENCES).split(",")[0].rstrip(".?")
        return contact, subject, "", [], contact.email, 0


def _reply_text(
    rng: random.Random, when: datetime, sender: Person, recipient: Person, last_body: str
) -> str:
    """Greeting, paragraphs, sign-off, signature, then the quoted previous message."""
    text = f"Hi {recipient.name.split()[0]},\n\n{_paragraphs(rng, rng.randint(1, 3))}\n\n"
    text += f"Best,\n{sender.name.split()[0]}\n\n{sender.signature()}"
    if last_body:
        stamp = format_datetime(when - timedelta(hours=3))
        quoted = "\n".join("> " + line for line in last_body.splitlines()[:60])
        text += f"\nOn {stamp}, {_addr(recipient)} wrote:\n{quoted}\n"
    return text


def _newsletter(rng: random.Random, i: int, seed: int, when: datetime) -> GeneratedMail:
    name, sender, domain = rng.choice(NEWSLETTERS)
    items = rng.randint(5, 9)
    text = "\n\n".join(f"{k + 1}. {NEWS_PARAGRAPH * 2}" for k in range(items))
    text += f"\n\nUnsubscribe: https://{domain}/u/{i}\n"
    html = "<html><body><table width='600'>" + "".join(
        f"<tr><td style='font-family:Arial;font-size:14px;padding:12px'>"
        f"<h2 style='color:#333'>Story {k + 1}</h2><p>{NEWS_PARAGRAPH * 3}</p>"
        f"<a href='https://{domain}/s/{i}/{k}?utm_source=newsletter'>Read more</a></td></tr>"
        for k in range(items * 2)
    )
    html += "</table></body></html>"
    boundary = f"=_alt_{rng.getrandbits(48):012x}"
    t_headers, t_body = _text_part(rng, text)
    h_body = quopri.encodestring(html.encode("utf-8")).decode("ascii")
    body = (
        f"--{boundary}\r\n{t_headers}\r\n\r\n{t_body}\r\n"
        f'--{boundary}\r\nContent-Type: text/html; charset="utf-8"\r\n'
        f"Content-Transfer-Encoding: quoted-printable\r\n\r\n{h_body}\r\n--{boundary}--"
    )
    headers = [
        ("From", f'"{name}" <{sender}>'),
        ("To", OWNER),
        ("Subject", f"{name} #{i}: sales cycles, security reviews, pricing"),
        ("Date", format_datetime(when)),
        ("Message-ID", _msgid(seed, i, domain)),
        ("List-Id", f"{name} <list.{domain}>"),
        ("List-Unsubscribe", f"<https://{domain}/u/{i}>, <mailto:unsubscribe@{domain}>"),
        ("Precedence", "bulk"),
    ]
    ctype = f'Content-Type: multipart/alternative; boundary="{boundary}"'
    return GeneratedMail("INBOX", _assemble(headers, ctype, body))


def _notification(rng: random.Random, i: int, seed: int, when: datetime) -> GeneratedMail:
    name, sender, subject = rng.choice(NOTIFIERS)
    domain = sender.split("@")[1]
    headers = [
        ("From", f'"{name}" <{sender}>'),
        ("To", OWNER),
        ("Subject", subject.format(n=rng.randint(100, 999))),
        ("Date", format_datetime(when)),
        ("Message-ID", _msgid(seed, i, domain)),
        ("Auto-Submitted", "auto-generated"),
    ]
    html = (
        "<html><body><div style='font-family:sans-serif'>"
        f"<p>{rng.choice(SENTENCES)}</p><p>{rng.choice(SENTENCES)}</p>"
        f"<p><a href='https://{domain}/view/{i}'>View it online</a></p>"
        "<p style='color:#999;font-size:11px'>You are receiving this because you are subscribed."
        "</p></div></body></html>"
    )
    ctype = 'Content-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: 7bit'
    return GeneratedMail("INBOX", _assemble(headers, ctype, html))


def _invitation(
    rng: random.Random, i: int, seed: int, when: datetime, owner: Person, people: list[Person]
) -> GeneratedMail:
    organizer = rng.choice(people)
    guests = rng.sample(people, 2)
    start = (when + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    stamp = "%Y%m%dT%H%M%SZ"
    attendees = "".join(
        f"ATTENDEE;CN={p.name};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION:mailto:{p.email}\r\n"
        for p in [owner, *guests]
    )
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailgen//EN\r\nMETHOD:REQUEST\r\n"
        f"BEGIN:VEVENT\r\nUID:mailgen-{seed}-{i}@acme-corp.example\r\n"
        f"DTSTAMP:{when.strftime(stamp)}\r\nDTSTART:{start.strftime(stamp)}\r\n"
        f"DTEND:{(start + timedelta(minutes=45)).strftime(stamp)}\r\n"
        f"SUMMARY:Quarterly review\r\nORGANIZER;CN={organizer.name}:mailto:{organizer.email}\r\n"
        f"{attendees}SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nEND:VEVENT\r\nEND:VCALENDAR"
    )
    text = f"{organizer.name} invited you to Quarterly review.\n\n{rng.choice(SENTENCES)}\n"
    parts = [
        _text_part(rng, text),
        ('Content-Type: text/calendar; charset="utf-8"; method=REQUEST', ics),
    ]
    ctype, body = _mixed(rng, parts)
    headers = [
        ("From", _addr(organizer)),
        ("To", ", ".join(_addr(p) for p in [owner, *guests])),
        ("Subject", "Invitation: Quarterly review"),
        ("Date", format_datetime(when)),
        ("Message-ID", _msgid(seed, i, organizer.email.split("@")[1])),
    ]
    return GeneratedMail("INBOX", _assemble(headers, ctype, body))
