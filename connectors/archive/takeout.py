"""Google Takeout's mbox: the labels each message had, and which ones keep it out.

Takeout exports every message of a Gmail account into one mbox ("All mail
Including Spam and Trash.mbox") with its labels in an ``X-Gmail-Labels``
field: "Inbox,Important,Opened", "Spam,Unread", "Trash", "Chat", "Drafts".
The Gmail connector never reads spam, trash, chats or drafts
(``connectors.google.gmail_mail``); read from Takeout, the same account must
give the same interactions, so such a message is left out here too: a
spammer is no correspondent, a chat log no email, and an unsent draft must
not make anyone "last contacted".
"""

from __future__ import annotations

from connectors.mail.headers import header_fields

SKIPPED_LABELS = frozenset({"Spam", "Trash", "Chat", "Drafts", "Draft"})
_FIELD = b"x-gmail-labels"


def skipped_label(raw: bytes) -> str | None:
    """The label that keeps this Takeout message out, or None (and None for any
    message that has no ``X-Gmail-Labels`` field)."""
    end = raw.find(b"\n\n")
    crlf = raw.find(b"\r\n\r\n")
    if crlf != -1 and (end == -1 or crlf < end):
        end = crlf
    head = raw if end == -1 else raw[:end]
    if _FIELD not in head.lower():
        return None
    fields, _ = header_fields(head, frozenset({_FIELD.decode()}))
    for _, value in fields:
        for label in value.split(","):
            if label.strip() in SKIPPED_LABELS:
                return label.strip()
    return None
