"""How fast connectors.mail.mime parses mail, against the standard library's email tree.

    .venv/bin/python bench/parse_speed.py [--messages 20000] [--distinct 1000]

Generates real-world shaped messages (plain, multipart/alternative with
quoted-printable, HTML-only base64, and about 15% multipart/mixed with a
150 KB base64 attachment), then times ``parse_message`` and
``email.message_from_bytes(raw, policy=email.policy.default)`` over the same
sequence. ``--distinct`` messages are generated and cycled, so memory stays
small while the parsers never see fewer distinct shapes than real mail has.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import random
import time
from collections.abc import Callable

from connectors.base import Limits
from connectors.mail.mime import parse_message
from connectors.records import SourceRef

ATTACHMENT_SHARE = 0.15
ATTACHMENT_BYTES = 150 * 1024


def headers(i: int, content_type: str) -> str:
    return (
        f"Return-Path: <s{i}@example.org>\r\n"
        f"Received: from mx{i % 7}.example.org by mx.example.com; Tue, 3 Mar 2026 10:15:00 +0000\r\n"
        f"From: =?utf-8?q?J=C3=BCrgen_{i}?= <s{i}@example.org>\r\n"
        f"To: Ann <ann@example.com>,\r\n Bob <bob@example.com>\r\n"
        f"Subject: =?utf-8?q?Angebot_Nr=2E_{i}?=\r\n"
        f"Date: Tue, 03 Mar 2026 10:{i % 60:02d}:00 +0100\r\n"
        f"Message-ID: <{i}.{random.randrange(10**9)}@mail.example.org>\r\n"
        f"References: <{i - 1}@mail.example.org>\r\nMIME-Version: 1.0\r\n"
        f"X-Mailer: bench\r\nDKIM-Signature: v=1; a=rsa-sha256; d=example.org;\r\n"
        f" b={base64.b64encode(random.randbytes(180)).decode()}\r\n"
        f"Content-Type: {content_type}\r\n"
    )


def body_text(i: int) -> str:
    return (
        f"Hallo Ann,\r\n\r\nanbei das Angebot {i}.\r\n\r\n-- \r\nJürgen\r\n+49 30 1234567\r\n" * 3
    )


def make_message(i: int, attachment: bytes) -> bytes:
    roll = random.random()
    if roll < ATTACHMENT_SHARE:
        encoded = base64.encodebytes(attachment).decode().replace("\n", "\r\n")
        return (
            headers(i, 'multipart/mixed; boundary="mix"') + "\r\n--mix\r\n"
            'Content-Type: multipart/alternative; boundary="alt"\r\n\r\n'
            "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + body_text(i) + "\r\n"
            "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hallo</p>\r\n--alt--\r\n"
            '--mix\r\nContent-Type: application/pdf; name="a.pdf"\r\n'
            "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment\r\n\r\n"
            + encoded
            + "--mix--\r\n"
        ).encode("utf-8")
    if roll < 0.6:
        qp = body_text(i).replace("ü", "=C3=BC")
        return (
            headers(i, 'multipart/alternative; boundary="alt"') + "\r\n--alt\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable"
            "\r\n\r\n" + qp + "\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            "<html><body><p>Hallo Ann</p></body></html>\r\n--alt--\r\n"
        ).encode("utf-8")
    if roll < 0.75:
        html = base64.encodebytes(f"<p>{body_text(i)}</p>".encode()).decode()
        return (
            headers(i, "text/html; charset=utf-8")
            + "Content-Transfer-Encoding: base64\r\n\r\n"
            + html.replace("\n", "\r\n")
        ).encode("utf-8")
    return (headers(i, "text/plain; charset=utf-8") + "\r\n" + body_text(i)).encode("utf-8")


def timed(parse: Callable[[bytes], object], raws: list[bytes], total: int) -> float:
    started = time.perf_counter()
    for n in range(total):
        parse(raws[n % len(raws)])
    return time.perf_counter() - started


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--messages", type=int, default=20_000)
    args.add_argument("--distinct", type=int, default=1_000)
    opts = args.parse_args()
    random.seed(7)
    attachment = random.randbytes(ATTACHMENT_BYTES)
    raws = [make_message(i, attachment) for i in range(opts.distinct)]
    with_attachment = sum(1 for r in raws if len(r) > ATTACHMENT_BYTES)
    source, limits = SourceRef("bench", "INBOX", "0"), Limits()

    ours = timed(lambda raw: parse_message(raw, source, limits), raws, opts.messages)
    stdlib = timed(
        lambda raw: email.message_from_bytes(raw, policy=email.policy.default), raws, opts.messages
    )
    print(
        f"{opts.messages} messages ({opts.distinct} distinct, {with_attachment} with a "
        f"{ATTACHMENT_BYTES // 1024} KB attachment), {sum(map(len, raws)) / len(raws) / 1024:.0f} KB mean"
    )
    print(f"connectors.mail.mime.parse_message:           {ours:7.2f} s")
    print(f"email.message_from_bytes(policy=default): {stdlib:7.2f} s")
    print(f"ratio: {ours / stdlib:.3f}x")


if __name__ == "__main__":
    main()
