"""Text out of mail bytes: charsets, transfer encodings, RFC 2047 encoded words.

Nothing here raises on bad input: a mislabelled charset or broken base64
costs characters (U+FFFD), never the message (docs/ARCHITECTURE.md, invariant 2).
"""

from __future__ import annotations

import binascii
import codecs
import re
from functools import lru_cache

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_ENCODED_GAP = re.compile(r"(\?=)[ \t\r\n]+(=\?)")


def _latin1_bytes(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("autocapture-latin1", _latin1_bytes)

# C0 and C1 controls but TAB, and DEL. Dovecot hands out a stored NUL as
# 0x80 (U+0080 once read as Latin-1), so both become U+FFFD: the same bytes
# read the same from a file and from IMAP, and PostgreSQL text, which cannot
# hold NUL, never sees one.
_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f]")


def header_text(value: bytes) -> str:
    """A header field's bytes as text: UTF-8 (RFC 6532), any byte that is not
    UTF-8 read as Latin-1 (older mailers send it raw), controls as U+FFFD."""
    text = value.decode("utf-8", "autocapture-latin1")
    if text.isascii() and text.isprintable():  # nearly every field: no control to replace
        return text
    return _CONTROLS.sub("\ufffd", text)


@lru_cache(maxsize=128)
def _text_codec(charset: str | None) -> str:
    """A text codec for a declared charset; unknown or non-text codecs read as UTF-8."""
    name = (charset or "").strip().strip('"').split("*", 1)[0].lower()
    # US-ASCII labels routinely carry UTF-8, and ISO-8859-1 labels carry
    # Windows-1252 (the WHATWG encoding standard reads them the same way).
    name = {"us-ascii": "utf-8", "ascii": "utf-8", "iso-8859-1": "cp1252", "latin1": "cp1252"}.get(
        name, name
    )
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return "utf-8"
    # Refuses bytes-to-bytes codecs ("zlib", "base64"): a hostile charset
    # label must not make us decompress anything. ``bytes.decode`` checks the
    # same private flag.
    return info.name if getattr(info, "_is_text_encoding", False) else "utf-8"


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset to text; never raises, drops a cut-off final character."""
    decoder = codecs.getincrementaldecoder(_text_codec(charset))(errors="replace")
    text = decoder.decode(data, final=False)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
_NOT_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)


def _unbase64(data: bytes) -> bytes:
    # RFC 2045 6.8: characters outside the alphabet are ignored; dropping
    # them first lets a cut (max_text_bytes) fall on whole 4-char quanta.
    data = data.translate(None, _NOT_B64)
    data = data[: len(data) - len(data) % 4]
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return b""


def decode_body(
    payload: bytes, transfer_encoding: str | None, charset: str | None, limit: int
) -> str:
    """A text part's body: at most ``limit`` source bytes, transfer-decoded, charset-decoded."""
    payload = payload[:limit]
    cte = (transfer_encoding or "").strip().lower()
    if cte == "base64":
        payload = _unbase64(payload)
    elif cte == "quoted-printable":
        payload = binascii.a2b_qp(payload)
    return decode_text(payload, charset)


def decode_words(value: str) -> str:
    """RFC 2047 encoded words to text; bad charsets or encodings never raise."""
    if "=?" not in value:
        return value
    value = _ENCODED_GAP.sub(r"\1\2", value)  # RFC 2047 6.2: space between words is dropped
    out: list[str] = []
    pending: list[bytes] = []
    pending_charset: str | None = None
    pos = 0

    def flush() -> None:
        if pending:
            out.append(decode_text(b"".join(pending), pending_charset))
            pending.clear()

    for match in _ENCODED_WORD.finditer(value):
        if match.start() != pos:
            flush()
            out.append(value[pos : match.start()])
        charset, kind, text = match.groups()
        raw = text.encode("ascii", "replace")
        chunk = binascii.a2b_qp(raw, header=True) if kind in "qQ" else _unbase64(raw + b"===")
        if pending and charset.lower() != (pending_charset or "").lower():
            flush()
        # Adjacent words in one charset are joined before decoding: mailers
        # split multi-byte characters across words.
        pending_charset = charset
        pending.append(chunk)
        pos = match.end()
    flush()
    out.append(value[pos:])
    return "".join(out)
