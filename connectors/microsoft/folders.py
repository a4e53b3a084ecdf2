"""Mail folders by name: a well-known name as Graph takes it, a path looked up once.

Graph takes a well-known folder name where an id goes (``inbox``,
``sentitems``, ``archive``, ...), in any case. Any other folder is named by
its path of display names from the top of the mailbox, ``/``-separated
(``Inbox/Customers``), and looked up level by level: the first level among
``/mailFolders`` (or a well-known name), each next among the previous
folder's ``childFolders``. Names compare without regard to case, as
Outlook shows them. A folder id (as Graph gives it) is taken as it is.

Only the first fetch of a stream resolves its folder; after that the
delta link in the cursor names the folder by id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode

from connectors.base import ConfigurationError
from connectors.microsoft.wire import GraphWire

# https://learn.microsoft.com/graph/api/resources/mailfolder (well-known folder names)
WELL_KNOWN = frozenset(
    {
        "archive",
        "clutter",
        "conflicts",
        "conversationhistory",
        "deleteditems",
        "drafts",
        "inbox",
        "junkemail",
        "localfailures",
        "msgfolderroot",
        "outbox",
        "recoverableitemsdeletions",
        "scheduled",
        "searchfolders",
        "sentitems",
        "serverfailures",
        "syncissues",
    }
)
_FOLDER_ID = re.compile(r"[A-Za-z0-9_-]{60,}={0,2}")
_PAGE = 100


class FolderIds:
    def __init__(self, account: str, wire: GraphWire, user_path: str) -> None:
        self.account, self.wire, self.user_path = account, wire, user_path
        self._known: dict[str, str] = {}

    def resolve(self, name: str) -> str:
        """What goes into ``/mailFolders/{...}`` for the folder ``name`` names."""
        if name.lower() in WELL_KNOWN or _FOLDER_ID.fullmatch(name):
            return name.lower() if name.lower() in WELL_KNOWN else name
        if name not in self._known:
            self._known[name] = self._walk(name)
        return self._known[name]

    def _walk(self, path: str) -> str:
        parts = [p.strip() for p in path.strip("/").split("/") if p.strip()]
        current: str | None = None
        for depth, part in enumerate(parts):
            if depth == 0 and part.replace(" ", "").lower() in WELL_KNOWN:
                current = part.replace(" ", "").lower()  # "Sent Items" is sentitems
                continue
            found = next(
                (f["id"] for f in self._children(current) if _same(f.get("displayName"), part)),
                None,
            )
            if not isinstance(found, str):
                raise ConfigurationError(
                    f"account {self.account!r}: mail folder {path!r}: no folder {part!r} in "
                    f"{'/'.join(parts[:depth]) or 'the top of the mailbox'}"
                )
            current = found
        if current is None:
            raise ConfigurationError(f"account {self.account!r}: mail folder {path!r} is empty")
        return current

    def _children(self, parent: str | None) -> Iterator[dict[str, Any]]:
        where = "" if parent is None else f"/{quote(parent, safe='')}/childFolders"
        query = urlencode({"$select": "id,displayName", "$top": str(_PAGE)})
        link: str | None = f"{self.wire.base}{self.user_path}/mailFolders{where}?{query}"
        while link:
            page = self.wire.get_json(link)
            for folder in page.get("value", []):
                if isinstance(folder, dict):
                    yield folder
            following = page.get("@odata.nextLink")
            link = following if isinstance(following, str) else None


def _same(name: Any, wanted: str) -> bool:
    return isinstance(name, str) and name.strip().casefold() == wanted.casefold()
