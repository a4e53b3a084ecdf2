"""Departure notices: "I have left Acme; you can reach me at jane@globex.com". Pure.

When someone leaves a company, their old mailbox usually answers with an
automatic reply (RFC 3834 Auto-Submitted, or the older X-Autoreply) saying
so. Such a reply from an address a contact owns marks that address
``former`` (storage: ``storage.employment``); when it names the person's own
new address ("reach me at", "my new email is"), the new address becomes the
same contact's: one contact, never a second one. An address the notice
asks us to write to instead ("please contact sales@acme.com", a colleague)
is someone else and is not linked.

Only automatic replies from a linked contact are read: mail people write is
not searched for these phrases, so ordinary capture pays nothing for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from connectors.records import Address
from matcher.companies import company_of
from matcher.participants import Found
from matcher.plan import InteractionPlan, ParticipantPlan

# The sender reasons of automatic replies (``matcher.classify.sender_signal``).
_AUTO_REPLY = ("header:auto-submitted:auto-replied", "header:x-autoreply", "header:x-autorespond")
_LEFT = re.compile(
    r"\b(?:(?:has|have)\s+left\b"
    r"|no\s+longer\s+(?:with|at|employed|works?\s+(?:at|for)|part\s+of)\b"
    r"|(?:was|is)\s+my\s+last\s+day\b"
    r"|(?:has|have)\s+moved\s+on\b"
    r"|(?:mailbox|address)\s+is\s+no\s+longer\s+(?:monitored|active|in\s+use))",
    re.IGNORECASE,
)
# "reach me at X", "my new (email) address is X", "contact me at X", "write to me at X".
_MINE = re.compile(
    r"(?:reach\s+me|contact\s+me|write\s+(?:to\s+)?me|email\s+me|find\s+me)\s+(?:at|on|via)\s*:?\s*"
    r"|my\s+new\s+(?:e-?mail\s+)?(?:address\s+)?is\s*:?\s*"
    r"|my\s+(?:personal|private)\s+(?:e-?mail|address)\s+is\s*:?\s*",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"<?([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})>?")
MAX_READ = 4000  # the notice is at the top of the reply; quoted mail follows

LEFT_RULE = ":notice-left"  # appended to the sender's rule
NEW_ADDRESS_RULE = "notice:new-address"


@dataclass(frozen=True, slots=True)
class Departure:
    new_address: str | None  # the person's own new address, when the notice gives one


def departure_of(text: str) -> Departure | None:
    """What a notice says: that its writer left, and their own new address if given."""
    head = text[:MAX_READ]
    if not _LEFT.search(head):
        return None
    mine = _MINE.search(head)
    if mine is None:
        return Departure(None)
    found = _EMAIL.match(head, mine.end())
    return Departure(found.group(1).lower() if found else None)


def with_departures(
    found: Sequence[Found],
    interactions: Sequence[InteractionPlan],
    mailbox_of: Callable[[str], str],
) -> tuple[InteractionPlan, ...]:
    """``interactions`` with each linked contact's departure notice marked on its sender."""
    marked = list(interactions)
    for index, f in enumerate(found):
        if f.body is None or f.sender is None or f.direction != "inbound":
            continue
        plan = marked[index]
        sender = next((p for p in plan.participants if p.email == f.sender.email), None)
        if sender is None or sender.contact_id is None or sender.class_reason not in _AUTO_REPLY:
            continue
        notice = departure_of(f.body.text)
        if notice is not None:
            marked[index] = _marked(plan, sender, notice, mailbox_of)
    return tuple(marked)


def _marked(
    plan: InteractionPlan,
    sender: ParticipantPlan,
    notice: Departure,
    mailbox_of: Callable[[str], str],
) -> InteractionPlan:
    people = [replace(p, rule=p.rule + LEFT_RULE) if p is sender else p for p in plan.participants]
    new = Address.of(notice.new_address) if notice.new_address else None
    if new is not None and new.email != sender.email:
        company = company_of(new.domain)
        key = mailbox_of(new.email)
        people.append(
            ParticipantPlan(
                email=new.email,
                name=sender.name,
                role="quoted",
                klass="person",
                decision="link",
                rule=NEW_ADDRESS_RULE,
                contact_id=sender.contact_id,
                company_domain=company.domain if company else None,
                company_name=company.name if company else None,
                mailbox=key if key != new.email else "",
            )
        )
    return replace(plan, participants=tuple(people))
