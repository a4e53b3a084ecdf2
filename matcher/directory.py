"""A dict-backed Directory: for tests, and for ``autocapture inspect`` on an empty database.

It implements the ``matcher.plan.Directory`` protocol the way storage does,
including ``absorb``: applying a plan's effects (contacts created, evidence
gained) so a second batch sees what the first one did.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from matcher.identity import blocking_keys
from matcher.plan import Evidence, Plan, SenderSignature, evidence_of, merge_evidence
from matcher.profile import Profile


@dataclass(slots=True)
class InMemoryDirectory:
    """Mutable on purpose: it stands in for the database between batches."""

    contacts: dict[str, int] = field(default_factory=dict)  # by mailbox key
    known: dict[str, Evidence] = field(default_factory=dict)  # by mailbox key
    erased: set[str] = field(default_factory=set)  # forgotten spellings and mailbox keys
    signatures: dict[str, SenderSignature] = field(default_factory=dict)  # by mailbox key
    profiles: dict[int, Profile] = field(default_factory=dict)  # by contact id, for scoring

    def contact_ids(self, mailboxes: Collection[str]) -> Mapping[str, int]:
        return {e: self.contacts[e] for e in mailboxes if e in self.contacts}

    def evidence(self, mailboxes: Collection[str]) -> Mapping[str, Evidence]:
        return {e: self.known[e] for e in mailboxes if e in self.known}

    def forgotten(self, addresses: Collection[str]) -> Collection[str]:
        return {a for a in addresses if a in self.erased}

    def sender_signatures(self, mailboxes: Collection[str]) -> Mapping[str, SenderSignature]:
        return {m: self.signatures[m] for m in mailboxes if m in self.signatures}

    def candidates(
        self, keys: Collection[str], mailboxes: Collection[str], threads: Collection[str]
    ) -> Sequence[Profile]:
        if not self.profiles:
            return ()
        wanted, held, asked = set(keys), set(mailboxes), frozenset(threads)
        return [
            replace(p, threads=p.threads & asked)
            for _, p in sorted(self.profiles.items())
            if blocking_keys(p) & wanted or p.mailboxes("former") & held
        ]

    def absorb(self, plan: Plan) -> None:
        """Record a plan as storage would: ensure created contacts, keep evidence and models."""
        self.signatures.update(plan.sender_signatures)
        for interaction in plan.interactions:
            for email, seen in evidence_of(interaction).items():
                self.known[email] = merge_evidence(self.known.get(email), seen)
            for p in interaction.participants:
                if p.decision == "create" and p.key not in self.contacts:
                    self.contacts[p.key] = len(self.contacts) + 1
                elif p.decision == "link" and p.contact_id and p.key not in self.contacts:
                    self.contacts[p.key] = p.contact_id  # a scored link claims the address
