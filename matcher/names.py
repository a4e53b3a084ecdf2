"""Personal names from display names, and what is not a name.

A display name is the sender's own spelling of their name most of the time,
but it is also often the address again, the company, a team ("Acme Sales")
or a relay note ("Ann via Docs"). Only what survives the checks below
becomes a name observation; role and automated addresses never give one.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from nameparser import HumanName

from connectors.records import Address
from matcher.body.signature_lines import NOT_A_PERSON, is_title
from matcher.plan import Observation, ParticipantClass

NAME_CONFIDENCE = 0.6  # a display name the person (or their admin) chose
GUESSED_CONFIDENCE = 0.3  # "first.last" local parts: usually right, often not
MAX_NAME_CHARS = 100

_NAMED_CLASSES: frozenset[ParticipantClass] = frozenset({"person", "internal"})
_LETTERS = re.compile(r"[^\W\d_]+")
_LOCAL_NAME = re.compile(r"([a-z]{2,})[._]([a-z]{2,})")
_QUALIFIER = re.compile(r"[(\[{][^)\]}]*[)\]}]")  # "(Acme)", "[EXT]", "{contractor}"
_TAGLINE = re.compile(r"\s+[|/\u2013\u2014-]\s+")


def _compact(text: str) -> str:
    return "".join(_LETTERS.findall(text.lower()))


def _bare(name: str) -> str:
    """The name without what mail clients and admins add around it.

    "[EXT] Ann Lee (Acme)" -> "Ann Lee"; "Ann Lee | Acme" and "Ann Lee - Acme"
    -> "Ann Lee" (a spaced dash or bar starts a tagline; "Jean-Luc" has no
    spaces); emoji and other symbols go.
    """
    name = _QUALIFIER.sub(" ", name)
    name = _TAGLINE.split(name, maxsplit=1)[0]
    name = "".join(c for c in name if not unicodedata.category(c).startswith("S"))
    # Outlook keeps the quotes of a name typed as "'Piotr Kowalski'", and
    # writes iCalendar CNs in single quotes, which RFC 5545 does not strip.
    name = _COURTESY.sub("", " ".join(name.split()).strip(" ,;'\"\u2018\u2019\u201c\u201d"))
    return _without_title(name)


# "Mr. John Smith", "Frau Anna Berg": a form of address, not part of the name
# (a degree such as "Dr." is, in the countries that write it). Not "M.",
# which is as often an initial as "Monsieur".
_COURTESY = re.compile(
    r"^(?:mr|mrs|ms|miss|mx|herr|frau|mme|mlle|sr|sra|srta|sig|sig\.ra|dhr|mevr)\.?\s+(?=\S)",
    re.IGNORECASE,
)


def _without_title(name: str) -> str:
    """ "Mathieu Campbell, Directeur" -> "Mathieu Campbell".

    A comma usually turns a name round ("Novak, Julia"); when what follows
    it is a job title, it is the title Outlook directories append instead.
    """
    head, comma, tail = name.partition(",")
    if comma and head.strip() and is_title(tail.strip()):
        return head.strip()
    return name


def _caps(token: str) -> bool:
    letters = [c for c in token if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters)


def _surname_last(text: str) -> str:
    """ "DENIEL Philippe" -> "Philippe Deniel": a surname written in capitals,
    as French and Belgian directories do, first or last, re-cased and put last.

    Only beside a name in mixed case (an all-capitals name is re-cased as a
    whole), and only when a capitalised word has three letters or more: two
    capitals are as often initials ("JP Morgan") as a surname.
    """
    head, comma, rest = text.partition(",")
    if comma:  # "DENIEL, Philippe": the comma already says which is the surname
        if _caps(head) and not _caps(rest):
            return f"{_recased(head)},{rest}"
        return text
    tokens = text.split()
    caps = [_caps(t) for t in tokens]
    if all(caps) or not any(caps):
        return text
    lead = caps.index(False)
    trail = caps[::-1].index(False)
    if lead and not any(caps[lead:]):
        given, family = tokens[lead:], tokens[:lead]
    elif trail and not any(caps[:-trail]):
        given, family = tokens[:-trail], tokens[-trail:]
    else:
        return text
    if all(sum(c.isalpha() for c in t) < 3 for t in family):
        return text
    return " ".join([*given, _recased(" ".join(family))])


def _recased(surname: str) -> str:
    """ "LE GALL" -> "Le Gall", "O'NEILL" -> "O'Neill" (nameparser's rules)."""
    human = HumanName(surname)
    human.capitalize(force=True)
    return str(human)


def display_name(address: Address, company_name: str | None = None) -> str | None:
    """The display name of ``address`` if it names a person, else None."""
    if not address.name or "@" in address.name:
        return None
    name = _bare(address.name)
    if not name or len(name) > MAX_NAME_CHARS:
        return None
    compact = _compact(name)
    # "priya.shah" as a display name is the address again, but "Priya Shah"
    # for priya.shah@ is the commonest real name of all: only a one-word
    # display name that spells the local part says nothing.
    if not compact or (" " not in name and compact == _compact(address.local)):
        return None
    if company_name and compact == _compact(company_name):
        return None
    words = {w.strip(",()\"'") for w in name.lower().split()}
    if words & NOT_A_PERSON:
        return None
    return name


def _parsed(text: str) -> HumanName:
    human = HumanName(text)
    human.capitalize()  # only changes ALL CAPS or all lower case names
    return human


def _written(text: str, human: HumanName) -> str:
    """The full name in reading order: as written unless flipped or re-cased."""
    if "," in text or text.isupper() or text.islower():
        # Suffixes after a comma are credentials ("Lee, Ann, PhD"), not the name.
        parts = [human.first, human.middle, human.last]
        return " ".join(p for p in parts if p) or text
    return text


# Chinese (and unspaced Japanese) names in Han characters: nameparser keeps
# them whole. The family name comes first: one character ("王小明"), two for
# the compound surnames, and two in a four-character name ("山田太郎",
# "欧阳娜娜"), where a one-character surname before three is rare.
_HAN_NAME = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,4}")
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "歐陽", "司马", "司馬", "上官", "诸葛", "諸葛", "东方", "東方", "皇甫", "尉迟",
        "尉遲", "公孙", "公孫", "慕容", "令狐", "长孙", "長孫", "宇文", "夏侯", "轩辕", "軒轅",
        "司徒", "端木", "申屠", "独孤", "獨孤", "南宫", "南宮", "西门", "西門", "澹台", "澹臺",
    }
)  # fmt: skip


def _han_parts(text: str) -> tuple[str, str] | None:
    """(given, family) of a Han-character name written without a space."""
    if _HAN_NAME.fullmatch(text) is None:
        return None
    cut = 2 if len(text) == 4 or text[:2] in _COMPOUND_SURNAMES else 1
    return (text[cut:], text[:cut]) if len(text) > cut else None


def _observations(full: str, given: str, family: str, confidence: float) -> tuple[Observation, ...]:
    found = [Observation("name", full, confidence)]
    if given:
        found.append(Observation("given_name", given, confidence))
    if family:
        found.append(Observation("family_name", family, confidence))
    return tuple(found)


def name_observations(
    address: Address, klass: ParticipantClass, company_name: str | None = None
) -> tuple[Observation, ...]:
    """Name, given and family name observations for one participant address."""
    if klass not in _NAMED_CLASSES:
        return ()
    return _names_of(Address(address.email, address.name), company_name)


# The same few people write most of a mailbox, and nameparser costs about a
# millisecond a name: read each (address, display name) once per process.
@functools.lru_cache(maxsize=8192)
def _names_of(address: Address, company_name: str | None) -> tuple[Observation, ...]:
    text = display_name(address, company_name)
    if text is not None:
        han = _han_parts(text)
        if han is not None:
            return _observations(text, *han, NAME_CONFIDENCE)
        text = _surname_last(text)
        human = _parsed(text)
        if human.first or human.last:
            return _observations(_written(text, human), human.first, human.last, NAME_CONFIDENCE)
        return ()
    guess = _LOCAL_NAME.fullmatch(address.local)
    if guess is None:
        return ()
    given, family = (w.capitalize() for w in guess.groups())
    return _observations(f"{given} {family}", given, family, GUESSED_CONFIDENCE)
