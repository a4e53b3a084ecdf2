"""Connectors kept open between polls.

An idle poll should cost one cheap request per folder or calendar
(docs/ARCHITECTURE.md, invariant 6): an IMAP STATUS, a CalDAV sync-collection REPORT. Building a
connector each pass would add a login, a capability exchange and folder or
calendar discovery to every poll, so the long-running agent keeps each
account's connector between passes.

A connector's window (backfill start, look-ahead end) is fixed when it is
built, so a kept connector is rebuilt once it is ``max_age`` old: the window
then lags real time by at most that much. A pass that failed drops its
connector, since its connection may be the thing that broke.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from agent.policy import account_window
from agent.redact import redact
from agent.registry import CONNECTORS, BuildContext
from agent.tokens import StoredTokens
from config.accounts import AccountBase
from connectors.base import Connector, Limits, Window

log = logging.getLogger("autocapture.connections")


def build_connector(
    account: AccountBase,
    window: Window,
    limits: Limits,
    *,
    fetch_ahead: bool = True,
    tokens: StoredTokens | None = None,
) -> Connector:
    """The connector for ``account``'s settings model (``agent.registry``); ``tokens``
    serves the credentials the agent keeps encrypted in its database."""
    stored = tokens.secret if tokens is not None else None
    context = BuildContext(window, limits, fetch_ahead=fetch_ahead, stored=stored)
    return CONNECTORS.build(account, context)


def close_quietly(connector: Connector) -> None:
    try:
        connector.close()
    except Exception as exc:  # closing a broken connection is not news
        log.debug("close failed: %s", redact(str(exc)))


class Connections:
    """One open connector per account, rebuilt when its window is ``max_age`` old.

    ``fetch_ahead`` is off when the agent reads backlogs ahead in a second
    process (agent.readahead): one reader ahead, or batches are fetched twice.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        max_age: timedelta = timedelta(hours=6),
        *,
        fetch_ahead: bool = True,
        tokens: StoredTokens | None = None,
    ):
        self.limits = limits or Limits()
        self.max_age = max_age
        self.fetch_ahead = fetch_ahead
        self.tokens = tokens
        self._open: dict[str, tuple[Connector, datetime]] = {}
        self._lock = threading.Lock()

    def open(self, account: AccountBase, now: datetime) -> Connector:
        with self._lock:
            kept = self._open.pop(account.name, None)
        if kept is not None:
            connector, built = kept
            if now - built < self.max_age:
                with self._lock:
                    self._open[account.name] = kept
                return connector
            close_quietly(connector)
        window = account_window(account, now)
        connector = build_connector(
            account, window, self.limits, fetch_ahead=self.fetch_ahead, tokens=self.tokens
        )
        with self._lock:
            self._open[account.name] = (connector, now)
        return connector

    def window(self, account: AccountBase) -> Window:
        """The window of ``account``'s kept connector (another connector must fetch the same mail)."""
        with self._lock:
            kept = self._open.get(account.name)
        if kept is None:
            raise KeyError(account.name)
        return account_window(account, kept[1])

    def discard(self, name: str) -> None:
        with self._lock:
            kept = self._open.pop(name, None)
        if kept is not None:
            close_quietly(kept[0])

    def close_all(self) -> None:
        with self._lock:
            names = list(self._open)
        for name in names:
            self.discard(name)
        if self.tokens is not None:
            self.tokens.close()
