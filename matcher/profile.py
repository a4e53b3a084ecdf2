"""A person as matching sees them: a split name and what else is known (``matcher.identity``).

Plain values with no behaviour beyond reading themselves, so the ``Directory``
protocol (``matcher.plan``) can name them without importing the matcher.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PersonName:
    """A name split for comparison, every part folded."""

    given: str  # "" when unknown; one letter when only an initial was written
    family: str  # "" when unknown
    suffix: str = ""  # "jr", "sr", "iii", ...

    @property
    def known(self) -> bool:
        return bool(self.family and self.given)


@dataclass(frozen=True, slots=True)
class Profile:
    """What is known of one person: an address being resolved, or a stored contact."""

    contact_id: int | None
    name: PersonName
    addresses: tuple[tuple[str, str], ...] = ()  # (mailbox key, status)
    phones: tuple[tuple[str, str], ...] = ()  # (label: "mobile", "office", "", E.164)
    titles: frozenset[str] = frozenset()  # folded
    threads: frozenset[str] = frozenset()  # thread keys this person was on (of those asked)
    rejected: frozenset[str] = frozenset()  # mailboxes a person said are not this contact's

    def mailboxes(self, status: str | None = None) -> frozenset[str]:
        return frozenset(k for k, s in self.addresses if status is None or s == status)
