"""What the exporting mail client wrote into a message about it, and which marks
keep the message out of the capture.

Google Takeout exports every message of a Gmail account into one mbox ("All
mail Including Spam and Trash.mbox") with its labels in ``X-Gmail-Labels``:
"Inbox,Important,Opened", "Spam,Unread", "Trash", "Chat", "Drafts". The
Gmail connector never reads spam, trash, chats or drafts
(``connectors.google.gmail_mail``); read from Takeout, the same account must
give the same interactions, so such a message is left out here too: a
spammer is no correspondent, a chat log no email, and an unsent draft must
not make anyone "last contacted".

Thunderbird deletes from a local folder by marking the message expunged
(bit 0x0008 of ``X-Mozilla-Status``) and leaves it in the mbox file until
the folder is compacted; the deleted message is gone for the user and is
left out here as well.
"""

from __future__ import annotations

import re

from connectors.mail.headers import header_block, header_fields

SKIPPED_LABELS = frozenset({"Spam", "Trash", "Chat", "Drafts", "Draft"})
_MOZILLA_EXPUNGED = 0x0008
_FIELDS = frozenset({"x-gmail-labels", "x-mozilla-status"})
# Most messages carry neither field: one search of the header tells, without a copy of it.
_MARKED = re.compile(rb"^x-(?:gmail-labels|mozilla-status)[ \t]*:", re.IGNORECASE | re.MULTILINE)


def left_out(raw: bytes) -> str | None:
    """Why this exported message is left out ("Spam", "expunged"), or None: also
    for every message that carries none of these fields."""
    head = header_block(raw)
    if _MARKED.search(head) is None:
        return None
    fields, _ = header_fields(head, _FIELDS)
    for name, value in fields:
        if name == "x-mozilla-status" and _expunged(value):
            return "expunged"
        if name == "x-gmail-labels":
            label = next((x.strip() for x in value.split(",") if x.strip() in SKIPPED_LABELS), None)
            if label is not None:
                return label
    return None


def _expunged(value: str) -> bool:
    try:
        return bool(int(value.strip(), 16) & _MOZILLA_EXPUNGED)
    except ValueError:
        return False  # not Thunderbird's four hex digits: no mark at all
