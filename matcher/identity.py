"""Who a person is, as far as matching needs: names compared, profiles, blocking keys.

Pure text in, values out; ``matcher.scoring`` weighs two profiles with what
this module reads of them, and storage indexes each contact under its
``blocking_keys`` so that the candidates of an unknown address are found by
key, not by scanning every contact (a million contacts must stay fast).

Names are compared folded: Unicode compatibility decomposition without the
combining marks ("José" is "Jose", "Müller" is "Muller"), a few letters that
do not decompose written as their ASCII readers write them ("Søren" is
"Soren"), case folded. Given names are related through the maintained
``nicknames`` dataset (Bob and Robert, Bill and William), never a hand list.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from nicknames import NickNamer
from rapidfuzz import fuzz

from matcher.classify import role_local_part
from matcher.companies import company_of
from matcher.profile import PersonName, Profile

# Letters NFKD leaves whole; written as people without the key write them.
_UNFOLDED = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe", "ı": "i"}
)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)?")
# Generation suffixes: a father and a son may share every other part of a name.
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "junior", "senior"})
# Honorifics and credentials around a name say nothing about who it is.
_NOISE = frozenset(
    {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "phd", "md", "mba", "esq", "dipl", "ing"}
)
# Surname particles stay with the surname ("van der Berg", "de la Cruz").
_PARTICLES = frozenset({"van", "von", "der", "den", "de", "la", "le", "da", "di", "del", "du"})


def fold(text: str) -> str:
    """Text as matching sees it: no accents, no case ("José Müller" -> "jose muller")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.translate(_UNFOLDED)


def parse_name(full: str | None, given: str | None = None, family: str | None = None) -> PersonName:
    """A name from its parts when known, else from the full text.

    "Smith, Bob" is turned round; "J. Smith" keeps the initial; "José García
    Jr." keeps its suffix apart, as it tells two generations apart.
    """
    words = [w for w in _WORD.findall(fold(full or "")) if w not in _NOISE]
    suffix = next((w for w in words if w in SUFFIXES), "")
    words = [w for w in words if w not in SUFFIXES]
    if given or family:
        g, f = fold(given or "").split(), fold(family or "").split()
        return PersonName(g[0] if g else "", " ".join(w for w in f if w not in SUFFIXES), suffix)
    if not words:
        return PersonName("", "", suffix)
    if full and "," in full:
        head = [w for w in _WORD.findall(fold(full.split(",", 1)[0])) if w not in _NOISE]
        rest = words[len(head) :]
        return PersonName(rest[0] if rest else "", " ".join(head), suffix)
    if len(words) == 1:
        return PersonName("", words[0], suffix)
    family_start = len(words) - 1
    while family_start > 1 and words[family_start - 1] in _PARTICLES:
        family_start -= 1
    return PersonName(words[0], " ".join(words[family_start:]), suffix)


@functools.cache
def _nicknamer() -> NickNamer:
    return NickNamer()


@functools.lru_cache(maxsize=8192)
def given_forms(given: str) -> frozenset[str]:
    """A given name and the names the nickname dataset relates it to ("bob": robert, ...)."""
    if len(given) < 2:
        return frozenset({given}) if given else frozenset()
    namer = _nicknamer()
    return frozenset({given, *namer.canonicals_of(given), *namer.nicknames_of(given)})


# Similarities of two given names, by how they are related.
SAME_GIVEN = 1.0
NICKNAME = 0.95  # one is a nickname of the other (Bob, Robert)
SHARED_NICKNAME = 0.9  # both are forms of a third (Rob, Bobby)
INITIAL = 0.85  # one was written as its initial (J. Smith)


def given_similarity(a: str, b: str) -> float:
    """How alike two folded given names are; unrelated spellings count half their likeness.

    Two different given names with one surname are more often two people
    (a father and a son, a couple) than a typo, so a fuzzy likeness alone
    never makes them close.
    """
    if not a or not b:
        return 0.0
    if a == b:
        return SAME_GIVEN
    if len(a) == 1 or len(b) == 1:
        return INITIAL if a[0] == b[0] else 0.0
    forms_a, forms_b = given_forms(a), given_forms(b)
    if b in forms_a or a in forms_b:
        return NICKNAME
    if len(forms_a & forms_b) > 0:
        return SHARED_NICKNAME
    return fuzz.ratio(a, b) / 100 * 0.5


def name_similarity(a: PersonName, b: PersonName) -> float:
    """0..1: equal surnames and related given names score high, nothing else does.

    A differing generation suffix ("Jr." on one side only, or "Sr." against
    "Jr.") caps the score below any link threshold: it is how a father and a
    son who share a name are told apart.
    """
    if not a.family or not b.family:
        return 0.0
    family = fuzz.token_set_ratio(a.family, b.family) / 100
    if not a.given or not b.given:
        score = 0.5 * family  # a surname alone says little
    else:
        score = 0.5 * family + 0.5 * given_similarity(a.given, b.given)
    if a.suffix != b.suffix:
        score = min(score, 0.7)
    return round(score, 2)


def company_domains(
    profile: Profile, statuses: Iterable[str] = ("current", "bouncing")
) -> frozenset[str]:
    """The work domains of the person's addresses with one of ``statuses``.

    Free mail names a provider, not an employer, and a role address
    (team@, info@) is shared by whoever works there: neither is evidence
    of the person's company.
    """
    wanted = frozenset(statuses)
    return frozenset(
        d for key, status in profile.addresses if status in wanted and (d := work_domain(key))
    )


def work_domain(mailbox: str) -> str | None:
    """The registrable company domain of a person's own address, else None."""
    local, _, domain = mailbox.rpartition("@")
    if not local or role_local_part(local):
        return None
    company = company_of(domain)
    return company.domain if company else None


def name_keys(name: PersonName) -> frozenset[str]:
    """Blocking keys of a name: surname with each given form and each form's initial.

    "Bob Smith", "Robert Smith" and "R. Smith" share "n:smith:r"; the full
    forms keep the blocks of common surnames small.
    """
    if not name.family:
        return frozenset()
    family = name.family.replace(" ", "")
    keys: set[str] = set()
    for form in given_forms(name.given) if name.given else ():
        keys.add(f"n:{family}:{form[0]}")
        if len(form) > 1:
            keys.add(f"n:{family}:{form}")
    return frozenset(keys)


def phone_keys(phones: Iterable[tuple[str, str]]) -> frozenset[str]:
    return frozenset(f"p:{number}" for _, number in phones)


def domain_keys(profile: Profile) -> frozenset[str]:
    return frozenset(f"d:{d}" for d in company_domains(profile))


# A key shared by more contacts than this ("n:smith:j") cannot tell them apart:
# it finds nobody, and a fuller key or a phone still finds the right one.
MAX_BLOCK = 500


def search_keys(profile: Profile) -> frozenset[str]:
    """The keys an unknown address's candidates are looked up by: its name, its phones.

    A company domain alone would bring every colleague, so it weighs
    candidates but never finds them.
    """
    return name_keys(profile.name) | phone_keys(profile.phones)


def blocking_keys(profile: Profile) -> frozenset[str]:
    """Every key a stored contact is indexed under (``storage.identity_keys``)."""
    return search_keys(profile) | domain_keys(profile)


def phone_label(field: str) -> str:
    """ "phone:mobile" -> "mobile"; a bare "phone" has no label."""
    return field.partition(":")[2]
