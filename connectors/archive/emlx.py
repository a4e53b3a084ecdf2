"""Apple Mail's own message files (``.emlx``), as its library keeps them.

``~/Library/Mail/V10/<account>/<mailbox>.mbox/.../Messages/<n>.emlx`` holds
one message: a first line with the message's length in bytes, the message
itself (RFC 5322), then an XML property list of Apple Mail's flags. A
``.partial.emlx`` is the same with the attachments left in separate files;
its header and text are whole. Only the message part is read.
"""

from __future__ import annotations

from connectors.base import InvalidInput

EMLX_SUFFIXES = (".emlx",)  # ".partial.emlx" ends in it too
_MAX_LENGTH_LINE = 20


def stored_message(name: str, data: bytes) -> bytes:
    """The message in the file ``name``: an .emlx file's message part, else ``data``."""
    return emlx_message(data) if name.lower().endswith(EMLX_SUFFIXES) else data


def emlx_message(data: bytes) -> bytes:
    """The RFC 5322 message of an .emlx file; ``InvalidInput("bad-emlx")`` when
    its first line is no byte count or promises more than the file holds."""
    newline = data.find(b"\n", 0, _MAX_LENGTH_LINE)
    length = data[:newline].strip() if newline != -1 else b""
    if not length.isdigit():
        raise InvalidInput("bad-emlx", "the first line is no byte count")
    start = newline + 1
    end = start + int(length)
    if end > len(data):
        raise InvalidInput("bad-emlx", f"the file ends before the {int(length)} bytes it announces")
    return data[start:end]
