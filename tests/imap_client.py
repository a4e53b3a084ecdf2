"""IMAP connectors on a test Dovecot user, and mail to load into its folders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from connectors.base import Limits, Window
from connectors.imap.connector import ImapConnector
from tests.servers.dovecot import MailUser

WINDOW = Window(datetime.now(UTC) - timedelta(days=30), datetime.now(UTC) + timedelta(days=90))


def connector_for(
    user: MailUser,
    *,
    port: int | None = None,
    limits: Limits | None = None,
    timeout: float = 10,
    window: Window = WINDOW,
    text_bytes: int = 16_384,
    **options: object,
) -> ImapConnector:
    return ImapConnector(
        account=f"acct-{user.name}",
        host="127.0.0.1",
        port=port or user.port,
        tls="none",
        allow_plaintext=True,
        username=user.name,
        password_provider=lambda: user.password,
        window=window,
        limits=limits,
        timeout=timeout,
        text_bytes=text_bytes,
        **options,  # type: ignore[arg-type]
    )


def note(n: int, when: datetime) -> bytes:
    date = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
    return (
        f"From: Ann Lee <ann@northwind.example>\r\nTo: dana@acme.example\r\n"
        f"Subject: Note {n}\r\nDate: {date}\r\nMessage-ID: <p{n}@test.example>\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\nNote {n}.\r\n"
    ).encode()
