"""Credentials as sources the wire clients ask at the time of use, never as stored values.

A ``TokenSource`` hands out the current credential and, when a server has
refused it, a fresh one. The HTTP client asks it for the bearer token of
every request and, after a 401, for a fresh token once before it gives up
with ``AuthError``; IMAP asks it for the XOAUTH2 token at login, likewise
once more after a refused login. An OAuth provider (Google, Microsoft)
implements ``refresh`` by minting a new access token; a secret read from the
environment or a file implements it by reading again, which picks up a token
that another process rotated.

A ``StoredSecret`` is a credential the agent keeps for an account in its
database, encrypted (``storage.tokens``): a refresh token that
``autocapture auth`` obtained, a token cache a library rotates. Connectors
may not import storage, so the agent hands them this seam, one per
(account, name); ``load`` reads the stored value as committed now (another
agent process may have replaced it), ``save`` replaces it (the last write
wins). ``StoredToken`` serves one as a ``TokenSource``.

Every value a source hands out may be new to the process, so a source tells
``announce`` about it: the agent passes its redaction registry there, which
masks the value in every log line and stored error. Connectors thus never
import the agent (the seam is this callback, not a module).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from connectors.base import AuthError

__all__ = ["ReadSecret", "SecretSink", "StoredSecret", "StoredToken", "TokenSource", "ignore"]

SecretSink = Callable[[str], None]  # told of every credential value a source hands out


class TokenSource(Protocol):
    def token(self) -> str:
        """The credential to send now (may be cached by the source)."""
        ...

    def refresh(self) -> str:
        """A fresh credential after the server refused the current one; ``token()``
        returns it from now on. Equal to the refused one when there is none newer."""
        ...


def ignore(value: str) -> None:
    """A ``SecretSink`` for callers without a redaction registry (tests, tools)."""


@dataclass(frozen=True, slots=True)
class ReadSecret:
    """A secret read anew at each use (``${ENV}`` or ``file:``); refreshing is reading again."""

    read: Callable[[], str] = field(repr=False)
    announce: SecretSink = field(default=ignore, repr=False)

    def token(self) -> str:
        value = self.read()
        self.announce(value)
        return value

    def refresh(self) -> str:
        return self.token()


class StoredSecret(Protocol):
    """One credential the agent keeps encrypted for an account (see the module docstring)."""

    def load(self) -> str | None:
        """The value stored now, or None when there is none."""
        ...

    def save(self, value: str) -> None:
        """Replace the stored value."""
        ...


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A ``TokenSource`` over a ``StoredSecret``, read anew at each use; none stored is
    ``AuthError``: access was never granted here, which only signing in mends."""

    stored: StoredSecret = field(repr=False)
    what: str  # "refresh token", for the message
    announce: SecretSink = field(default=ignore, repr=False)

    def token(self) -> str:
        value = self.stored.load()
        if value is None:
            raise AuthError(f"no {self.what} is stored for this account")
        self.announce(value)
        return value

    def refresh(self) -> str:
        return self.token()
