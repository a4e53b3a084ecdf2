"""Inline reply and forward headers inside a body, and the people they name.

``find_headers`` reads the lines ``matcher.body.zones`` prepared (quote prefixes
already removed) and returns each header's line span, its kind and author.
Lexicons cover English, German, French, Spanish and Dutch clients.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress
from typing import Literal

from connectors.records import Address
from matcher.body.quote_intro import intro_at
from matcher.body.signature_lines import EMAIL
from matcher.plan import Role

# Whose text a zone holds. Defined here, below ``matcher.body.zones``, because a
# header found here already says which zone it opens; zones re-exports it.
ZoneKind = Literal["own", "reply", "forward"]
HeaderStyle = Literal["separator", "wrote", "fields"]

MAX_HEADER_LINE = 4000  # a To: line with many recipients is long; prose lines longer still
MAX_PEOPLE = 100
_LOOKAHEAD = 12  # lines between a separator and its field block (Lotus pads with blanks)
_LOOKBACK = 12  # lines between a Lotus author line and its "To:" line

# Outlook writes its reply header in the user's language: English, German,
# French, Spanish and Dutch, then Italian, Portuguese, Swedish, Danish and
# Norwegian, Finnish, Polish and Czech ("Da:/Inviato:/A:/Oggetto:", ...),
# Turkish, Russian and Hungarian, and Japanese, Chinese and Korean (whose
# colon may be the full-width "："). Brazilian Outlook dates with "Enviada em:".
_FROM_KEYS = ("from", "author", "von", "de", "van", "expéditeur", "remitente", "afzender",
              "da", "fra", "från", "lähettäjä", "od", "kimden", "от", "feladó",
              "差出人", "发件人", "寄件者", "보낸 사람")  # fmt: skip
_FIELD_KEYS: dict[str, str] = {
    **dict.fromkeys(_FROM_KEYS, "from"),
    **dict.fromkeys(("to", "an", "à", "a", "para", "aan", "destinataire",
                     "till", "til", "vastaanottaja", "do", "komu", "kime", "кому", "címzett",
                     "宛先", "收件人", "收件者", "받는 사람"), "to"),
    **dict.fromkeys(("cc", "kopie", "cc/bcc", "kopia", "kopi", "kopio", "dw", "bilgi", "копия",
                     "másolatot kap", "抄送", "副本", "참조"), "cc"),
    **dict.fromkeys(
        (
            "sent", "date", "datum", "gesendet", "envoyé", "enviado", "enviado el",
            "fecha", "verzonden", "verstuurd", "inviato", "enviada", "data", "skickat",
            "sendt", "lähetetty", "wysłano", "odesláno", "enviada em", "enviado em",
            "gönderildi", "tarih", "отправлено", "дата", "elküldve", "送信日時", "发送时间",
            "寄件日期", "보낸 날짜",
        ),
        "date",
    ),
    **dict.fromkeys(("subject", "betreff", "objet", "asunto", "onderwerp", "sujet", "oggetto",
                     "assunto", "ämne", "emne", "aihe", "temat", "předmět", "konu", "тема",
                     "tárgy", "件名", "主题", "主旨", "제목"), "subject"),
    **dict.fromkeys(
        ("bcc", "importance", "sensitivity", "reply-to", "priority", "sent by", "gesendet von"),
        "other",
    ),
}  # fmt: skip
_COLON = "[:\uff1a]"  # CJK headers may use the full-width colon
_FIELD = re.compile(
    r"\*{0,2}(" + "|".join(sorted(map(re.escape, _FIELD_KEYS), key=len, reverse=True)) + r")"
    r"\*{0,2}[ \t]*" + _COLON + r"[ \t]*(.*)",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(
    r"[\-_]{2,}[ \t]*(?:(?P<reply>original message|ursprüngliche nachricht|original-nachricht"
    r"|message d'origine|mensaje original|oorspronkelijk bericht|reply separator"
    r"|messaggio originale|mensagem original|ursprungligt meddelande|oprindelig meddelelse"
    r"|opprinnelig melding|alkuperäinen viesti|oryginalna wiadomość|původní zpráva"
    r"|orijinal ileti|исходное сообщение|eredeti üzenet|元のメッセージ|原始邮件|原始郵件)"
    r"|(?P<fwd>forwarded message|weitergeleitete nachricht|message transféré"
    r"|mensaje reenviado|doorgestuurd bericht|messaggio inoltrato|mensagem encaminhada"
    r"|vidarebefordrat meddelande|videresendt meddelelse|videresendt melding"
    r"|välitetty viesti|przekazana wiadomość|přeposlaná zpráva"
    r"|forwarded by\b.{0,200}))[ \t]*[\-_]*[ \t]*$"
    r"|(?P<apple>begin forwarded message|anfang der weitergeleiteten nachricht"
    r"|début du message réexpédié|inicio del mensaje reenviado|begin doorgestuurd bericht)"
    r"[ \t]*:[ \t]*$",
    re.IGNORECASE,
)
_RULE_TAIL = re.compile(r".{0,40}-{5,}[ \t]*$")  # the wrapped end of a Lotus separator
_OUTLOOK_RULE = re.compile(r"[_\-]{20,}[ \t]*$")
# "wrote:" in the five languages; Dutch Outlook says "heeft NAME het volgende geschreven:".
_WROTE = r"(?:wrote|writes|schrieb|a écrit|escribió|escribio|schreef|het volgende geschreven)"
_WROTE_END = re.compile(
    _WROTE + r"[ \t]*:[ \t]*$|\b(?:schrieb|schreef)\s[^:]{1,200}:[ \t]*$", re.IGNORECASE
)
_WROTE_START = re.compile(r"(?:on|am|le|el|op)\b", re.IGNORECASE)
_WROTE_VERB = re.compile(r"\s*" + _WROTE + r"[ \t]*:[ \t]*$", re.IGNORECASE)
_NAME_AFTER = re.compile(r"\b(?:schrieb|schreef|heeft)\s+(.*)$", re.IGNORECASE)
# The attribution's date ends at its last time, year or day-month token.
_WHEN = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2})?(?:\s*[AaPp]\.?[Mm]\.?)?(?:\s*\([^)]{0,40}\))?"
    r"|\b\d{4}\b|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b"
)
_DATE = re.compile(
    r"\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?(?:[ \t]*[AP]M)?",
    re.IGNORECASE,
)
# Lotus Notes can put a whole header on one line:
# "Brent Hendry@ACME 05/30/2001 05:02 PM   To: Ann Lee/HOU/ACME@ACME  cc:  Subject: RE: x"
_ONE_LINE_NOTES = re.compile(
    r"(.{2,80}?)\s+\d{1,2}/\d{1,2}/\d{2,4}\s+\d{1,2}:\d{2}(?:\s*[AP]M)?\s+To:\s.{0,2000}\sSubject:",
    re.IGNORECASE,
)
# Where ``_header_at`` could find a header: every form has a colon (fields, "wrote:",
# "Begin forwarded message:", one-line Lotus), begins with a rule ("-----Original
# Message-----", an Outlook rule) or with an attribution's first word ("On ...",
# wrapped before "wrote:"). A signature's "--" alone cannot start one.
_MAY_START = re.compile(
    r"[^:\uff1a]*" + _COLON + r"|\s*(?:[-_]{2,}[ \t]*[^\s\-_]|[-_]{20}|(?:on|am|le|el|op)\b)",
    re.IGNORECASE,
)
_ADDRESS_OPEN = re.compile(r"[<\[(]?[ \t]*(?:mailto:|smtp:)?[ \t]*$", re.IGNORECASE)
_ADDRESS_CLOSE = re.compile(r"^[ \t]*[>\])]?")
_SENT_BY = re.compile(r"sent by\s*:", re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"(?:fwd?|wg|tr|rv|doorst)\s*:", re.IGNORECASE)
_ON_DATE = re.compile(r"\s+on\s+\d.*$|\s+\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}.*$", re.IGNORECASE)
# Compiled once: these run for every attribution and inline-header person,
# and re's own cache lookup per call was a measurable share of that.
_BRACKETED = re.compile(r"\(?\s*[<\[][^<>\[\]]*[>\]]\s*\)?")
_TIME_PREPOSITION = re.compile(r"^[\s,]*(?:(?:at|um|à|a las|om)\b)?[\s,]*", re.IGNORECASE)
_FROM_LABEL = re.compile(
    r"^(?:" + "|".join(map(re.escape, _FROM_KEYS)) + r")\s*" + _COLON + r"\s*", re.IGNORECASE
)
_TRAILING_ON = re.compile(r"\s+on\s*$", re.IGNORECASE)
_ENCLOSED = re.compile(r"<<.*?>>|\[.*?\]|<.*?>|\(.*?\)")
_BRACKET_HALF = re.compile(r"[<>\[\]\"]")
_NOTES_PATH = re.compile(r"\s*(?:/[^/@<>]*)+(?:@\S*)?$|\s*@\s*[\w\-]+$")


@dataclass(frozen=True, slots=True)
class Header:
    first: int  # index of the header's first line
    last: int  # index of its last line
    kind: ZoneKind
    style: HeaderStyle
    author: Address | None
    author_name: str | None
    people: tuple[tuple[Role, Address], ...]


def find_headers(lines: Sequence[str], depths: Sequence[int], max_headers: int) -> list[Header]:
    """Non-overlapping headers in order, at most ``max_headers``, in lines without
    their quote prefixes (``depths`` gives each line's quote depth)."""
    found: list[Header] = []
    index, floor = 0, 0
    # Only the few lines that ``_MAY_START`` matches are tried: on every
    # other line ``_header_at`` returns None, and trying all of them was most
    # of the matcher's time. ``compress`` keeps the per-line test out of Python.
    for start in list(compress(range(len(lines)), map(_MAY_START.match, lines))):
        if start < index:
            continue
        if len(found) >= max_headers:
            break
        header = _header_at(lines, depths, start, floor)
        if isinstance(header, int):
            # A rejected field run: a start inside it sees a subset of its
            # fields and is rejected too, so skip it (keeps the scan linear).
            index = max(start + 1, header)
        elif header is not None:
            found.append(header)
            index = floor = header.last + 1
    return found


def _header_at(
    lines: Sequence[str], depths: Sequence[int], index: int, floor: int
) -> Header | int | None:
    """The header starting at ``index``; for a rejected field run, where it ends."""
    content = lines[index].strip()
    if not content or len(content) > MAX_HEADER_LINE:
        return None
    if len(content) < 300:
        sep = _SEPARATOR.fullmatch(content)
        if sep:
            return _after_separator(lines, index, sep.group("reply") is not None)
        wrote = _wrote_at(lines, depths, index)
        if wrote:
            return wrote
        intro = intro_at(lines, depths, index)
        if intro:
            last, quoted, quoted_name = intro
            return Header(index, last, "reply", "wrote", quoted, quoted_name, (("from", quoted),))
    one_line = _ONE_LINE_NOTES.match(content)
    if one_line:
        author, name = parse_person(one_line.group(1))
        return Header(index, index, "reply", "fields", author, name, _people([], author))
    if _FIELD.match(content) or _OUTLOOK_RULE.match(content):
        fields, last = _scan_fields(lines, index)
        return _block_header(lines, index, last, fields, floor) or last + 1
    return None


def _after_separator(lines: Sequence[str], index: int, reply: bool) -> Header:
    last = index
    content = lines[index].strip()
    wrapped = "forwarded by" in content.lower() and not content.endswith("---")
    if wrapped and index + 1 < len(lines) and _RULE_TAIL.fullmatch(lines[index + 1].strip()):
        last = index + 1
    kind: ZoneKind = "reply" if reply else "forward"
    preamble = 0  # Lotus author and date lines between the separator and "To:"
    for ahead in range(last + 1, min(len(lines), last + 1 + _LOOKAHEAD)):
        content = lines[ahead].strip()
        if not content:
            continue
        if _FIELD.match(content) or _OUTLOOK_RULE.match(content):
            block = _field_block(lines, ahead, last + 1)
            if block is not None:
                return Header(index, block.last, kind, "separator", block.author,
                              block.author_name, block.people)  # fmt: skip
        preamble += 1
        if preamble > 3:
            break
    return Header(index, last, kind, "separator", None, None, ())


def _wrote_at(lines: Sequence[str], depths: Sequence[int], index: int) -> Header | None:
    first = lines[index].strip()
    # ``_WROTE_END`` ends in ":" at the end of a stripped line: the cheap
    # endswith spares its search on the lines that cannot match.
    if not _WROTE_START.match(first) and not (first.endswith(":") and _WROTE_END.search(first)):
        return None
    joined = first
    for last in range(index, min(len(lines), index + 3)):
        if last > index:
            more = lines[last].strip()
            if not more:
                return None
            # A quoted attribution re-wrapped by a later reply: its tail
            # ("wrote:") carries that reply's quote depth, not its own.
            if depths[last] != depths[index] and not _WROTE_END.match(more):
                return None
            joined = f"{joined} {more}"
        attribution = _attribution(joined) if len(joined) < 400 and joined.endswith(":") else None
        if attribution is not None:
            author, name = attribution
            people: tuple[tuple[Role, Address], ...] = (("from", author),) if author else ()
            return Header(index, last, "reply", "wrote", author, name, people)
    return None


@functools.lru_cache(maxsize=4096)
def _attribution(joined: str) -> tuple[Address | None, str | None] | None:
    """Author of an attribution line ending in ":", None if it is not one.

    Cached: every later reply in a thread quotes the same attributions, and
    reading one takes a dozen regex passes."""
    return _wrote_author(joined) if _WROTE_END.search(joined) else None


def _wrote_author(line: str) -> tuple[Address | None, str | None]:
    """Author of "On DATE, NAME <addr> wrote:" and its translations."""
    email = EMAIL.search(line)
    rest = _WROTE_VERB.sub("", line)
    rest = _BRACKETED.sub(" ", rest)
    rest = EMAIL.sub(" ", rest)
    after = _NAME_AFTER.search(rest)
    if after:
        rest = after.group(1)
    else:
        ends = [when.end() for when in _WHEN.finditer(rest)]
        if ends:
            rest = rest[ends[-1] :]
    rest = _TIME_PREPOSITION.sub("", rest)
    name = _clean_name(rest)
    return (Address.of(email.group(0), name) if email else None), name


def _field_block(lines: Sequence[str], index: int, floor: int) -> Header | None:
    fields, last = _scan_fields(lines, index)
    return _block_header(lines, index, last, fields, floor)


def _scan_fields(lines: Sequence[str], index: int) -> tuple[list[tuple[str, str]], int]:
    """The run of header fields from ``index`` (wrapped values joined) and its last line."""
    fields: list[tuple[str, str]] = []
    last = index
    if _OUTLOOK_RULE.match(lines[index].strip()):
        index += 1
    blank_run = 0
    cursor = index
    while cursor < len(lines) and cursor - index < 60:
        content = lines[cursor].strip()
        field = _FIELD.match(content) if len(content) <= MAX_HEADER_LINE else None
        if field:
            fields.append((_FIELD_KEYS[field.group(1).lower()], field.group(2)))
            last, blank_run = cursor, 0
        elif not content:
            blank_run += 1
            if blank_run > 2:
                break
        elif fields and _continues(fields[-1], content) and blank_run == 0:
            key, value = fields[-1]
            fields[-1] = (key, f"{value} {content}")
            last = cursor
        else:
            break
        cursor += 1
    return fields, last


def _continues(field: tuple[str, str], content: str) -> bool:
    key, value = field
    if key not in ("to", "cc", "from"):
        return False
    # Wrapped address lists: the next line carries an address, or the value
    # so far ends in a list separator or leaves a bracket open.
    return (
        "@" in content
        or content.startswith(("[", "<", '"'))
        or value.rstrip().endswith((",", ";"))
        or content.endswith((",", ";"))
        or value.count("[") > value.count("]")
        or value.count("<") > value.count(">")
    )


def _block_header(
    lines: Sequence[str], first: int, last: int, fields: list[tuple[str, str]], floor: int
) -> Header | None:
    keys = {key for key, _ in fields}
    values = dict(reversed(fields))
    author: Address | None = None
    name: str | None = None
    if "from" in keys and keys & {"to", "date", "subject", "cc"}:
        author, name = parse_person(_ON_DATE.sub("", values["from"]))
    elif "to" in keys and keys & {"cc", "subject"}:
        lotus = _lotus_author(lines, first, floor)
        if lotus is not None:
            first, author, name = lotus
    else:
        return None
    kind: ZoneKind = (
        "forward" if _FORWARD_SUBJECT.match(values.get("subject", "").strip()) else "reply"
    )
    people = _people(fields, author)
    return Header(first, last, kind, "fields", author, name, people)


def _lotus_author(
    lines: Sequence[str], first: int, floor: int
) -> tuple[int, Address | None, str | None] | None:
    """Lotus Notes puts the author above "To:": "NAME <addr> on DATE" or NAME over DATE."""
    seen = 0
    for back in range(first - 1, max(floor, first - _LOOKBACK) - 1, -1):
        content = lines[back].strip()
        if not content:
            continue
        seen += 1
        if seen > 3:
            return None
        found = _lotus_author_line(lines, back)
        if found is None:
            continue
        if found:
            author, name = parse_person(found)
            return back, author, name
        # The date stands alone: the name is on the line above it.
        for above in range(back - 1, max(floor, back - 3) - 1, -1):
            above_text = lines[above].strip()
            # "Sent by:" names a delegate who sent for the author above it.
            if above_text and not _SENT_BY.match(above_text):
                author, name = parse_person(above_text)
                return above, author, name
        return None
    return None


def _lotus_author_line(lines: Sequence[str], index: int) -> str | None:
    """The author text of a Lotus date line ("" when only a date), else None."""
    content = lines[index].strip()
    if len(content) > 200:
        return None
    date = _DATE.search(content)
    if not date:
        return None
    head = _FROM_LABEL.sub("", content[: date.start()])
    return _TRAILING_ON.sub("", head.strip()).strip()


def parse_person(value: str) -> tuple[Address | None, str | None]:
    """Address and display name from an inline header value such as
    '"Doe, Jane" <jane@x.com>', 'Jane Doe [mailto:jane@x.com]' or
    'Jane Doe/HOU/ECT@ECT' (a Lotus Notes name: no usable address)."""
    value = value[:500]
    email = EMAIL.search(value)
    address_text = email.group(0) if email else ""
    rest = value
    if email:
        # Drop the address with its "<...>", "[mailto:...]" or "<SMTP:...>" wrapping.
        before = _ADDRESS_OPEN.sub("", value[: email.start()])
        rest = f"{before} {_ADDRESS_CLOSE.sub('', value[email.end() :])}"
    name = _clean_name(rest)
    address = Address.of(address_text, name) if address_text else None
    if address is None and email is None and "@" in value:
        name = _clean_name(value)
    return address, name


def _clean_name(text: str) -> str | None:
    text = _ENCLOSED.sub(" ", text)
    text = _BRACKET_HALF.sub(" ", text.replace(";", ","))  # halves of wrapped brackets
    text = _ON_DATE.sub("", text)
    text = _NOTES_PATH.sub("", text.strip())
    text = text.strip(" \t\"'*,;:")
    if "," in text:
        family, _, given = text.partition(",")
        if given.strip() and not any(ch.isdigit() for ch in text):
            text = f"{given.strip()} {family.strip()}"
    text = " ".join(text.split())
    if not text or len(text) > 80 or not any(ch.isalpha() for ch in text):
        return None
    return text


def _people(
    fields: list[tuple[str, str]], author: Address | None
) -> tuple[tuple[Role, Address], ...]:
    people: list[tuple[Role, Address]] = [("from", author)] if author else []
    for key, value in fields:
        if key not in ("to", "cc"):
            continue
        role: Role = "to" if key == "to" else "cc"
        separator = ";" if ";" in value else ","
        for chunk in value[:20000].split(separator):
            address, _ = parse_person(chunk)
            if address is not None and len(people) < MAX_PEOPLE:
                people.append((role, address))
    return tuple(people)
