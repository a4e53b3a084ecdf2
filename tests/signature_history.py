"""A generated history of one sender's mail: a stable five-line block with no
delimiter and no closing phrase, in reply positions that vary message by message."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.builders import address

SAM = address("sam.carter@northwind.example", "Sam Carter")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

# No delimiter, no closing phrase: five lines under the sender's text.
BLOCK = [
    "Sam Carter",
    "Head of Procurement",
    "Northwind Traders",
    "350 Mission Street, San Francisco, CA 94105",
    "+1 415 555 0134",
]
PROSE = [
    "Thursday works for us, I will bring the revised quote.",
    "The pallets left the warehouse this morning and should arrive on Monday.",
    "Could you send the signed order form back by Friday?",
    "We have approved the second supplier, details in the attachment.",
    "Please use the new delivery address from next month on.",
]


def message(n: int, block: list[str]) -> str:
    """Message ``n`` of the history; the reply position varies with ``n``."""
    own = f"{PROSE[n % len(PROSE)]}\nRef {1000 + n}.\n\n" + "\n".join(block) + "\n"
    quoted = f"> Hi Sam, question number {n} about order {2000 + n}?\n> Thanks, Jane\n"
    match n % 4:
        case 0:  # top-posted reply with an attribution line
            return f"{own}\nOn Mon, Mar 2, 2026 at 9:00 AM Jane Roe <jane@acme.example> wrote:\n{quoted}"
        case 1:  # new mail
            return own
        case 2:  # bottom-posted under an anonymous quote
            return f"{quoted}\n{own}"
        case _:  # Outlook-style header, no quote markers
            return (
                f"{own}\n-----Original Message-----\nFrom: Jane Roe <jane@acme.example>\n"
                f"Sent: Monday, March 2, 2026 9:00 AM\nTo: Sam Carter <{SAM.email}>\n"
                f"Subject: Order {2000 + n}\n\nHi Sam, question {n}?\nJane\n"
            )
