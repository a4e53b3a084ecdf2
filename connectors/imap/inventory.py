"""What an IMAP folder holds, for the completeness ledger, without fetching a message.

``verify`` asks every connector for the items its provider lists in the
window; an IMAP folder names them by UID under its UIDVALIDITY, and two
``UID SEARCH`` commands on the selected (read-only) folder list them: ``SINCE``
(RFC 3501 6.4.4, by internal date, the criterion a backfill used) for what a
complete capture must hold, ``ALL`` for what is still there at all, so mail
that merely aged out of the window is not taken for mail deleted. Each
answer is one line of numbers: about 6 bytes per message, no body, no FETCH.
"""

from __future__ import annotations

from imapclient import IMAPClient

from connectors.base import Window
from connectors.records import Inventory


def folder_inventory(client: IMAPClient, uidvalidity: int, window: Window) -> Inventory:
    """The selected folder's UIDs: in the window, and in all (``client`` has it selected)."""
    version = str(uidvalidity)
    inside = client.search(["SINCE", window.since.date()])
    present = client.search(["ALL"])
    items = {str(uid): version for uid in sorted(inside)}
    return Inventory(items, frozenset(str(uid) for uid in present), window.since)
