"""The one-scan reading of a stored header gives exactly what reading it group by group gives."""

from __future__ import annotations

import pytest

from bench.mailgen import generate_mail
from connectors.mail.headers import (
    FIELD_GROUPS,
    field_block,
    read_groups,
    read_stored_fields,
    read_stored_header,
)

LIMIT = 256 * 1024

SHAPES = [
    b"From: Ann <ann@x.example>\r\nTo: b@y.example,\r\n c@y.example\r\nSubject: Hi\r\n",
    b"Received: from a\n\tby b; Mon, 2 Nov 2026 08:30:00 +0100\nTo: z@y.example\nFrom: q@x.example\n",
    b"garbage line without colon\nCc: one@x.example\nnot a field\n  orphan continuation\nTo: t@x\n",
    b"To: first@x.example\r\nSubject: one\r\nTo: second@x.example\r\nSUBJECT: two\r\n",
    b"Date: Mon, 2 Nov 2026 08:30:00 +0100\r\nReply-To: r@x.example\r\nList-Id: <l.x.example>\r\n",
    b"",
    b"Content-Type: multipart/mixed;\r\n boundary=x\r\nFrom: a@x.example\r\n"
    b"Content-Transfer-Encoding: 7bit\r\nContent-Disposition: inline\r\n",
]
PARTS = ("content-type", "content-transfer-encoding", "content-disposition")


def by_groups(head: bytes) -> object:
    return read_groups([(names, field_block(head, names)) for names in FIELD_GROUPS], LIMIT)


@pytest.mark.parametrize("head", SHAPES)
def test_real_world_shapes_read_alike(head: bytes) -> None:
    assert read_stored_header(head, LIMIT) == by_groups(head)


@pytest.mark.parametrize("head", SHAPES)
def test_part_fields_read_in_the_same_scan_match_their_own_block(head: bytes) -> None:
    read, parts = read_stored_fields(head, LIMIT, PARTS)
    assert read == by_groups(head)
    assert parts == read_groups([(PARTS, field_block(head, PARTS))], LIMIT).fields


def test_generated_mail_reads_alike() -> None:
    for mail in generate_mail(300, seed=3):
        head = mail.raw.split(b"\r\n\r\n", 1)[0] + b"\r\n"
        assert read_stored_header(head, LIMIT) == by_groups(head)
        _, parts = read_stored_fields(head, LIMIT, PARTS)
        assert parts == read_groups([(PARTS, field_block(head, PARTS))], LIMIT).fields


def test_a_header_over_the_limit_is_still_read_group_by_group() -> None:
    recipients = b"To: " + b",\r\n ".join(b"r%d@x.example" % i for i in range(20000)) + b"\r\n"
    head = b"From: a@x.example\r\nSubject: big list\r\n" + recipients
    read = read_stored_header(head, LIMIT)
    assert read == by_groups(head)
    assert read.notes == (
        ("header-truncated", f"To/Cc/Bcc over {LIMIT} bytes: read up to the limit"),
    )
