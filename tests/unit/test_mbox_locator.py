"""Where a person finds an mbox message that could not be captured."""

from __future__ import annotations

import io

from connectors.mail.mbox import read_mbox

MBOX = (
    b"From a@x Mon Jul 13 03:12:09 2026\n"
    b"From: Ann <ann@acme.example>\n"
    b"Message-ID:\n <folded-1@acme.example>\n"
    b"Date: Mon, 13 Jul 2026 03:12:09 +0000\n"
    b"\n"
    b"Date: in the body, not a header\n"
    b"\n"
    b"From b@x Mon Jul 13 04:00:00 2026\r\n"
    b"Subject: no id here\r\n"
    b"DATE: Tue, 14 Jul 2026 08:00:00 +0200\r\n"
    b"\r\n"
    b"body\r\n"
    b"\n"
    b"From c@x Mon Jul 13 05:00:00 2026\n"
    b"\x1f\x8b\x08\x00\nMessage-ID: <\x01\xff>\n"
    b"\n"
    b"From d@x Mon Jul 13 06:00:00 2026\n" + b"X-Padding: " + b"y" * 300 + b"\n\nbig\n"
)


def test_locator_is_the_offset_then_message_id_and_date_from_the_header() -> None:
    starts = [i + 1 for i in range(len(MBOX)) if MBOX.startswith(b"\nFrom ", i)]
    entries = list(read_mbox(io.BytesIO(MBOX), 0, max_bytes=200))
    assert [e.locator for e in entries] == [
        "byte 0; Message-ID <folded-1@acme.example>; Date Mon, 13 Jul 2026 03:12:09 +0000",
        f"byte {starts[0]}; Date Tue, 14 Jul 2026 08:00:00 +0200",
        f"byte {starts[1]}",  # binary junk: nothing printable to show
        f"byte {starts[2]}",  # too large to hold: the offset is all there is
    ]
    assert entries[3].raw is None
