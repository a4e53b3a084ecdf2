"""Turn conversation turns into RFC 5322 messages, the way real clients write them.

Two client styles cover what the pipeline must cope with: a Gmail-like one
(text/plain, "On <date>, <name> wrote:" quoting) and an Outlook-like one
(multipart/alternative in quoted-printable, "-----Original Message-----"
quoting, "RE:" subjects). Bytes out are LF-terminated, like mbox and Maildir
files on disk.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from datetime import datetime
from email import quoprimime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

from samplegen.cast import Person, person


@dataclass(frozen=True)
class Turn:
    """One message of a conversation, as its author wrote it."""

    when: str  # "2026-03-03 09:15" on the author's own clock
    sender: str  # cast key
    to: tuple[str, ...]
    text: str
    cc: tuple[str, ...] = ()
    sig: bool = True  # short replies from a phone carry no signature block
    spelled: tuple[tuple[str, str], ...] = ()  # (cast key, address as typed) for this message
    html_only: bool = False  # a mobile client that sends text/html and nothing else


@dataclass(frozen=True)
class Thread:
    subject: str
    turns: tuple[Turn, ...]
    quote: bool = True  # replies carry the previous message below the new text


@dataclass(frozen=True)
class Email:
    """A rendered message plus what the archive writer needs to place it."""

    message_id: str
    date: datetime
    sender: str  # cast key ("" for automated senders outside the cast)
    recipients: frozenset[str]  # cast keys in To/Cc
    data: bytes
    deliver_to: frozenset[str] = field(default=frozenset())  # owners whose mailbox holds a copy


def encode_name(name: str) -> str:
    """A display name as a header token: RFC 2047 Q-encoding or an RFC 5322 quoted-string."""
    if not name.isascii():
        raw = name.encode("utf-8")
        body = "".join(
            chr(b) if chr(b).isalnum() and b < 128 else "_" if b == 0x20 else f"={b:02X}"
            for b in raw
        )
        return f"=?UTF-8?Q?{body}?="
    if any(c in name for c in ',.;:@"()<>[]'):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def mailbox(p: Person, spelled: str | None = None) -> str:
    return f"{encode_name(p.display)} <{spelled or p.email}>"


def local_time(when: str, p: Person) -> datetime:
    return datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(p.zone))


def message_id(when: datetime, sender: str, subject: str, domain: str) -> str:
    digest = hashlib.sha256(f"{when.isoformat()}|{sender}|{subject}".encode()).hexdigest()
    return f"<{when.strftime('%Y%m%d%H%M')}.{digest[:16].upper()}@mail.{domain}>"


def _quote_block(
    prev: Turn, prev_body: str, prev_date: datetime, subject: str, outlook: bool
) -> str:
    author = person(prev.sender)
    if outlook:
        to = "; ".join(person(k).name for k in prev.to)
        head = (
            "-----Original Message-----\n"
            f"From: {author.name} <{author.email}>\n"
            f"Sent: {prev_date.strftime('%A, %B %-d, %Y %-I:%M %p')}\n"
            f"To: {to}\n"
            f"Subject: {subject}\n"
        )
        return head + "\n" + prev_body
    stamp = prev_date.strftime("%a, %b %-d, %Y at %-I:%M %p")
    quoted = "\n".join(("> " + line).rstrip() for line in prev_body.splitlines())
    return f"On {stamp} {author.name} <{author.email}> wrote:\n{quoted}"


def _html_of(text: str) -> str:
    paras = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p
    )
    return (
        '<html><head><meta charset="utf-8"></head>'
        f'<body style="font-family:Calibri,sans-serif">{paras}</body></html>\n'
    )


def _qp(text: str) -> str:
    # quoprimime works on "bytes as str": hand it the UTF-8 octets, one char each.
    return quoprimime.body_encode(text.encode("utf-8").decode("latin-1"))


def _body_headers(text: str, turn: Turn, outlook: bool, boundary: str) -> tuple[str, str]:
    """Content headers and the body, by client style."""
    if turn.html_only:
        return (
            'Content-Type: text/html; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable',
            _qp(_html_of(text)),
        )
    if not outlook:
        return ('Content-Type: text/plain; charset="utf-8"\nContent-Transfer-Encoding: 8bit', text)
    plain = _qp(text)
    rich = _qp(_html_of(text))
    body = (
        f'--{boundary}\nContent-Type: text/plain; charset="utf-8"\n'
        f"Content-Transfer-Encoding: quoted-printable\n\n{plain}\n"
        f'--{boundary}\nContent-Type: text/html; charset="utf-8"\n'
        f"Content-Transfer-Encoding: quoted-printable\n\n{rich}\n--{boundary}--\n"
    )
    return f'Content-Type: multipart/alternative; boundary="{boundary}"', body


def render_thread(thread: Thread) -> list[Email]:
    """Every turn of ``thread`` as a message, threaded by In-Reply-To and References."""
    out: list[Email] = []
    refs: list[str] = []
    prev: tuple[Turn, str, datetime] | None = None
    prev_subject = thread.subject
    for turn in thread.turns:
        author = person(turn.sender)
        outlook = author.client == "outlook"
        spelled = dict(turn.spelled)
        date = local_time(turn.when, author)
        text = turn.text.strip("\n") + "\n"
        if turn.sig and author.signature:
            text += "\n" + ("-- \n" if not outlook else "") + author.signature + "\n"
        if prev is not None and thread.quote:
            text += "\n" + _quote_block(prev[0], prev[1], prev[2], prev_subject, outlook) + "\n"
        prefix = ("RE: " if outlook else "Re: ") if prev is not None else ""
        subject = prefix + thread.subject
        mid = message_id(date, author.email, subject, author.email.rpartition("@")[2])
        lines = [f"From: {mailbox(author, spelled.get(author.key))}"]
        lines.append("To: " + ", ".join(mailbox(person(k), spelled.get(k)) for k in turn.to))
        if turn.cc:
            lines.append("Cc: " + ", ".join(mailbox(person(k), spelled.get(k)) for k in turn.cc))
        lines += [f"Subject: {subject}", f"Date: {format_datetime(date)}", f"Message-ID: {mid}"]
        if refs:
            lines += [f"In-Reply-To: {refs[-1]}", "References: " + "\n ".join(refs)]
        ctype, body = _body_headers(text, turn, outlook, "_000_" + mid[1:17] + "_")
        lines += ["MIME-Version: 1.0", ctype]
        data = ("\n".join(lines) + "\n\n" + body).encode("utf-8")
        out.append(Email(mid, date, author.key, frozenset(turn.to + turn.cc), data))
        refs.append(mid)
        prev = (turn, text, date)
        prev_subject = subject
    return out
