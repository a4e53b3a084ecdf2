"""The unit ``apply`` writes contacts by: one participant of one stored interaction
(a ``Seat``), and which contact owns each seat's address once owners are ensured."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from matcher.plan import ParticipantPlan


@dataclass(frozen=True, slots=True)
class Seat:
    """One participant of one applied interaction, with where and when it was seen."""

    interaction_id: int
    occurred_at: datetime
    account_id: int
    participant: ParticipantPlan


@dataclass(frozen=True, slots=True)
class Owners:
    """Which contact owns each email of the batch after apply, and what is new."""

    by_mailbox: Mapping[str, int]
    links: Mapping[tuple[int, str], int]  # (interaction, email) -> contact for valid links
    new_contacts: int
    claimed: frozenset[str]  # mailboxes that got an owner in this transaction
    created: frozenset[int] = frozenset()  # contacts inserted in this transaction

    def contact_of(self, seat: Seat) -> int | None:
        p = seat.participant
        return self.links.get((seat.interaction_id, p.email)) or self.by_mailbox.get(p.key)
