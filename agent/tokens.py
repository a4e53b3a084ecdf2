"""The agent's side of the encrypted token store: the key from the settings, one
``connectors.credentials.StoredSecret`` per (account, name).

The key is the ``token_key`` setting, a secret reference like any other.
Its default, a file beside the default database, is created (0600) the
first time a token is read or stored, so an agent that never keeps a token
never makes one. Every value read or stored is registered for redaction.

The store is opened when first used, per process: a read-ahead child
(``agent.readahead``) that refreshes an account's grant must not use the
connections it inherited from the agent across the fork, so it opens its
own engine on the same database. It reads and writes tokens only, never
captured data or cursors (docs/ARCHITECTURE.md, invariant 10).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from agent.redact import register_secret
from config.errors import SecretUnavailable
from config.settings import Settings, default_token_key
from config.values import Secret
from connectors.base import ConfigurationError, TransientError
from connectors.credentials import SecretSink
from storage.engine import create_engine
from storage.errors import StorageError
from storage.tokens import TokenKeyError, TokenStore, ensure_key_file, parse_key


def resolve_key(reference: Secret) -> bytes:
    """The key ``reference`` names; the default key file is made if missing.

    ``TokenKeyError`` names the reference, never the key."""
    if reference == default_token_key():
        ensure_key_file(Path(reference.name))
    try:
        text = reference.resolve()
    except SecretUnavailable as exc:
        raise TokenKeyError(f"the token key {exc.reference} is unavailable: {exc.reason}") from None
    register_secret(text.strip())
    return parse_key(text, reference.reference)


class StoredTokens:
    """The token store of one database, opened on first use in each process."""

    def __init__(self, url: str, key: Secret) -> None:
        self.url = url
        self.key = key
        self._lock = threading.Lock()
        self._opened: tuple[int, TokenStore] | None = None  # (pid, store)

    @classmethod
    def of(cls, settings: Settings) -> StoredTokens:
        return cls(settings.database_url, settings.token_key)

    def store(self) -> TokenStore:
        with self._lock:
            if self._opened is None or self._opened[0] != os.getpid():
                store = TokenStore(
                    create_engine(self.url), resolve_key(self.key), self.key.reference
                )
                self._opened = (os.getpid(), store)
            return self._opened[1]

    def close(self) -> None:
        """Let go of this process's connections to the store (it reopens when used again)."""
        with self._lock:
            opened, self._opened = self._opened, None
        if opened is not None and opened[0] == os.getpid():
            opened[1].engine.dispose()

    def secret(
        self, account: str, name: str, announce: SecretSink = register_secret
    ) -> AccountToken:
        return AccountToken(self, account, name, announce)


@dataclass(frozen=True, slots=True)
class AccountToken:
    """``StoredSecret`` for one (account, name): what the connectors see of the store.

    Storage failures become the connector error tree's: an unusable key is a
    ``ConfigurationError`` (the admin must fix ``token_key``), a lost
    connection a ``TransientError`` (the next poll tries again)."""

    tokens: StoredTokens = field(repr=False)
    account: str
    name: str
    announce: SecretSink = field(default=register_secret, repr=False)

    def load(self) -> str | None:
        with self._translated():
            value = self.tokens.store().load(self.account, self.name)
        if value is not None:
            self.announce(value)
        return value

    def save(self, value: str) -> None:
        self.announce(value)
        with self._translated():
            self.tokens.store().save(self.account, self.name, value)

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except TokenKeyError as exc:
            raise ConfigurationError(f"account {self.account!r}: {exc}") from None
        except StorageError as exc:
            error = TransientError if exc.transient else ConfigurationError
            raise error(f"account {self.account!r}: the token store failed: {exc}") from None
