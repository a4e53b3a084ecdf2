"""Marks an exporting client wrote into a message, and which keep it out."""

from __future__ import annotations

import pytest

from connectors.archive.marks import left_out


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        (b"X-Gmail-Labels: Inbox,Important,Opened\n", None),
        (b"X-Gmail-Labels: Spam,Category Promotions,Unread\n", "Spam"),
        (b"x-gmail-labels: Archived,\n Trash\n", "Trash"),  # any case, folded
        (b"X-Gmail-Labels: Opened,Clients/Spam filters\n", None),  # the user's own label
        (b"X-Mozilla-Status: 0001\nX-Mozilla-Status2: 00000000\n", None),
        (b"X-Mozilla-Status: 0009\n", "expunged"),
        (b"X-Mozilla-Status: zz\n", None),  # not Thunderbird's hex: no mark
        (b"", None),
    ],
)
def test_marks_that_keep_a_message_out(fields: bytes, why: str | None) -> None:
    raw = (
        b"From: a@example.com\r\n"
        + fields.replace(b"\n", b"\r\n")
        + b"\r\nX-Gmail-Labels: Spam\r\n"
    )
    # The last line is body text: only the header counts.
    assert left_out(raw) == why
