"""Address lists from raw header text, as real mail writes them.

RFC 5322 section 3.4 defines mailboxes, groups and comments; real headers
add RFC 2047 encoded words in any charset (also inside quoted strings, which
the RFC forbids but Outlook and many web mailers emit), unquoted
"Last, First <x@y>", bare "Name x@y", unterminated quotes and plain garbage.

The parser is one linear scan into tokens per mailbox, then a reading of each
mailbox's tokens. It never raises: what it cannot read is dropped. Its cost is
bounded by ``max_chars`` and ``max_addresses`` so a hostile header cannot
cost more than a long legitimate one.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from connectors.records import Address
from matcher.remembered import remembered

# A To: line of 1,000 recipients at ~60 characters each fits with margin;
# anything longer is hostile or broken and its tail is not worth reading.
MAX_HEADER_CHARS = 64 * 1024
MAX_DISPLAY_NAME_CHARS = 256  # RFC 5322 lines are 998; real names are far shorter
MAX_ADDRESSES = 1000  # same bound as connectors.base.Limits.max_attendees

# RFC 2047 section 2: "=?charset?encoding?encoded-text?=". The classes exclude
# "?" and whitespace, so matching is linear; charset may carry an RFC 2231
# language suffix ("utf-8*en").
_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,64})\?([bBqQ])\?([^?\s]*)\?=")

# Labels mail software writes that name a narrower charset than the bytes
# really use; decoding with the superset (as browsers do, WHATWG Encoding
# Standard) turns mojibake into text.
_CHARSET_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
}

_MAX_UNCLOSED = 4  # unclosed openers looked into per header; later ones read as literal
_BOXES_PER_ADDRESS = 4
# Characters with no meaning to the scanner, consumed as one run.
_PLAIN_RUN = re.compile(r'[^"(<,:;\s]+')
_LITERAL_RUN = re.compile(
    r"[^,:;\s]+"
)  # once openers are read as literals  # unterminated quotes/comments re-read as literal text


def decode_encoded_words(text: str) -> str:
    """Decode RFC 2047 encoded words; undecodable words stay as written.

    Adjacent words of one charset are joined as bytes before decoding because
    mailers split multi-byte characters across words (seen from Gmail and
    Outlook with UTF-8 and ISO-2022-JP); whitespace between adjacent encoded
    words is dropped (RFC 2047 section 6.2).
    """
    if "=?" not in text:
        return text
    out: list[str] = []
    run: bytearray = bytearray()
    run_charset = ""
    pos = 0
    for match in _ENCODED_WORD.finditer(text):
        between = text[pos : match.start()]
        payload = _word_bytes(match.group(2), match.group(3))
        charset = match.group(1).split("*", 1)[0].lower()
        if payload is None:
            out.append(_decode_bytes(bytes(run), run_charset) + between + match.group(0))
            run, run_charset = bytearray(), ""
        elif run and charset == run_charset and not between.strip():
            run += payload
        else:
            out.append(_decode_bytes(bytes(run), run_charset))
            if not (run and not between.strip()):
                out.append(between)
            run, run_charset = bytearray(payload), charset
        pos = match.end()
    out.append(_decode_bytes(bytes(run), run_charset))
    out.append(text[pos:])
    return "".join(out)


def _word_bytes(encoding: str, data: str) -> bytes | None:
    if not data.isascii():
        return None
    try:
        if encoding in "bB":
            return base64.b64decode(data + "=" * (-len(data) % 4), validate=True)
        return binascii.a2b_qp(data.encode("ascii"), header=True)
    except (binascii.Error, ValueError):
        return None


def _decode_bytes(data: bytes, charset: str) -> str:
    if not data:
        return ""
    codec = _CHARSET_SUPERSETS.get(charset, charset)
    try:
        return data.decode(codec, "replace")
    except (LookupError, UnicodeError, ValueError):
        pass  # unknown or non-text codec ("zlib", "x-unknown"): fall back below
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


TokenKind = Literal["word", "quoted", "comment", "angle"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: TokenKind
    text: str


@dataclass(frozen=True, slots=True)
class _Mailbox:
    tokens: tuple[_Token, ...]
    raw: str


@dataclass(slots=True)
class _Scan:
    """State of one scan: the mailboxes so far and the one being read."""

    text: str
    mailboxes: list[_Mailbox]
    tokens: list[_Token]
    word: list[str]
    start: int = 0
    unclosed: int = 0  # quotes/comments/angles that never closed, read as literals

    def flush_word(self) -> None:
        if self.word:
            self.tokens.append(_Token("word", "".join(self.word)))
            self.word.clear()

    def end_mailbox(self, end: int, keep: bool = True) -> None:
        self.flush_word()
        if keep and self.tokens:
            raw = self.text[self.start : end].strip()
            self.mailboxes.append(_Mailbox(tuple(self.tokens), raw))
        self.tokens.clear()
        self.start = end + 1


# RFC 5322 quoted-string: a backslash escapes the next character.
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)
# What can end or nest a comment or an angle address.
_SPECIALS = {")": re.compile(r"[()\\]"), ">": re.compile(r"[<>]")}
# Real comments and angle addresses nest two or three deep at most; deeper
# is garbage, and reading it would cost a pass over the rest of the header.
_MAX_NESTING = 8


def _delimited(text: str, i: int, close: str, nests: str = "") -> tuple[str, int]:
    """Text inside a quoted string, comment or angle address starting at ``i``.

    Returns the content and the index after the closing delimiter, or -1 as
    the index when the text ends first or nests too deep (the caller re-reads
    the opener as literal). Backslash escapes one character inside quotes and
    comments (RFC 5322 section 3.2.1); angle addresses have no escapes.
    """
    if close == '"':
        quoted = _QUOTED.match(text, i)
        return (_ESCAPED.sub(r"\1", quoted.group(1)), quoted.end()) if quoted else ("", -1)
    depth = 1
    out: list[str] = []
    j = i + 1
    while special := _SPECIALS[close].search(text, j):
        k = special.start()
        out.append(text[j:k])
        c = text[k]
        if c == "\\":
            out.append(text[k + 1 : k + 2])
            j = k + 2
            continue
        depth += 1 if c == nests else -1
        if depth == 0:
            return "".join(out), k + 1
        if depth > _MAX_NESTING:
            return "", -1
        out.append(c)
        j = k + 1
    return "".join(out), -1


_OPENERS: dict[str, tuple[TokenKind, str, str]] = {
    '"': ("quoted", '"', ""),
    "(": ("comment", ")", "("),
    "<": ("angle", ">", "<"),
}


def _opened(scan: _Scan, i: int) -> int:
    """Read the quote, comment or angle address at ``i``; the index after it, or -1."""
    if scan.unclosed >= _MAX_UNCLOSED:
        return -1
    kind, close, nests = _OPENERS[scan.text[i]]
    content, after = _delimited(scan.text, i, close, nests)
    if after == -1:
        # An opener that never closes would swallow every later address, and
        # looking for its closer costs a pass over the rest: read it as a
        # literal, and after a few of them read every opener so.
        scan.unclosed += 1
        return -1
    scan.flush_word()
    scan.tokens.append(_Token(kind, content))
    return after


def _mailboxes(text: str, max_boxes: int) -> list[_Mailbox]:
    scan = _Scan(text, [], [], [])
    i = 0
    while i < len(text) and len(scan.mailboxes) < max_boxes:
        c = text[i]
        if c in _OPENERS and (after := _opened(scan, i)) != -1:
            i = after
            continue
        if c == ",":
            scan.end_mailbox(i)
        elif c == ":":
            # RFC 5322 group: "display-name:" is a label, not a mailbox.
            scan.end_mailbox(i, keep=False)
        elif c == ";":
            scan.end_mailbox(i)
        elif c.isspace():
            scan.flush_word()
        elif run := (_LITERAL_RUN if scan.unclosed >= _MAX_UNCLOSED else _PLAIN_RUN).match(text, i):
            scan.word.append(run.group())  # a whole run at once: the scan's hot path
            i = run.end()
            continue
        else:
            scan.word.append(c)  # an opener read as a literal
        i += 1
    scan.end_mailbox(len(text))
    return scan.mailboxes


# An address written inside a display name or calendar CN: Outlook's
# "'ann@x.com'", "Ann Lee <ann@x.com>", "Ann Lee (ann@x.com)", "mailto:...".
_INNER_ADDRESS = re.compile(
    r"[<(\[]?\s*(?:mailto:)?[^\s<>()\[\]@,;\"']+@[^\s<>()\[\]@,;\"']+\s*[>)\]]?", re.I
)
_NAME_EDGES = " '\"`"


def display_name_text(text: str) -> str | None:
    """A display name as people read it: decoded, one line, without the
    quotes and addresses clients wrap around it; None when nothing is left.

    The one reader of names in mail headers and calendar CN parameters, so
    the same person is named alike from a message and from an invitation.
    """
    text = decode_encoded_words(text)
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    text = " ".join(text.split()).strip(_NAME_EDGES)
    if "@" in text:
        text = " ".join(_INNER_ADDRESS.sub(" ", text).split()).strip(_NAME_EDGES + ",;:-")
    # Longer is junk (or an attack) and would travel into storage as is.
    return text if text and len(text) <= MAX_DISPLAY_NAME_CHARS else None


def _strip_route(spec: str) -> str:
    """Drop an obsolete source route ("@a,@b:x@y", RFC 5322 section 4.4)."""
    spec = spec.strip()
    if spec.startswith("@") and ":" in spec:
        spec = spec.rpartition(":")[2]
    if spec.startswith('"'):
        # '"john"@x.com' is john@x.com when the quotes hide nothing special.
        local, sep, domain = spec[1:].partition('"')
        if sep and domain.startswith("@") and re.fullmatch(r"[\w.+\-=]+", local):
            spec = local + domain
    return spec


def _read_mailbox(box: _Mailbox) -> Address | None:
    for index, token in enumerate(box.tokens):
        if token.kind == "angle":
            address = Address.of(_strip_route(token.text))
            if address is None:
                continue
            before = [t for t in box.tokens[:index] if t.kind in ("word", "quoted")]
            after = [t for t in box.tokens[index + 1 :] if t.kind in ("word", "quoted")]
            return _named(address, before or after, box)
    for index, token in enumerate(box.tokens):
        if token.kind == "word" and "@" in token.text:
            spec = token.text
            if spec.startswith("@") and index and box.tokens[index - 1].kind == "quoted":
                # '"john"@x.com': a quoted local part the scanner split off.
                spec = f'"{box.tokens[index - 1].text}"{spec}'
            address = Address.of(_strip_route(spec))
            if address is None:
                continue
            rest = [
                t
                for i, t in enumerate(box.tokens)
                if i != index and t.kind != "comment" and t.text not in spec
            ]
            return _named(address, rest, box)
    return None


def _named(address: Address, name_tokens: list[_Token], box: _Mailbox) -> Address:
    name = display_name_text(" ".join(t.text for t in name_tokens))
    if name is None:
        # Old style "x@y (Full Name)": the comment is the only name given.
        comments = [t.text for t in box.tokens if t.kind == "comment"]
        name = display_name_text(" ".join(comments))
    # ``address.email`` is normalized and ``name`` cleaned: no second Address.of.
    return Address(address.email, name, box.raw)


def _orphan_name(box: _Mailbox) -> str | None:
    """The "Last" of an unquoted "Last, First <x@y>", split off by its comma."""
    if len(box.tokens) > 3 or any(t.kind not in ("word", "quoted") for t in box.tokens):
        return None
    if any("@" in t.text for t in box.tokens):
        return None
    return " ".join(t.text for t in box.tokens)


def _has_angle_name(box: _Mailbox) -> bool:
    kinds = [t.kind for t in box.tokens]
    return "angle" in kinds and kinds.index("angle") > 0


def parse_address_list(
    raw: str, *, max_addresses: int = MAX_ADDRESSES, max_chars: int = MAX_HEADER_CHARS
) -> list[Address]:
    """Every usable mailbox of a header value, normalized, first occurrence kept."""
    if not raw:
        return []
    return list(_parsed(raw, max_addresses, max_chars))


# A mailbox sees the same few From/To values again and again (the owner, the
# people of each thread); values up to this long are remembered, longer ones
# (rare, and costly to keep) are parsed each time. Frozen Addresses: safe to share.
@remembered(maxsize=4096, chars=1024)
def _parsed(raw: str, max_addresses: int, max_chars: int) -> tuple[Address, ...]:
    # Garbage mailboxes cost as much as good ones; past a few per wanted
    # address the rest of the header is not worth reading.
    boxes = _mailboxes(raw[:max_chars], max_addresses * _BOXES_PER_ADDRESS)
    found: list[Address] = []
    seen: set[str] = set()
    orphan: str | None = None
    orphan_raw = ""
    for box in boxes:
        address = _read_mailbox(box)
        if address is None and "=?" in box.raw:
            # Some mailers encode the whole mailbox, address included.
            inner = _mailboxes(decode_encoded_words(box.raw), 2)
            address = _read_mailbox(inner[0]) if len(inner) == 1 else None
        if address is None:
            orphan, orphan_raw = _orphan_name(box), box.raw
            continue
        if orphan and address.name and _has_angle_name(box):
            raw = f"{orphan_raw}, {address.raw}"
            address = Address.of(address.email, f"{orphan}, {address.name}", raw)
        orphan = None
        if address is None or address.email in seen:
            continue
        seen.add(address.email)
        found.append(address)
        if len(found) >= max_addresses:
            break
    return tuple(found)
