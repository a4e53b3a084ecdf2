"""Contact fields from a signature block, each an ``Observation`` with a confidence.

Each line gives up its machine-shaped data first (addresses, links, phones
with the label words around them); what is left is read as a name, a job
title, a company or a postal address by lexicon and layout: a name usually
opens the block, a title follows the name, a company follows the title.
Phones are E.164 via ``phonenumbers``; the default region is the configured
one, else the author's country-code domain, else North America for a block
that writes a number in the North American plan's own shape.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

import phonenumbers

from connectors.records import Address, normalize_email
from matcher.body import signature_lines as sl
from matcher.body.signature_names import agrees, compact_name, folded
from matcher.classify import domain_within
from matcher.plan import Observation

# Country-code domains sold as generic names say nothing of a country.
_VANITY_TLDS = frozenset({"AI", "AM", "CC", "CO", "FM", "GG", "IO", "LY", "ME", "NU", "TV", "WS"})
# A number in the North American Numbering Plan's own shape: "(503) 464-3820",
# "713-853-3989", "713/853-3989". Area codes and exchanges start with 2-9,
# where other plans' national numbers start with a 0 trunk prefix ("(02)",
# "020 7946 0958"), so a .com sender's US number is not lost for want of a
# configured region.
_NANP = re.compile(r"(?<![\d+])(?:\([2-9]\d\d\) ?|[2-9]\d\d[-./])[2-9]\d\d[-.]\d{4}(?!\d)")
# An assistant signing for the author: "Patti (Sally's assistant)", "Executive
# Assistant to Sally Beck". Group "of" or "to" names whom they assist.
_NAME_WORDS = r"[A-Z][\w.\-]*(?:[ \t]+[A-Z][\w.\-]*){0,2}"
_ASSISTANT_FOR = re.compile(
    rf"(?P<of>{_NAME_WORDS})(?:'s|\u2019s|s')[ \t]+(?:[A-Za-z]+[ \t]+)?(?i:assistant|secretary)\b"
    rf"|(?i:assistant|secretary)[ \t]+(?i:to|for)[ \t]+(?P<to>{_NAME_WORDS})"
)
# "Assistant: Patti Thompson 713-853-5123": the line is the assistant's contact.
_ASSISTANT_LINE = re.compile(
    r"[ \t]*(?:(?:executive|personal)[ \t]+)?(?:assistant|asst\.?)[ \t]*:", re.I
)
_SEGMENT_SPLIT = re.compile(r"\s*[|•·]\s*|\t+|\s{3,}")
# Mobile labels in Italian, Portuguese, Polish and Finnish: both a label to
# strip from the line and a sign that its number is a mobile one.
_MORE_MOBILE = "cellulare|telemóvel|kom|komórka|matkapuhelin"
_LABEL_WORD = re.compile(
    r"\b(?:e-?mail(?:\s+address)?|mail|web|website|url|tel|tel\.|telephone|phone|ph|fax|fx"
    r"|facsimile|cell|cel|mobile|mob|office|direct|wireless|work|handy|mobil|telefon|t|f|m|p"
    rf"|celular|{_MORE_MOBILE}|puh"
    r"|o|d|c|e|w)\b\.?[ \t]*[:\-.]?",
    re.IGNORECASE,
)
_FAX = re.compile(r"\b(?:fax|facsimile|telefax|fx)\b|(?:^|[\s(])f\s*[:.)]", re.IGNORECASE)
_MOBILE = re.compile(
    r"\b(?:mobile|mob|cell|cellular|cel|wireless|handy|mobil|mobiel|portable|móvil|movil"
    rf"|celular|gsm|{_MORE_MOBILE})\b|(?:^|[\s(])(?:[mc]|port)\s*[:.)]",  # French "Port :"
    re.IGNORECASE,
)
_OFFICE = re.compile(
    r"\b(?:office|direct|dir|work|business|büro|buero|durchwahl|bureau|oficina|kantoor|werk)\b"
    r"|(?:^|[\s(])[odw]\s*[:.)]",
    re.IGNORECASE,
)
# Attachment placeholders ("<<file.doc>>", Notes' "<<...OLE_Obj...>>") and
# inline images as Outlook's plain text shows them ("[cid:image001.png@01DA...]",
# an RFC 2392 Content-ID, which looks like an address) and Gmail's ("[image: Logo]").
_PLACEHOLDER = re.compile(r"<<[^<>]{0,200}>>|\[?\bcid:[^\s\]]{1,200}\]?|\[image:[^\]]{0,200}\]")
_SPLIT_TITLE = re.compile(r"\s*,\s*|\s+(?:at|bei|chez|en|bij|@)\s+", re.IGNORECASE)
_AT_EMPLOYER = re.compile(r"^[^,]*?\s(?:at|bei|chez|en|bij|@)\s", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SignatureBlock:
    """A signature: its text, input offsets ``[start, end)``, and confidence 0..1."""

    text: str
    start: int
    end: int
    confidence: float
    author_name: str | None = None  # the zone author's display name, to recognise their name line


@dataclass(slots=True)
class _Reading:
    """What has been read from the block so far (layout rules depend on it)."""

    known: frozenset[str]
    author: Address | None
    found: list[Observation] = field(default_factory=list)
    address: list[str] = field(default_factory=list)
    last: str = ""  # the kind of the previous text line: "name", "title", ...
    # A title whose tail may be its employer ("Senior Counsel, ENA"): it is
    # only when no other line of the block names one, known at the end.
    pending: tuple[str, str, str] | None = None  # (title line, title without tail, tail)

    def add(self, name: str, value: str, confidence: float) -> None:
        value = " ".join(value.split()).strip(" ,;:-")
        if value and not any(o.field == name and o.value == value for o in self.found):
            self.found.append(Observation(name, value, round(confidence, 2)))

    def has(self, name: str) -> bool:
        return any(o.field == name for o in self.found)

    def settle_title(self) -> None:
        """The pending tail is the employer when no other line named one."""
        if self.pending is None or self.has("company"):
            return
        line, head, tail = self.pending
        value = " ".join(line.split()).strip(" ,;:-")
        for index, found in enumerate(self.found):
            if (found.field, found.value) == ("title", value):
                self.found[index] = Observation("title", head, found.confidence)
                self.found.insert(index + 1, Observation("company", tail, 0.6))
                return

    def flush_address(self) -> None:
        if self.address:
            self.add("address", ", ".join(self.address), 0.7 if len(self.address) > 1 else 0.5)
            self.address = []


def region_of(author: Address | None) -> str | None:
    """The phone region of the author's country-code domain ("GB" for .uk), if any."""
    if author is None:
        return None
    tld = author.domain.rpartition(".")[2].upper()
    tld = "GB" if tld == "UK" else tld
    supported = phonenumbers.SUPPORTED_REGIONS
    return tld if tld in supported and tld not in _VANITY_TLDS else None


def signature_fields(
    block: SignatureBlock,
    author: Address | None,
    default_region: str | None,
    recipients: frozenset[str] = frozenset(),
) -> tuple[Observation, ...]:
    """The fields of ``block`` attributed to ``author``.

    ``recipients``: compact names of whom the text is addressed to
    (``signature_names.addressed_names``); a line that is only one of them
    ("Sam Reed,") greets the reader and is no part of the signature.
    """
    if recipients:
        # Only those the block names, so the reading stays cached per block;
        # never the author, who may be among the addressees.
        text = compact_name(block.text)
        own = {compact_name(n) for n in (block.author_name, author and author.name) if n}
        recipients = frozenset(r for r in recipients if r in text and r not in own)
    return _fields_of(block.text, block.author_name, author, default_region, recipients)


# People sign every message with the same block: a thread repeats it in each
# reply. Reading it once per (text, author) halves the extractor's cost on
# real mailboxes; the result is a pure function of these arguments.
@functools.lru_cache(maxsize=4096)
def _fields_of(
    text: str,
    author_name: str | None,
    author: Address | None,
    default_region: str | None,
    recipients: frozenset[str] = frozenset(),
) -> tuple[Observation, ...]:
    if _assistant_of_author(text, author, author_name):
        # Signed by the author's assistant: the title and phones are the assistant's.
        return ()
    region = default_region or region_of(author) or ("US" if _NANP.search(text) else None)
    reading = _Reading(sl.name_tokens(author, author_name), author)
    for position, line in enumerate(_unwrapped(text.split("\n"), recipients)):
        if not line or sl.RULE.fullmatch(line) or sl.DELIMITER.fullmatch(line):
            continue
        if _ASSISTANT_LINE.match(line):
            continue
        if sl.is_legal_particular(line):
            break  # the company's legal particulars close a block: none of it is the author's
        if not (sl.is_address(line) or sl.is_country(line)):
            reading.flush_address()  # keep observations in reading order
        bare = sl.PRONOUNS.sub(" ", _PLACEHOLDER.sub(" ", line[: sl.MAX_LINE]))
        rest = _take_emails(bare, reading)
        rest = _take_links(rest, reading)
        rest = _take_phones(rest, region, reading)
        if rest != bare:
            rest = _LABEL_WORD.sub(" ", rest)
            reading.last = "contact"  # a contact line ends a run of organisation lines
        for segment in _SEGMENT_SPLIT.split(rest):
            _read_segment(segment.strip(" \t,;:-()"), position, reading)
    reading.flush_address()
    reading.settle_title()
    strangers = {
        o.value
        for o in reading.found
        if o.field == "name" and not agrees(o.value, author, author_name)
    }
    theirs = [o for o in reading.found if o.field != "name" or o.value not in strangers]
    if any(_a_persons_block(name, theirs) for name in strangers):
        # Signed by someone else (an assistant sending for the author, a
        # colleague's block pasted in): its title and phones are theirs too.
        return ()
    # Without a title or an address of its own, the "name" may be the
    # company a footer opens with ("Blue Harbor Logistics"): only it goes.
    return tuple(theirs)


def _assistant_of_author(text: str, author: Address | None, author_name: str | None) -> bool:
    if "ssistant" not in text and "ecretary" not in text:
        return False
    return any(
        agrees(found.group("of") or found.group("to"), author, author_name)
        for found in _ASSISTANT_FOR.finditer(text)
    )


def _a_persons_block(name: str, found: list[Observation]) -> bool:
    """``name``'s own block: it has a job title, or an address of theirs ("judy.paul@")."""
    words = [w for w in folded(name).split() if len(w) > 2]
    return any(
        o.field == "title"
        or (o.field == "email" and any(w in o.value.partition("@")[0] for w in words))
        for o in found
    )


# Exchange encapsulates foreign addresses as "IMCEANOTES-+22Name+20...@domain"
# (RFC 2047-like "+XX" escapes); such an address reaches no person.
_ENCAPSULATED = re.compile(r"^imcea|(?:\+[0-9a-f]{2}.*){2}", re.IGNORECASE)


_AREA_CODE_END = re.compile(r"(?:\(\d{2,5}\)|\+\d{1,3})[ \t]*$")


def _unwrapped(lines: list[str], recipients: frozenset[str] = frozenset()) -> list[str]:
    """Stripped lines, a number split after its area code ("Tel: (713)" over
    "853-3849") joined again; lines that only name a recipient, and the blank
    lines at the top, left out."""
    joined: list[str] = []
    for line in lines:
        line = line.strip()
        if (not line and not joined) or (recipients and compact_name(line) in recipients):
            continue
        if joined and line[:1].isdigit() and _AREA_CODE_END.search(joined[-1]):
            joined[-1] = f"{joined[-1]} {line}"
            continue
        joined.append(line)
    return joined


def _take_emails(line: str, reading: _Reading) -> str:
    for match in sl.EMAIL.finditer(line):
        email = normalize_email(match.group(0))
        if email and not _ENCAPSULATED.search(email.partition("@")[0]):
            own = reading.author is not None and email == reading.author.email
            reading.add("email", email, 0.95 if own else 0.7)
    return sl.EMAIL.sub(" ", line)


def _take_links(line: str, reading: _Reading) -> str:
    for match in sl.URL.finditer(line):
        url = match.group(0).rstrip(".,;:!?")
        kind, value = _link(url)
        if kind != "website" or not _elsewhere(value, reading.author):
            reading.add(kind, value, 0.9 if kind != "website" else 0.7)
    return sl.URL.sub(" ", line)


# Links to another service's pages: a booking page, a video call, a shortened
# or app-store link, a social profile the contact has no field for. None of
# them is the company's web site.
_ELSEWHERE = frozenset(
    {
        "calendly.com", "cal.com", "hubspot.com", "zoom.us", "teams.microsoft.com", "aka.ms",
        "bit.ly", "goo.gl", "t.co", "tinyurl.com", "linktr.ee", "youtube.com", "youtu.be",
        "facebook.com", "instagram.com", "tiktok.com", "apps.apple.com", "play.google.com",
        "google.com", "office.com", "outlook.com", "microsoft.com", "docusign.net",
    }
)  # fmt: skip


def _elsewhere(url: str, author: Address | None) -> bool:
    """A link to another service's page, unless the author works there."""
    host = _host(url)
    elsewhere = domain_within(host, _ELSEWHERE)
    return elsewhere and not (author and domain_within(author.domain, frozenset({host})))


def _host(url: str) -> str:
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    return bare.partition("/")[0].partition(":")[0].lower()


def _link(url: str) -> tuple[str, str]:
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", url, flags=re.IGNORECASE)
    path = bare.partition("/")[2]
    host = _host(url)
    handle = path.strip("/").split("/")[0] if path else ""
    if host.endswith("linkedin.com") and path:
        return "linkedin", f"https://www.linkedin.com/{path.strip('/')}"
    if host in ("twitter.com", "x.com") and handle:
        return "x", f"https://x.com/{handle.lstrip('@')}"
    if host == "github.com" and handle:
        return "github", f"https://github.com/{handle}"
    return "website", url if url.lower().startswith("http") else f"https://{url}"


def _take_phones(line: str, region: str | None, reading: _Reading) -> str:
    if not sl.has_phone(line):
        return line
    matches = list(
        phonenumbers.PhoneNumberMatcher(line, region, leniency=phonenumbers.Leniency.POSSIBLE)
    )
    if not matches:
        return line
    kept: list[str] = []
    cursor = 0
    for index, match in enumerate(matches):
        before = line[cursor : match.start]
        following = matches[index + 1].start if index + 1 < len(matches) else len(line)
        after = line[match.end : following][:24]
        label = _phone_label(before, after)
        value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        valid = phonenumbers.is_valid_number(match.number)
        confidence = (0.9 if label != "phone" else 0.8) if valid else 0.5
        reading.add(label, value, confidence)
        kept.append(_without_labels(before))
        cursor = match.end
    kept.append(_without_labels(line[cursor:]))
    return "   ".join(kept)


_LONE_LETTER = re.compile(r"(?:^|[\s|,;/])\(?([A-Za-z])\)?[\s:.]*$")
_LETTER_LABEL = {
    "f": "phone:fax", "m": "phone:mobile", "c": "phone:mobile", "o": "phone:office",
    "d": "phone:office", "w": "phone:office", "t": "phone", "p": "phone",
}  # fmt: skip


def _phone_label(before: str, after: str) -> str:
    # "T +44 ..., F +44 ...": a lone letter right before the number labels it.
    lone = _LONE_LETTER.search(before[-8:])
    if lone and lone.group(1).lower() in _LETTER_LABEL:
        return _LETTER_LABEL[lone.group(1).lower()]
    # The nearest label wins: "Tel: 1 Fax: 2" labels 2 by the word before it.
    for text in (before[-40:], after):
        if _FAX.search(text):
            return "phone:fax"
        if _MOBILE.search(text):
            return "phone:mobile"
        if _OFFICE.search(text):
            return "phone:office"
        if sl.words(text):
            break
    return "phone"


def _without_labels(text: str) -> str:
    return _LABEL_WORD.sub(" ", text)


def _read_segment(segment: str, position: int, reading: _Reading) -> None:
    if not segment or not any(ch.isalpha() for ch in segment) or sl.is_contact_label(segment):
        return
    if sl.is_address(segment) or (reading.address and (sl.is_country(segment))):
        reading.address.append(_without_firm(segment, reading))
        reading.last = "address"
        return
    reading.flush_address()
    kind = _segment_kind(segment, position, reading)
    if kind:
        reading.last = kind


def _without_firm(segment: str, reading: _Reading) -> str:
    """An address line without the firm it opens with ("Brightline Logistics
    Ltd, 12 Harbour Street, London EC2A 4NE"): the company is a field of its own."""
    firm, comma, rest = segment.partition(",")
    if not comma or not rest.strip() or not sl.has_legal_form(firm):
        return segment
    if not reading.has("company"):
        reading.add("company", firm, 0.8)
    return rest.strip()


def _segment_kind(segment: str, position: int, reading: _Reading) -> str:
    name = sl.person_name(segment, reading.known)
    if name and name[1] <= 0.5 and sl.is_company(segment, reading.author):
        name = None  # "Northwind Health" of northwind-health.com: their employer
    # A first name alone ("Thanks,\nMark") is a sign-off: as the name field it
    # would shorten "Mark Greenberg" to "Mark", so it only marks the layout.
    whole = name is not None and len(name[0].split()) > 1
    if name and whole and (name[1] > 0.5 or position <= 1) and _better_name(name, reading):
        reading.found = [o for o in reading.found if o.field != "name"]
        reading.add("name", name[0], name[1])
        return "name"
    if name and name[1] > 0.5:
        return "name"  # the author's name again (a sign-off over the signature)
    # A function word ("Logistics", "Support") can also end a company's name:
    # the author's domain or a legal form decides for the company.
    if sl.is_job_title(segment) or (
        sl.is_department(segment) and not sl.is_company(segment, reading.author)
    ):
        _add_title(segment, reading)
        return "title"
    if reading.last == "company" and _looks_like_org(segment) and not _company_complete(reading):
        # One organisation over two lines: "Saudi Arabia Gas Resources" over
        # "ExxonMobil Exploration", a division over its company.
        _extend_company(reading, segment)
        return "company"
    if sl.is_company(segment, reading.author) and not reading.has("company"):
        reading.add("company", segment, 0.8)
        return "company"
    if sl.has_legal_form(segment) and _company_without_legal_form(reading):
        # "DYNEGYdirect e- care" over "Dynegy, Inc.": the legal entity is the employer.
        reading.found = [o for o in reading.found if o.field != "company"]
        reading.add("company", segment, 0.8)
        return "company"
    if (
        reading.last in ("title", "name")
        and not reading.has("company")
        and _looks_like_org(segment)
    ):
        # Layout: the line under a job title (or a name) names the employer.
        reading.add("company", segment, 0.5 if reading.last == "title" else 0.4)
        return "company"
    return ""


def _company_without_legal_form(reading: _Reading) -> bool:
    company = [o.value for o in reading.found if o.field == "company"]
    return len(company) == 1 and not sl.has_legal_form(company[0])


def _company_complete(reading: _Reading) -> bool:
    """The company read so far ends in a legal form ("Merita Bank Plc"): the line
    under it is a unit or a title, not more of the company's name."""
    company = [o.value for o in reading.found if o.field == "company"]
    return bool(company) and sl.has_legal_form(company[-1])


def _extend_company(reading: _Reading, segment: str) -> None:
    index = max(i for i, o in enumerate(reading.found) if o.field == "company")
    current = reading.found[index]
    value = f"{current.value}, {' '.join(segment.split())}"
    reading.found[index] = Observation("company", value, min(current.confidence, 0.6))


def _better_name(name: tuple[str, float], reading: _Reading) -> bool:
    """A first name alone ("Dana") gives way to the full name under it ("Dana Perino"),
    and any name to one that matches the author better."""
    current = next((o for o in reading.found if o.field == "name"), None)
    if current is None or name[1] > current.confidence:
        return True  # the author's own name beats a line that merely looks like one
    return name[1] >= current.confidence and len(name[0].split()) > len(current.value.split())


def _add_title(segment: str, reading: _Reading) -> None:
    head, tail, employer = _title_parts(segment, reading.author)
    if tail is not None and employer:
        reading.add("title", head, 0.8)
        reading.add("company", tail, 0.6)
        return
    reading.add("title", segment, 0.8)
    if tail is not None and not reading.has("company") and reading.pending is None:
        reading.pending = (segment, head, tail)


_FUNCTIONS = re.compile(r"\s+(?:&|and|und|et|y|en)\s+|\s*,\s*")


def _title_parts(segment: str, author: Address | None) -> tuple[str, str | None, bool]:
    """``segment`` as (title, tail, whether the tail surely is the employer).

    The tail is the employer on a legal form or the author's domain; a team
    ("Engineering Manager, Platform", "Director of Clinical IT") narrows the
    title instead; any other tail is the employer only when no other line
    names one, which the block's end tells (``_Reading.settle_title``).
    """
    head, tail = _title_tail(segment, author)
    if tail is None:
        return segment, None, False
    at = _AT_EMPLOYER.search(segment) is not None
    if not at and all(sl.is_unit(part) for part in _FUNCTIONS.split(tail)):
        return segment, None, False  # "Head of Growth & Partnerships": functions, no firm
    if sl.is_company(tail, author):
        return head, tail, True
    # "Engineer at Data Dynamics": after "at" even a team-like name is the employer.
    if sl.is_title(tail) or (sl.is_unit(tail) and not at):
        return segment, None, False
    return head, tail, False


def _title_tail(segment: str, author: Address | None) -> tuple[str, str | None]:
    parts = _SPLIT_TITLE.split(segment, maxsplit=1)
    if len(parts) == 2 and sl.is_title(parts[0]) and parts[1].strip()[:1].isupper():
        return parts[0], parts[1].strip()
    # "Managing Director of ACME" may name the employer, but "Professor of
    # Economics" does not: after "of" only a company or an acronym can.
    title, of, tail = segment.partition(" of ")
    named = sl.is_company(tail, author) or any(len(t) > 1 and t.isupper() for t in tail.split())
    if of and named and sl.is_title(title):
        return title, tail.strip()
    return segment, None


def _looks_like_org(segment: str) -> bool:
    tokens = segment.split()
    if any(any(ch.isdigit() for ch in t) for t in tokens) or not sl.words(segment):
        return False
    return 0 < len(tokens) <= 6 and all(t[:1].isupper() or not t[:1].isalpha() for t in tokens)
