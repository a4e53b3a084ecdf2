"""Companies from work mail domains, via the Public Suffix List.

The registrable domain ("acme-robotics.co.uk" for "mail.acme-robotics.co.uk")
is the company key; its first label, spaced and capitalised, is a weak guess
at the company's name. The PSL snapshot bundled in ``publicsuffixlist`` is
used as shipped: the matcher never fetches (it does no I/O at run time; the
package data is read once, lazily).

Free-mail domains name a mail provider, never the person's employer, so they
make no company; the list lives in ``matcher/data/freemail.txt``.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass
from importlib import resources

from publicsuffixlist import PublicSuffixList

from matcher.classify import domain_within

COMPANY_CONFIDENCE = 0.4  # a domain label is a guess; signatures and CRMs know better

# A hostname we can reason about: LDH labels (RFC 1123), alphabetic TLD or an
# IDNA one. Address literals ("[1.2.3.4]") and garbage make no company.
_HOSTNAME = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)


@dataclass(frozen=True, slots=True)
class Company:
    domain: str  # registrable domain, IDNA form: the company key
    name: str  # guessed from the domain's label: "Acme Robotics"


@functools.cache
def _suffixes() -> PublicSuffixList:
    return PublicSuffixList()


@dataclass(frozen=True, slots=True)
class _FreeMail:
    domains: frozenset[str]
    families: frozenset[str]  # "yahoo" for "yahoo.*"


@functools.cache
def _free_mail() -> _FreeMail:
    text = resources.files("matcher").joinpath("data/freemail.txt").read_text("utf-8")
    domains: set[str] = set()
    families: set[str] = set()
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().lower()
        if entry.endswith(".*"):
            families.add(entry[:-2])
        elif entry:
            domains.add(entry)
    return _FreeMail(frozenset(domains), frozenset(families))


def registrable_domain(domain: str) -> str | None:
    """The domain a registrant owns ("acme.co.uk" for "eu.mail.acme.co.uk")."""
    domain = domain.lower().rstrip(".")
    if not _HOSTNAME.fullmatch(domain):
        return None
    return _suffixes().privatesuffix(domain)


def is_free_mail(domain: str) -> bool:
    free = _free_mail()
    if domain_within(domain.lower(), free.domains):
        return True
    registrable = registrable_domain(domain)
    return registrable is not None and registrable.split(".", 1)[0] in free.families


def company_name(registrable: str) -> str:
    label = registrable.split(".", 1)[0]
    if label.startswith("xn--"):
        # An invalid IDNA label still names the domain as written.
        with contextlib.suppress(UnicodeError):
            label = label.encode("ascii").decode("idna")
    words = [w for w in re.split(r"[-_]+", label) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or label


def company_of(domain: str) -> Company | None:
    """The company a work domain implies, or None for free mail and non-hostnames."""
    # Each participant asks again for a handful of recurring domains, and a
    # PSL lookup plus the free-mail test cost far more than a dict hit.
    # Longer text than a hostname may be (RFC 1035: 253) is not remembered.
    if len(domain) <= 253:
        return _company_cached(domain)
    return _company(domain)


def _company(domain: str) -> Company | None:
    registrable = registrable_domain(domain)
    if registrable is None or is_free_mail(domain):
        return None
    return Company(registrable, company_name(registrable))


_company_cached = functools.lru_cache(maxsize=4096)(_company)
