"""Items every parser must refuse politely, and one it must survive.

The first four imitate ways real archives go bad and each becomes an ingest
error, nothing else: binary junk with no header block, a header block past
``Limits.max_header_bytes`` (256 KiB), a VEVENT cut off mid-way, and a text
file saved as .eml.

``deep_mime`` is hostile but well-formed: MIME nesting deeper than
``Limits.max_mime_depth`` (20). Its headers are sound, so it is captured as
an ordinary message; the limit only stops the walk for its text.
"""

from __future__ import annotations

import random

SEED = 20260105


def binary_garbage() -> bytes:
    """A gzip stream that a broken export tool appended to the mbox as if it were a message.

    No colon and no "From " at a line start, so it cannot pass for a header or
    split into further mbox messages.
    """
    rng = random.Random(SEED)
    body = bytearray(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
    body += bytes(rng.randrange(256) for _ in range(3000))
    data = bytes(body).replace(b":", b"\x00").replace(b"\nFrom ", b"\n\x00rom ")
    return data + b"\n"


def mail_loop() -> bytes:
    """Two auto-responders answering each other until the header block passes 256 KiB."""
    hops = [
        f"Received: from relay{i % 7}.loop.acme-robotics.example (relay{i % 7}.loop.acme-robotics.example "
        f"[192.0.2.{i % 250 + 1}])\n\tby mx.northwind-labs.example with ESMTPS id L{i:06d}\n"
        f"\tfor <alice@northwind-labs.example>; Sat, 11 Jul 2026 03:{i % 60:02d}:00 +0000"
        for i in range(1600)
    ]
    head = "\n".join(hops) + (
        "\nFrom: Out of Office <autoreply@acme-robotics.example>\n"
        "To: alice@northwind-labs.example\n"
        "Subject: " + "Re: " * 40 + "Automatic reply: Out of office\n"
        "Date: Sat, 11 Jul 2026 03:59:00 +0000\n"
        "Message-ID: <loop-7731@acme-robotics.example>\n"
        "Auto-Submitted: auto-replied\n"
    )
    return (head + "\nI am out of the office until Monday.\n").encode("ascii")


BROKEN_ICS = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//Northwind Labs//Sample Calendar Export 1.0//EN\r\n"
    "BEGIN:VEVENT\r\n"
    "UID:truncated-export-0001@northwind-labs.example\r\n"
    "DTSTART:2026-13-45T99:00\r\n"
    "SUMMARY:Export cut off here\r\n"
    "ATTENDEE;CN=Priya Shah;PARTSTAT=ACC"
).encode("ascii")


PASTED_NOTES = """notes from the call with Samir, May 14

- architecture review moved to Wednesday
- they want the SSO guide before the review
- follow up with Dev about the claim mapping

(saved from a text editor with a .eml name by mistake)
""".encode("ascii")


def deep_mime(depth: int = 32) -> bytes:
    """A forwarded-forwarded-... message nested past max_mime_depth; captured, not an error."""
    head = (
        "From: Samir Haddad <samir.haddad@initech.example>\n"
        "To: Bob Okafor <bob@northwind-labs.example>\n"
        "Subject: Fwd: Fwd: Fwd: logs\n"
        "Date: Mon, 21 Sep 2026 10:00:00 -0500\n"
        "Message-ID: <nested-0032@mail.initech.example>\n"
        "MIME-Version: 1.0\n"
    )
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="level{i:02d}"\n\n--level{i:02d}\n'
        for i in range(depth)
    )
    closing = "".join(f"\n--level{i:02d}--\n" for i in reversed(range(depth)))
    inner = 'Content-Type: text/plain; charset="us-ascii"\n\nsee logs below\n'
    return (head + opening + inner + closing).encode("ascii")
