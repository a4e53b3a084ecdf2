"""What one line of a signature is: a phone, a title, a company, an address...

The lexicons live in ``matcher/data`` (titles, company legal forms, closing
phrases and client footers in EN/DE/FR/ES/NL) and are read once through
``importlib.resources``. Classification is by general layout and lexicon
rules, never by patterns of particular senders, so it carries over to mail
it was not developed on.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

from connectors.records import Address

MAX_LINE = 200  # longer lines are prose or data, never a signature line
# The tests ``find_signature`` asks most (prose, closing, footer) are pure
# functions of the line, cached by its text (at most MAX_LINE characters, so
# the caches stay small): it asks them of a line from several places, a
# sender's block ends each of their messages and a thread quotes earlier ones.
LINE_CACHE = 16384

# Digits in paths, file names and ids ("...\\2001122515.txt", "#1511099") are not phones.
PHONE_LIKE = re.compile(r"(?<![\w/\\.#])(?:\+|\()?\d[\d \t().\-/]{5,20}\d(?!\w|\.\w)")
_DATE_LIKE = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}")
# "Label: value" lines whose label is contact data belong in signatures;
# other labels ("Request ID:", "Pass Code:", "Governing Law:") are forms.
_FORM_LINE = re.compile(r"([^\W\d][\w #./&'\-]{0,30}?)[ \t]*:[ \t]*(\S.*)?$")
EMAIL = re.compile(r"[\w.+'\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,8}")
URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\"']{2,200}"
    r"|\b(?:linkedin\.com|twitter\.com|x\.com|github\.com)/[^\s<>()\"']{1,100}",
    re.IGNORECASE,
)
DELIMITER = re.compile(r"(?:--|—|–|__)[ \t]*")
RULE = re.compile(r"[\-_=*~#+.]{4,}[ \t]*")
_WORD = re.compile(r"[^\W\d_][\w'’.\-&]*", re.UNICODE)
_STREET = re.compile(
    r"^\d{1,5}[a-z]?,?\s+(?:[\w.'\-]+\s+){0,5}?(?:street|st|avenue|ave|road|rd|boulevard|blvd"
    r"|drive|dr|lane|ln|way|place|pl|parkway|pkwy|court|ct|square|sq|plaza|highway|hwy"
    r"|rue|chemin|calle|avenida|paseo|via)\b"
    r"|^[\w\-äöüß]{2,40}(?:straße|strasse|str\.|weg|platz|allee|gasse|damm|ring|straat|laan"
    r"|plein|gracht|kade|katu|vej|gatan)\s+\d{1,4}"
    r"|^(?:rue|avenue|boulevard|calle|avenida|avda\.?|c/|plaza|paseo|via|place)\s*.{2,40}\d"
    r"|\b(?:p\.?\s?o\.?\s+box|postfach|apartado|postbus)\b"
    r"|^(?:suite|ste\.?|floor|room|building|bldg\.?)\s+\w+|\b\d+(?:st|nd|rd|th)\s+floor\b"
    r"|^level\s+\d{1,3}\b",  # Australian and NZ office floors: "Level 5, 100 George Street"
    re.IGNORECASE,
)
_CITY = re.compile(
    r"^[^\W\d][\w .'\-]{1,40},?\s+[A-Za-z .]{2,20}\.?,?\s+\d{5}(?:-\d{4})?$"
    r"|^(?:[A-Z]{1,3}-)?\d{4,5}\s+[^\W\d][\w .'\-]{1,40}$"
    r"|^\d{4}\s?[A-Z]{2}\s+[^\W\d][\w .'\-]{1,40}$"
    r"|\b[A-Z]{1,2}\d[A-Z\d]?\s+\d[A-Z]{2}\b"
    # Australia: a state and a four-digit postcode ("Sydney NSW 2000")
    r"|\b(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{4}$",
)
_COUNTRY = re.compile(
    r"(?:usa|u\.s\.a\.|united states|united kingdom|uk|germany|deutschland|france|spain"
    r"|españa|espana|netherlands|the netherlands|nederland|belgium|belgië|belgique"
    r"|switzerland|schweiz|suisse|austria|österreich|canada|mexico|méxico|finland)\.?",
    re.IGNORECASE,
)
_CREDENTIAL = re.compile(
    r",\s*(?:[A-Z][A-Za-z.]{1,6}|ph\.?d\.?|mba|cpa|esq\.?)(?:,\s*[A-Z.]{2,6})*\s*$"
)
# Pronouns people add to their name: "Priya Raman (she/her)", "Pronouns: they/them".
PRONOUNS = re.compile(
    r"[(\[]?\s*(?:pronouns?\s*:\s*)?\b(?:she|he|they|ze|xe)\s*/\s*(?:her|him|them|hir|xem)"
    r"(?:\s*/\s*(?:hers|his|theirs|hirs|xyrs))?\b\s*[)\]]?",
    re.IGNORECASE,
)

# Words that mark a name as an organisation, team or relay, not a person: in a
# display name (``matcher.names``) and on a signature's name line alike.
NOT_A_PERSON = frozenset(
    {
        "team",
        "support",
        "sales",
        "service",
        "services",
        "customer",
        "customers",
        "department",
        "dept",
        "office",
        "group",
        "inc",
        "inc.",
        "ltd",
        "ltd.",
        "llc",
        "gmbh",
        "corp",
        "corp.",
        "company",
        "via",
        "noreply",
        "no-reply",
        "newsletter",
        "announcements",
        "notifications",
        "admin",
        "helpdesk",
        "info",
    }
)


@cache
def _lexicon(name: str) -> tuple[str, ...]:
    text = resources.files("matcher").joinpath("data", name).read_text(encoding="utf-8")
    return tuple(
        line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


@cache
def _title_words() -> frozenset[str]:
    return frozenset(w for w in _lexicon("signature_titles.txt") if not w.startswith("*"))


@cache
def _title_endings() -> tuple[str, ...]:
    """Ends of compound titles (German, Nordic, Finnish write them as one word)."""
    return tuple(w[1:] for w in _lexicon("signature_titles.txt") if w.startswith("*"))


def _compound_title(token: str) -> bool:
    # Three letters at least before the ending: "Vertriebsleiter", not "chef".
    endings = _title_endings()
    return token.endswith(endings) and any(
        token.endswith(e) and len(token) >= len(e) + 3 for e in endings
    )


@cache
def _company_words() -> frozenset[str]:
    return frozenset(_lexicon("company_suffixes.txt"))


@cache
def _title_or_company_words() -> frozenset[str]:
    return _title_words() | _company_words()


@cache
def _closing() -> re.Pattern[str]:
    phrases = sorted(_lexicon("signature_closings.txt"), key=len, reverse=True)
    return re.compile(
        r"(?:" + "|".join(map(re.escape, phrases)) + r")\b[ \t]*[,.!:;\-]*", re.IGNORECASE
    )


@cache
def _footer() -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in _lexicon("signature_footers.txt")), re.I)


@cache
def _freemail_labels() -> frozenset[str]:
    # The matcher's free-mail list: a Yahoo address says nothing of a company.
    try:
        entries = _lexicon("freemail.txt")
    except (FileNotFoundError, OSError):
        return frozenset()
    return frozenset(entry.split(".")[0] for entry in entries)


def words(line: str) -> list[str]:
    return _WORD.findall(line[:MAX_LINE])


def is_footer(line: str) -> bool:
    return _is_footer(line.strip()[:MAX_LINE])


@lru_cache(maxsize=LINE_CACHE)
def _is_footer(line: str) -> bool:
    return bool(_footer().match(line))


_SALUTATION_WORDS = 6  # "Good morning Mr. and Mrs. Reed," at most


def is_salutation(line: str) -> bool:
    """``line`` greets the reader: "Hi Sam,", "Dear Mr. Reed,", "Bonjour Sam".

    It names the recipient, never the author, and opens the author's text
    rather than a signature.
    """
    tokens = line.strip().split()
    if not tokens or len(tokens) > _SALUTATION_WORDS:
        return False
    return tokens[0].strip(",.!:;").lower() in _lexicon_set("signature_greetings.txt")


def closing_rest(line: str) -> str | None:
    """The text after a closing phrase that starts ``line`` ("" if none), else None."""
    stripped = line.strip()
    return _closing_rest(stripped) if len(stripped) <= MAX_LINE else _closing_rest_of(stripped)


def _closing_rest_of(stripped: str) -> str | None:
    match = _closing().match(stripped[:MAX_LINE])
    if not match:
        return None
    rest = stripped[match.end() :].strip()
    if rest and len(rest.split()) > 3:
        return None  # "Thanks for the update" is prose, not a closing
    return rest


_closing_rest = lru_cache(maxsize=LINE_CACHE)(_closing_rest_of)


def digit_count(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


# A company's registration, which UK and EU law require on business mail: a
# signature line, and its numbers are no phone. The UK's Companies Act
# (registered number and office, VAT number), Germany's and Austria's
# commercial codes (court, register number, seat, VAT id), France's
# RCS/SIREN and share capital, the Dutch KvK and BTW, Italy's Partita IVA,
# Spain's CIF/NIF and Australia's ABN/ACN.
_REGISTRATION = re.compile(
    r"\b(?:registered\s+(?:in|office|address|number|no)|company\s+(?:reg|no|number|registration)"
    r"|reg(?:istration)?\.?\s+no|vat\s+(?:no|number|reg)|ust\.?-?id\w*|handelsregister|amtsgericht"
    r"|registergericht|hr[ab]\s?\d|sitz\s+der\s+gesellschaft|steuernummer|firmenbuch\w*"
    r"|handelsgericht|rcs\s+[^\W\d]+\s+(?:[ab]\s+)?\d|sire[nt]\s*:?\s*\d|au\s+capital\s+(?:social\s+)?de"
    r"|kvk|kamer\s+van\s+koophandel|btw[\s-]*(?:nr|nummer|no|id)|companies\s+house"
    r"|p\.\s?iva|partita\s+iva|codice\s+fiscale|registro\s+mercantil|[nc]\.?i\.?f\.?\s*:"
    r"|a[bc]n\s*:?\s*\d)",
    re.IGNORECASE,
)
# Who runs the company, as the same laws make it list them: "Geschäftsführer:
# Dr. Peter Hansen", "Vorstand: ...". Those are other people's titles.
_OFFICERS = re.compile(
    r"(?:geschäftsführ\w*|vorstand\w*|vorsitz\w*|aufsichtsrat\w*|prokurist\w*|inhaber\w*"
    r"|managing\s+directors?|board\s+of\s+directors|directors|gérants?)\s*:",
    re.IGNORECASE,
)


# A conference call's dial-in: "800.713.8600 code: 80435", "Passcode 4411#",
# "Meeting ID: 845 1234 5678". The number reaches a bridge, not the author.
_DIAL_IN = re.compile(
    r"\b(?:(?:pass|participant|access|conference|host|guest|leader)\s*code"
    r"|(?<!post\s)(?<!zip\s)(?<!area\s)code\s*[:#]"
    r"|(?:conference|meeting|webinar)\s+id|pin\s*[:#]|dial[\s-]?in)",
    re.IGNORECASE,
)


def is_registration(line: str) -> bool:
    return _REGISTRATION.search(line[:MAX_LINE]) is not None


def is_legal_particular(line: str) -> bool:
    """A line of the company's legal particulars: its registration or its officers."""
    return is_registration(line) or _OFFICERS.match(line.strip()) is not None


def has_phone(line: str) -> bool:
    text = line[:MAX_LINE]
    if is_registration(text) or _DIAL_IN.search(text):
        return False
    if "/" in text or "www." in text:
        text = URL.sub(" ", text)  # a request id in a link's query is no phone
    return any(
        digit_count(m.group(0)) >= 7 and not _DATE_LIKE.search(m.group(0))
        for m in PHONE_LIKE.finditer(text)
    )


# "[2] https://..." and links with a query or a deep path point to a page
# (a reference list, a ticket, a video), not to a person or their company.
_FOOTNOTE = re.compile(r"\s*\[\d{1,3}\]")
_DEEP_PATH = re.compile(r"(?:[^/?#\s]+/){3,}[^/?#\s]|\?\S")


def has_home_link(line: str) -> bool:
    """A link to someone's site or profile: a signature's kind of link."""
    if _FOOTNOTE.match(line):
        return False
    for match in URL.finditer(line[:MAX_LINE]):
        target = match.group(0).split("://", 1)[-1]
        if not _DEEP_PATH.search(target):
            return True
    return False


def is_contact_label(text: str) -> bool:
    """``text`` is only a label such as "Tel:" (its number wrapped to the next line)."""
    return text.strip(" :.-").lower() in _lexicon_set("contact_labels.txt")


def is_form_line(line: str) -> bool:
    """A "Label: value" line whose label is not contact data (forms, logs, headers)."""
    stripped = line.strip()[:MAX_LINE]
    match = _FORM_LINE.match(stripped)
    if not match or (match.group(2) or "").startswith("//") or is_legal_particular(stripped):
        return False  # "see https://..." has its colon after a word too
    label = " ".join(match.group(1).lower().split())
    contact = frozenset(_lexicon("contact_labels.txt"))
    # "Telephone No.", "Email Address", "Facsimile Transmission No." are contact labels too.
    named = {label} | {w.strip(".#") for w in label.replace("-", " ").split()}
    return not named & contact and not label.endswith(("phone", "fax", "mail"))


def is_title(line: str) -> bool:
    """A job title ("Senior Counsel") or a function standing for one ("Trading Support")."""
    return is_job_title(line) or is_department(line)


def is_job_title(line: str) -> bool:
    tokens = [w.lower().strip(".") for w in words(line)]
    if not tokens or len(tokens) > 9 or "@" in line:
        return False
    titled = any(t in _title_words() or _compound_title(t) for t in tokens)
    return titled or line.strip().lower().startswith(("vice president", "head of", "assistant to"))


def is_department(line: str) -> bool:
    """A short capitalised line naming a function: "Government Affairs"."""
    raw = line.split()
    tokens = [w.lower().strip(".,") for w in words(line)]
    if not 1 <= len(raw) <= 5 or any(ch.isdigit() for ch in line) or not line.strip()[:1].isupper():
        return False
    if any(t in _company_words() for t in tokens):
        return False
    return tokens[-1] in _lexicon_set("signature_departments.txt")


def is_unit(text: str) -> bool:
    """A team, department or sales region that narrows a title: "Platform",
    "Sales EMEA", "Clinical IT". Its first or last word decides, as a unit
    is named "<function> <qualifier>" or "<qualifier> <function>"."""
    tokens = [w.lower().strip(".,") for w in words(text)]
    if not tokens or len(tokens) > 5:
        return False
    return tokens[0] in _units() or tokens[-1] in _units()


@cache
def _units() -> frozenset[str]:
    return _lexicon_set("signature_departments.txt") | _lexicon_set("signature_areas.txt")


@cache
def _lexicon_set(name: str) -> frozenset[str]:
    return frozenset(_lexicon(name))


def is_company(line: str, author: Address | None) -> bool:
    stripped = line.strip()
    tokens = stripped.split()
    if not tokens or len(tokens) > 8 or "@" in stripped or URL.search(stripped):
        return False
    if not stripped[0].isupper() and not stripped[0].isdigit():
        return False
    if _SPEAKS.match(stripped) or any(t.endswith(":") for t in tokens[:-1]):
        return False  # "It's Analytica, Inc." answers a question; "Area(s): Gas" is a field
    if any(any(ch.isdigit() for ch in t) for t in tokens):
        return False  # "EB3816", "Building 3886": rooms and addresses
    lowered = [t.lower().strip(",()") for t in tokens]
    if any(t in _company_words() for t in lowered[1:]) or "&" in tokens[1:-1]:
        return True
    return bool(author and _names_domain(stripped, author))


def has_legal_form(line: str) -> bool:
    """The line ends in a company's legal form: "Acme Corp.", "Firma GmbH"."""
    tokens = line.strip().split()
    return len(tokens) >= 2 and tokens[-1].lower().strip(",()") in _legal_forms()


@cache
def _legal_forms() -> frozenset[str]:
    trade = {"associates", "bank", "consulting", "group", "holding", "holdings", "international",
             "partners", "services", "solutions", "systems", "technologies", "company"}  # fmt: skip
    return _company_words() - trade


_NOT_ALNUM = re.compile(r"[^a-z0-9]")
# A pronoun's contraction opens a sentence, never a name: a company may be
# "Moody's" or "Macy's", but not "It's" or "We're".
_SPEAKS = re.compile(
    r"(?:it|that|here|there|what|he|she|we|they|you|i|let)['’](?:s|re|m|ll|ve|d)\b", re.IGNORECASE
)


def _names_domain(line: str, author: Address) -> bool:
    """The line names the author's mail domain: "Watson Wyatt" for watsonwyatt.com."""
    labels = author.domain.split(".")
    label = labels[-2] if len(labels) >= 2 else labels[0]
    # "northwind-health" is named "Northwind Health": hyphens go from both sides.
    bare = _NOT_ALNUM.sub("", label)
    if len(bare) < 3 or label in _freemail_labels():
        return False
    collapsed = _NOT_ALNUM.sub("", line.lower())
    return collapsed.startswith(bare) or any(w.lower() == label for w in words(line))


def is_address(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) > 120 or "@" in stripped:
        return False
    return bool(_STREET.search(stripped) or _CITY.search(stripped))


def is_country(line: str) -> bool:
    return bool(_COUNTRY.fullmatch(line.strip()))


# "call me at 713...", "his number is 403...": a lower-case word that is not
# a label right before a phone makes the line a sentence.
_NUMBER_IN_SENTENCE = re.compile(
    r"\b(?:at|is|on|me|call|number|dial|reach|or|under|unter|au|al|op)\s*[:#]?\s*[+(]?\d",
)


_SENTENCE_END = re.compile(r"[a-z]{2}[.?!]\s+[A-Z]")


def is_prose(line: str) -> bool:
    """A sentence: many words, mostly lower-case (contact data set aside)."""
    stripped = line.strip()
    return len(stripped) > MAX_LINE or _is_prose(stripped)


@lru_cache(maxsize=LINE_CACHE)
def _is_prose(stripped: str) -> bool:
    bare = URL.sub(" ", EMAIL.sub(" ", stripped))
    bare = PHONE_LIKE.sub(" ", bare) if has_phone(bare) else bare
    tokens = bare.split()
    lower = sum(1 for t in tokens if t[:1].islower())
    if bare != stripped and _NUMBER_IN_SENTENCE.search(stripped):
        return True
    if len(tokens) >= 9 and lower >= len(tokens) / 2:
        return True
    first = tokens[0] if tokens else ""
    if len(tokens) >= 2 and first.isalpha() and first.islower():
        # Signature lines start with a capital, a digit, a symbol or a label.
        return first not in _lexicon_set("contact_labels.txt")
    if len(tokens) >= 4 and lower >= 2 and _SENTENCE_END.search(bare):
        return True  # a full stop inside the line: "Thanks.  This will help me."
    if bare == stripped and _is_remark(tokens):
        return True
    return len(tokens) >= 5 and bare.rstrip().endswith((".", "?", "!", ":")) and lower >= 2


def _is_remark(tokens: list[str]) -> bool:
    """A short reply of its own ("Looks good.", "Agreed.", "C'est bon."): a
    sentence-final mark after a lower-case word or a lone word that is no
    title or company ("Inc.", "Sr." end signature lines too)."""
    if not 1 <= len(tokens) <= 6 or not tokens[-1].endswith((".", "!", "?")):
        return False
    last = tokens[-1].rstrip(".!?")
    if len(tokens) > 1:
        return last.isalpha() and last.islower()
    return last.isalpha() and len(last) > 2 and last.lower() not in _title_or_company_words()


@lru_cache(maxsize=4096)  # one entry per correspondent
def name_tokens(author: Address | None, author_name: str | None) -> frozenset[str]:
    """Lower-cased tokens of the author's name and mailbox, for name matching."""
    found: set[str] = set()
    for text in (author.name if author else None, author_name):
        if text:
            found.update(w.lower().strip(".") for w in words(text) if len(w) > 1)
    if author:
        found.update(p for p in re.split(r"[._\-+0-9]", author.local) if len(p) > 1)
    return frozenset(found)


# Lower-case particles inside names: "Jan de Vries", "Ludwig van Beethoven".
_PARTICLES = frozenset({"de", "van", "der", "den", "von", "da", "di", "del", "la", "le", "du",
                        "dos", "ten", "ter", "y", "zu"})  # fmt: skip


def _name_token(token: str) -> bool:
    if token in _PARTICLES:
        return True
    return token[:1].isupper() and (
        token[1:].islower() or len(token) <= 2 or "-" in token or "'" in token
    )


def person_name(line: str, known: frozenset[str]) -> tuple[str, float] | None:
    """``line`` as a person's name with a confidence, or None.

    A line is a name when it is 1-4 capitalised words (initials allowed) and,
    for one word or for an unknown author, no title/company word; matching
    the author's name or mailbox raises the confidence.
    """
    if has_legal_form(line) or is_salutation(line):
        return None  # "Acme Futures, Inc." is no "Name, PhD"; "Hi Sam" greets Sam
    stripped = _CREDENTIAL.sub("", PRONOUNS.sub("", line).strip()).strip(" ,-|")
    tokens = stripped.split()
    if not 1 <= len(tokens) <= 4 or len(stripped) > 40 or any(c.isdigit() for c in stripped):
        return None
    if not all(_name_token(t) for t in tokens) or tokens[0].lower() in _PARTICLES:
        return None
    lowered = {t.lower().strip(".,") for t in tokens}
    # "Customer Support" over a company's footer is a desk, as it is in a From.
    if lowered & _title_or_company_words() or lowered & NOT_A_PERSON:
        return None
    if lowered & known:
        return stripped, 0.9 if len(tokens) > 1 else 0.6
    if len(tokens) == 1 or closing_rest(stripped) is not None:
        return None
    return stripped, 0.5
