"""The encrypted token store (storage.tokens, agent.tokens) on SQLite and PostgreSQL:
what several agent processes sharing one database see, a wrong key, a swapped row,
and no plain text in any column."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from agent.tokens import StoredTokens
from config.settings import default_token_key
from config.values import Secret
from connectors.base import AuthError, ConfigurationError
from connectors.credentials import StoredToken
from storage import Database, open_database
from storage.engine import create_engine
from storage.schema_accounts import stored_tokens
from storage.tokens import TokenKeyError, TokenStore, ensure_key_file, parse_key
from tests.plans import text_in_every_column

PLANTED = "1//0gPLANTED-refresh-token-7c1e9b"
KEY_A = base64.b64encode(bytes(range(32))).decode()
KEY_B = base64.b64encode(bytes(range(1, 33))).decode()


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = open_database(db_url)
    yield database
    database.close()


def store_on(url: str, key: str = KEY_A, reference: str = "${TEST_TOKEN_KEY}") -> TokenStore:
    """A store on its own engine, as another agent process would open it."""
    return TokenStore(create_engine(url), parse_key(key, reference), reference)


def test_a_token_saved_by_one_process_is_read_fresh_by_another_and_the_last_write_wins(
    db: Database, db_url: str
) -> None:
    first, second = store_on(db_url), store_on(db_url)
    assert first.load("dana", "refresh_token") is None
    first.save("dana", "refresh_token", "token-1")
    assert second.load("dana", "refresh_token") == "token-1"
    second.save("dana", "refresh_token", "token-2")  # the other process refreshed
    first.save("erin", "refresh_token", "erin-1")
    first.save("dana", "msal_cache", '{"RefreshToken": {}}')
    assert [first.load("dana", "refresh_token"), second.load("erin", "refresh_token")] == [
        "token-2",
        "erin-1",
    ]
    assert second.load("dana", "msal_cache") == '{"RefreshToken": {}}'
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(stored_tokens.c.account, stored_tokens.c.name)).all()
    assert sorted(rows) == [
        ("dana", "msal_cache"),
        ("dana", "refresh_token"),
        ("erin", "refresh_token"),
    ]


def test_a_wrong_key_is_named_by_its_reference_and_never_shown(db: Database, db_url: str) -> None:
    store_on(db_url, KEY_A).save("dana", "refresh_token", PLANTED)
    with pytest.raises(TokenKeyError) as refused:
        store_on(db_url, KEY_B, "file:/etc/autocapture/token.key").load("dana", "refresh_token")
    assert str(refused.value) == (
        "the stored refresh_token of account 'dana' does not open with the token key "
        "file:/etc/autocapture/token.key: it was stored under another key, or altered"
    )
    assert KEY_B not in str(refused.value) and PLANTED not in str(refused.value)


def test_a_row_copied_to_another_account_does_not_open(db: Database, db_url: str) -> None:
    store = store_on(db_url)
    store.save("dana", "refresh_token", PLANTED)
    store.save("erin", "refresh_token", "erin-own")
    t = stored_tokens.c
    with db.engine.begin() as conn:
        dana = conn.execute(sa.select(t.nonce, t.ciphertext).where(t.account == "dana")).one()
        conn.execute(
            sa.update(stored_tokens)
            .where(t.account == "erin")
            .values(nonce=dana.nonce, ciphertext=dana.ciphertext)
        )
    with pytest.raises(TokenKeyError, match="account 'erin' does not open"):
        store.load("erin", "refresh_token")
    assert store.load("dana", "refresh_token") == PLANTED


def test_no_column_holds_a_stored_token_or_the_key_in_plain_text(db: Database, db_url: str) -> None:
    store = store_on(db_url)
    store.save("dana", "refresh_token", PLANTED)
    store.save("dana", "refresh_token", PLANTED + "-rotated")
    stored = text_in_every_column(db)
    encoded = base64.b64encode(PLANTED.encode()).decode()
    assert [s for s in (PLANTED, encoded, KEY_A) if s in stored] == []
    assert "dana" in stored and "refresh_token" in stored  # the columns were read
    assert store.load("dana", "refresh_token") == PLANTED + "-rotated"


def test_a_key_that_is_not_32_bytes_of_base64_is_refused_by_its_reference() -> None:
    for text in ("not base64!", base64.b64encode(b"short").decode(), ""):
        with pytest.raises(TokenKeyError) as refused:
            parse_key(text, "${AUTOCAPTURE_TOKEN_KEY}")
        assert str(refused.value) == (
            "the token key ${AUTOCAPTURE_TOKEN_KEY} is not 32 bytes written in base64 "
            "(make one with `openssl rand -base64 32`)"
        )
    url_safe = base64.urlsafe_b64encode(bytes(range(250, 256)) * 5 + b"ab").decode()
    assert parse_key(url_safe + "\n", "x") == bytes(range(250, 256)) * 5 + b"ab"


def _create_key(path: str) -> None:
    ensure_key_file(Path(path))


def test_the_default_key_file_is_made_once_0600_by_racing_processes(tmp_path: Path) -> None:
    path = tmp_path / "data" / "token.key"
    spawn = multiprocessing.get_context("fork")
    racers = [spawn.Process(target=_create_key, args=(str(path),)) for _ in range(6)]
    for p in racers:
        p.start()
    for p in racers:
        p.join(30)
    assert [p.exitcode for p in racers] == [0] * 6
    key = path.read_text()
    assert len(parse_key(key, "file")) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert os.listdir(path.parent) == ["token.key"]  # no temporary file left behind
    ensure_key_file(path)
    assert path.read_text() == key


def _save_in_child(tokens: StoredTokens) -> None:
    tokens.secret("dana", "refresh_token").save("from-the-child")


def test_stored_tokens_use_the_default_key_and_work_across_a_fork(
    db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    key = default_token_key()
    assert key.name == str(tmp_path / "xdg" / "autocapture" / "token.key")
    tokens = StoredTokens(db_url, key)
    dana = tokens.secret("dana", "refresh_token")
    assert dana.load() is None  # the key file is made on this first use
    assert stat.S_IMODE(Path(key.name).stat().st_mode) == 0o600
    dana.save("from-the-parent")
    # A read-ahead child is forked from an agent whose store is open: it opens its own.
    child = multiprocessing.get_context("fork").Process(target=_save_in_child, args=(tokens,))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert dana.load() == "from-the-child"
    tokens.close()


def test_a_connector_sees_a_wrong_key_as_a_configuration_error_and_no_token_as_auth(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_TOKEN_KEY", KEY_A)
    StoredTokens(db_url, Secret.parse("${TEST_TOKEN_KEY}")).secret("dana", "refresh_token").save(
        PLANTED
    )
    monkeypatch.setenv("TEST_TOKEN_KEY", KEY_B)
    other = StoredTokens(db_url, Secret.parse("${TEST_TOKEN_KEY}"))
    with pytest.raises(ConfigurationError) as refused:
        StoredToken(other.secret("dana", "refresh_token"), "refresh token").token()
    assert str(refused.value) == (
        "account 'dana': the stored refresh_token of account 'dana' does not open with the "
        "token key ${TEST_TOKEN_KEY}: it was stored under another key, or altered"
    )
    with pytest.raises(AuthError) as missing:
        StoredToken(other.secret("erin", "refresh_token"), "refresh token").token()
    assert str(missing.value) == "no refresh token is stored for this account"
    monkeypatch.delenv("TEST_TOKEN_KEY")
    with pytest.raises(ConfigurationError) as unset:
        StoredTokens(db_url, Secret.parse("${TEST_TOKEN_KEY}")).secret("dana", "x").load()
    assert str(unset.value) == (
        "account 'dana': the token key ${TEST_TOKEN_KEY} is unavailable: "
        "the environment variable is not set"
    )
