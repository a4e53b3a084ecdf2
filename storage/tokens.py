"""Tokens encrypted at rest: refresh tokens and token caches, one row per (account, name).

A row holds a fresh 96-bit nonce and the AES-256-GCM ciphertext of the
value (NIST SP 800-38D: a random nonce is safe for far more writes than a
token table sees under one key). The associated data is the row's
(account, name), so a ciphertext copied into another row, or another
account's row swapped in, fails authentication instead of handing one
account's grant to another. Nothing in the table is plain text but the
two names and the time of the last write.

Several agent processes may share one PostgreSQL database: a save is an
upsert (the last write wins) and a load reads the row as committed now,
so a process that refreshes picks up a token another process stored.

The key is 32 random bytes written as base64 text, so one reference form
(``file:`` or ``${ENV}``) serves it like every other secret; who resolves
the reference is the agent (only it reads settings). ``ensure_key_file``
creates the default key file: 0600, complete before any process can see it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from storage.bulk import upsert
from storage.engine import WRITE
from storage.errors import StorageError, described
from storage.schema_accounts import stored_tokens

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # GCM's 96-bit nonce


class TokenKeyError(StorageError):
    """The token key is unusable, or is not the key a stored token was encrypted with.

    Names the key's reference (``file:/path``, ``${ENV}``), never the key."""

    def __init__(self, what: str) -> None:
        super().__init__(what)


def parse_key(text: str, reference: str) -> bytes:
    """The 32-byte key written as base64 text (``openssl rand -base64 32``)."""
    try:
        key = base64.b64decode(text.strip().translate(_URLSAFE), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise TokenKeyError(
            f"the token key {reference} is not {KEY_BYTES} bytes written in base64 "
            "(make one with `openssl rand -base64 32`)"
        )
    return key


_URLSAFE = str.maketrans("-_", "+/")


def new_key_text() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def ensure_key_file(path: Path) -> None:
    """Create the key file at ``path`` unless it exists: mode 0600, in a 0700 folder.

    The key is written to a private temporary file and then hard-linked into
    place, which fails if the name exists: two processes starting at once
    end up with one key between them, and no reader ever sees a half-written
    file (an O_EXCL create of the final name would show it empty for a moment).
    """
    if path.exists():
        return
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, (new_key_text() + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process made the key first: use that one
        finally:
            temporary.unlink()
    except OSError as exc:
        raise TokenKeyError(
            f"cannot create the token key file:{path} ({exc.strerror or type(exc).__name__})"
        ) from None


def _associated(account: str, name: str) -> bytes:
    # JSON keeps the pair unambiguous whatever characters the names hold.
    return json.dumps(["autocapture-token", account, name]).encode("utf-8")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TokenStore:
    """Encrypted (account, name) -> value rows in ``stored_tokens``."""

    def __init__(
        self,
        engine: sa.Engine,
        key: bytes,
        reference: str,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.engine = engine
        self.reference = reference  # named in errors; the key itself never is
        self._cipher = AESGCM(key)
        self._clock = clock

    def __repr__(self) -> str:
        return f"TokenStore(key {self.reference})"

    def load(self, account: str, name: str) -> str | None:
        """The stored value, or None; ``TokenKeyError`` if it was encrypted with another key."""
        t = stored_tokens.c
        query = sa.select(t.nonce, t.ciphertext).where(t.account == account, t.name == name)
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        except sa.exc.DBAPIError as exc:
            raise described(exc) from None
        if row is None:
            return None
        try:
            plain = self._cipher.decrypt(
                bytes(row.nonce), bytes(row.ciphertext), _associated(account, name)
            )
        except InvalidTag:
            raise TokenKeyError(
                f"the stored {name} of account {account!r} does not open with the token key "
                f"{self.reference}: it was stored under another key, or altered"
            ) from None
        return plain.decode("utf-8")

    def save(self, account: str, name: str, value: str) -> None:
        """Store ``value`` for (account, name), replacing what is there (the last write wins)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = self._cipher.encrypt(nonce, value.encode("utf-8"), _associated(account, name))
        row = {
            "account": account,
            "name": name,
            "nonce": nonce,
            "ciphertext": sealed,
            "updated_at": self._clock(),
        }
        try:
            with self.engine.connect().execution_options(**WRITE) as conn, conn.begin():
                stmt = upsert(conn, stored_tokens).values(row)
                changed = {c: stmt.excluded[c] for c in ("nonce", "ciphertext", "updated_at")}
                conn.execute(
                    stmt.on_conflict_do_update(index_elements=["account", "name"], set_=changed)
                )
        except sa.exc.DBAPIError as exc:
            raise described(exc) from None
