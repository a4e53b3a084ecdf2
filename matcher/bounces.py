"""Delivery reports: which recipients a bounce says could not be reached, and for good.

A report is recognised by what only mail systems send: a ``multipart/report;
report-type=delivery-status`` (RFC 3464, RFC 6522), or mail from the
mailer-daemon, the postmaster or Exchange's system mailbox. An out-of-office
reply comes from the person, so it is never a bounce, whatever its subject,
``Auto-Submitted`` or null Return-Path (RFC 3834 asks auto-replies for both).

The recipients come from the report's machine-readable part when the
connector kept it (``Message.delivery_status``: per-recipient
``Final-Recipient``, ``Action`` and ``Status``, RFC 3464 section 2.3), else
from the human-readable text in the shapes Postfix, qmail, Exchange and Gmail
write. A failure is permanent when its status is 5.x.x (RFC 3463 section
3.1), or when the text says so and gives no code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.records import Message, normalize_email
from matcher.addresses import parse_address_list
from matcher.classify import automated_family

MAX_REPORT_CHARS = 64 * 1024  # a report lists recipients first; the tail is the original
MAX_FAILURES = 100  # more recipients than that in one report is not a bounce worth reading

# RFC 3463 section 3.1: class.subject.detail.
# Not inside a dotted number: "[10.2.3.4]" holds no status "2.3.4".
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY_CODE = re.compile(r"(?<![\d.])([45])\d\d(?![\d.])")  # RFC 5321 section 4.2
_ADDRESS = r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+\.[^\s<>()\[\]\"',;:]+"


@dataclass(frozen=True, slots=True)
class FailedDelivery:
    email: str  # the recipient, normalized
    status: str  # RFC 3463 code ("5.1.1"), a reply code ("550"), or "" when none is given
    permanent: bool
    source: str  # "dsn", or the text shape it was read from: "text:postfix", ...


def is_delivery_report(message: Message) -> bool:
    ctype = (message.header("content-type") or "").lower()
    if ctype.startswith("multipart/report") and "delivery-status" in ctype:
        return True
    if message.delivery_status:
        return True
    senders = parse_address_list(message.header("from") or "")
    if not senders:
        return False
    local = senders[0].local
    if automated_family(local) in ("mailerdaemon", "postmaster"):
        return True
    # Exchange writes its reports from "MicrosoftExchange<hex>@" the tenant's domain.
    subject = (message.subject or "").lower()
    return local.startswith("microsoftexchange") and subject.startswith("undeliverable")


def failed_deliveries(message: Message) -> tuple[FailedDelivery, ...]:
    """The recipients a delivery report says failed (permanently or not); () for other mail."""
    if not is_delivery_report(message):
        return ()
    if message.delivery_status:
        found = _from_status(message.delivery_status[:MAX_REPORT_CHARS])
        if found:
            return found
    if message.text and not message.text_is_html:
        return _from_text(message.text[:MAX_REPORT_CHARS])
    return ()


def _fields(block: str) -> dict[str, str]:
    """A block of RFC 822-style fields, unfolded; first occurrence wins."""
    fields: dict[str, str] = {}
    name = ""
    for line in block.splitlines():
        if line[:1] in (" ", "\t") and name:
            fields[name] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            fields.setdefault(name, value.strip())
    return fields


def _from_status(text: str) -> tuple[FailedDelivery, ...]:
    """Per-recipient blocks of a message/delivery-status part (RFC 3464 section 2.3)."""
    found: dict[str, FailedDelivery] = {}
    for block in re.split(r"\r?\n[ \t]*\r?\n", text):
        fields = _fields(block)
        recipient = fields.get("final-recipient") or fields.get("original-recipient")
        if not recipient or fields.get("action", "").lower() != "failed":
            continue
        email = normalize_email(recipient.rpartition(";")[2])
        match = _STATUS.search(fields.get("status", ""))
        if not email or email in found:
            continue
        status = match.group(0) if match else ""
        found[email] = FailedDelivery(email, status, status.startswith("5"), "dsn")
        if len(found) >= MAX_FAILURES:
            break
    return tuple(found.values())


# Human-readable shapes. Each pattern's group 1 is a failed recipient; the
# status is looked for in the text after it, up to the next recipient. The
# flag says whether the words themselves say the delivery failed for good.
_SHAPES: tuple[tuple[str, re.Pattern[str], bool], ...] = (
    # Postfix "<bob@x>: host mx said: 550 5.1.1 ..." and qmail "<bob@x>:\nSorry, ..."
    ("text:postfix", re.compile(rf"^<({_ADDRESS})>:", re.M), True),
    # Gmail: "Your message wasn't delivered to bob@x because the address couldn't be found"
    ("text:gmail", re.compile(rf"wasn't delivered to ({_ADDRESS})", re.I), True),
    # Gmail, older: "Delivery to the following recipient failed permanently:\n\n     bob@x"
    ("text:gmail", re.compile(rf"failed permanently:\s+({_ADDRESS})", re.I), True),
    # Gmail: "Delivery to the following recipient has been delayed:\n\n     bob@x"
    ("text:gmail", re.compile(rf"has been delayed:\s+({_ADDRESS})", re.I), False),
    # Exchange / Office 365: "Your message to bob@x couldn't be delivered."
    ("text:exchange", re.compile(rf"message to ({_ADDRESS}) couldn't be delivered", re.I), True),
)
# Exchange, older: "Delivery has failed to these recipients or groups:" then one
# recipient a line ("Bob Smith (bob@x)" or "bob@x"), up to the original's headers.
_EXCHANGE_LIST = re.compile(r"delivery has failed to these recipients or groups:", re.I)
_EXCHANGE_END = re.compile(r"original message headers|-----\s*original message", re.I)
_LISTED = re.compile(rf"^[^\n@:]*?\(?({_ADDRESS})\)?[ \t]*$", re.M)
_TEMPORARY = re.compile(r"delayed|will (?:be )?retr(?:y|ied)|temporar", re.I)

Hit = tuple[int, int, str, str, bool]  # start, end, address, shape, says it failed


def _hits(text: str) -> list[Hit]:
    hits = [
        (m.start(), m.end(), m.group(1), source, says_failed)
        for source, pattern, says_failed in _SHAPES
        for m in pattern.finditer(text)
    ]
    listed = _EXCHANGE_LIST.search(text)
    if listed is not None:
        end = _EXCHANGE_END.search(text, listed.end())
        stop = min(end.start() if end else len(text), listed.end() + 8192)
        hits += [
            (m.start(), m.end(), m.group(1), "text:exchange", True)
            for m in _LISTED.finditer(text, listed.end(), stop)
        ]
    return sorted(hits)


def _from_text(text: str) -> tuple[FailedDelivery, ...]:
    hits = _hits(text)
    found: dict[str, FailedDelivery] = {}
    for n, (_, end, address, source, says_failed) in enumerate(hits):
        email = normalize_email(address)
        if not email or email in found:
            continue
        # Up to the next other recipient: a report may name one twice (Exchange
        # lists the person, then gives the status under a second mention).
        stop = next((h[0] for h in hits[n + 1 :] if normalize_email(h[2]) != email), end + 2000)
        found[email] = _judged(email, text[end:stop], source, says_failed)
        if len(found) >= MAX_FAILURES:
            break
    return tuple(found.values())


def _judged(email: str, following: str, source: str, says_failed: bool) -> FailedDelivery:
    """Permanent by the status code after the address, else by what the text says."""
    status = _STATUS.search(following)
    if status:
        return FailedDelivery(email, status.group(0), status.group(1) == "5", source)
    reply = _REPLY_CODE.search(following)
    if reply:
        return FailedDelivery(email, reply.group(0), reply.group(1) == "5", source)
    temporary = bool(_TEMPORARY.search(following[:300]))
    return FailedDelivery(email, "", says_failed and not temporary, source)
