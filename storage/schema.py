"""The tables, as typed SQLAlchemy 2 models.

The models describe the schema; the write path uses their tables through
Core bulk statements (``storage.apply``), never per-row ORM flushes. The
migration in ``storage/migrations/versions`` creates exactly this schema;
``tests/integration/test_storage_schema.py`` proves the two agree.

Natural keys carry the idempotency of docs/ARCHITECTURE.md, invariant 1:
``interactions.identity``, ``interaction_sources (account_id, provider_id)``,
``interaction_participants
(interaction_id, email, role)``, ``contact_emails.email``,
``contact_observations (contact_id, field, interaction_id)`` and
``ingest_errors (account_id, provider_id, reason)``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

# The account tables are declared in storage.schema_accounts and named here
# too: this module (and Base.metadata) holds every table, for the migrations,
# the tests and integrators alike.
from storage.schema_accounts import account_leases as account_leases
from storage.schema_accounts import account_transitions as account_transitions
from storage.schema_accounts import accounts as accounts
from storage.schema_accounts import completeness_checks as completeness_checks
from storage.schema_accounts import lease_workers as lease_workers
from storage.schema_accounts import provider_items as provider_items
from storage.schema_accounts import stored_tokens as stored_tokens
from storage.schema_accounts import sync_cursors as sync_cursors
from storage.schema_types import Base, BigId, UTCDateTime, table

# A contact's fields that capture derives from observations (and that a
# person or a CRM may lock). Each is a column of ``contacts``.
DERIVED_FIELDS: tuple[str, ...] = ("name", "given_name", "family_name", "title", "company")


class Company(Base):
    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CompanyDomain(Base):
    __tablename__ = "company_domains"
    domain: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("companies.id"), index=True)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str | None] = mapped_column(sa.Text)
    given_name: Mapped[str | None] = mapped_column(sa.Text)
    family_name: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    company: Mapped[str | None] = mapped_column(sa.Text)
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id"), index=True)
    # Why it exists (docs/ARCHITECTURE.md, invariant 7).
    created_rule: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The newest ``last_*_at`` of its addresses (``storage.freshness``).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class ContactEmail(Base):
    """An address of a contact, as written (normalized), and the mailbox it matches by."""

    __tablename__ = "contact_emails"
    email: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # normalized, as written
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    mailbox: Mapped[str] = mapped_column(sa.Text, index=True)  # matcher.mailboxes key
    # current | former | bouncing | invalid, why (e.g. "bounce:5.1.1:dsn") and since when.
    status: Mapped[str] = mapped_column(sa.Text, server_default="current")
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The newest interaction the address wrote (from, sender, reply-to), received
    # (to, cc, bcc) or met in (organizer, attendee): ``storage.freshness``.
    last_from_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_to_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why the address is the contact's (docs/ARCHITECTURE.md, invariant 7): the rule
    # that created the contact from it, "alias:" a spelling of a held mailbox, a
    # "scored:" link with its reasons, "review:accepted:...", "import:crm", "notice:...".
    origin: Mapped[str | None] = mapped_column(sa.Text)


class ContactKey(Base):
    """A blocking key a contact is found by (``matcher.identity.blocking_keys``).

    Kept current as contacts change (``storage.identity_keys``), so the
    candidates of an unknown address are read through this index, never by
    scanning contacts.
    """

    __tablename__ = "contact_keys"
    key: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id"), primary_key=True, index=True
    )


class ReviewItem(Base):
    """An address scoring proposed for a contact, for a person to accept or reject.

    One row per (mailbox, contact): a rejected pair stays, so it is never
    proposed again.
    """

    __tablename__ = "review_queue"
    __table_args__ = (sa.UniqueConstraint("mailbox", "contact_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    mailbox: Mapped[str] = mapped_column(sa.Text)  # matcher.mailboxes key
    email: Mapped[str] = mapped_column(sa.Text)  # as first written
    name: Mapped[str | None] = mapped_column(sa.Text)  # the display name it came with
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    score: Mapped[float] = mapped_column(sa.Float)
    reasons: Mapped[str] = mapped_column(sa.Text)
    interaction_id: Mapped[int | None] = mapped_column(sa.ForeignKey("interactions.id"))
    state: Mapped[str] = mapped_column(sa.Text, server_default="open")  # open|accepted|rejected
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Employment(Base):
    """Where a contact worked: one row per (contact, company domain), with when it was seen."""

    __tablename__ = "employments"
    __table_args__ = (sa.UniqueConstraint("contact_id", "domain"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    domain: Mapped[str] = mapped_column(sa.Text)  # registrable work domain
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("companies.id"))
    company: Mapped[str | None] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.Text)
    first_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_reason: Mapped[str | None] = mapped_column(sa.Text)  # "scored:...", "notice:left"


class Observed:
    """The columns of one value seen for a field in one interaction."""

    field: Mapped[str] = mapped_column(sa.Text)
    value: Mapped[str] = mapped_column(sa.Text)
    confidence: Mapped[float] = mapped_column(sa.Float)
    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id"))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))


class ContactObservation(Observed, Base):
    """Every value capture has seen for a contact field; never deleted (history)."""

    __tablename__ = "contact_observations"
    __table_args__ = (
        sa.UniqueConstraint("contact_id", "field", "interaction_id"),
        sa.Index("ix_contact_observations_recent", "contact_id", "observed_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"))


class AddressObservation(Observed, Base):
    """A field value seen for an address no contact owns yet, kept for the
    contact the creation policy may make of it later (then moved to
    ``contact_observations``), so fields do not depend on arrival order."""

    __tablename__ = "address_observations"
    __table_args__ = (sa.UniqueConstraint("email", "field", "interaction_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(sa.Text)


class ContactFieldLock(Base):
    """A field set by hand or owned by a CRM: capture never overwrites it."""

    __tablename__ = "contact_field_locks"
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id"), primary_key=True)
    field: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    value: Mapped[str | None] = mapped_column(sa.Text)
    owner: Mapped[str] = mapped_column(sa.Text)  # manual | crm
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Interaction(Base):
    __tablename__ = "interactions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    identity: Mapped[str] = mapped_column(sa.Text, unique=True)
    kind: Mapped[str] = mapped_column(sa.Text)  # email | meeting
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subject: Mapped[str | None] = mapped_column(sa.Text)  # None below privacy "subject"
    snippet: Mapped[str | None] = mapped_column(sa.Text)  # None below privacy "full"
    direction: Mapped[str] = mapped_column(sa.Text)
    thread_key: Mapped[str | None] = mapped_column(sa.Text, index=True)
    status: Mapped[str] = mapped_column(sa.Text)
    sequence: Mapped[int] = mapped_column(sa.Integer, default=0)
    # On a date, not at a time: occurred_at is 00:00 UTC of the date, to be
    # shown as that date in any time zone (an all-day meeting).
    all_day: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class InteractionSource(Base):
    __tablename__ = "interaction_sources"
    __table_args__ = (sa.UniqueConstraint("account_id", "provider_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    stream: Mapped[str] = mapped_column(sa.Text)
    provider_id: Mapped[str] = mapped_column(sa.Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InteractionParticipant(Base):
    __tablename__ = "interaction_participants"
    __table_args__ = (sa.UniqueConstraint("interaction_id", "email", "role"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    interaction_id: Mapped[int] = mapped_column(sa.ForeignKey("interactions.id"))
    email: Mapped[str] = mapped_column(sa.Text, index=True)
    name: Mapped[str | None] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.Text)
    klass: Mapped[str] = mapped_column(sa.Text)
    decision: Mapped[str] = mapped_column(sa.Text)
    rule: Mapped[str] = mapped_column(sa.Text)
    response_status: Mapped[str | None] = mapped_column(sa.Text)
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id"), index=True)
    class_reason: Mapped[str] = mapped_column(sa.Text, server_default="")  # why ``klass``
    meeting_role: Mapped[str | None] = mapped_column(sa.Text)  # RFC 5545 ROLE
    mailbox: Mapped[str] = mapped_column(sa.Text, index=True)  # matcher.mailboxes key of email


class AddressEvidence(Base):
    """Exchange evidence per mailbox (``email`` holds the mailbox key), read by primary key."""

    __tablename__ = "address_evidence"
    email: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    sent_to: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    received_from: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    met: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The newest hard bounce not followed by mail from the mailbox, and its reason.
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_reason: Mapped[str | None] = mapped_column(sa.Text)
    # A mailing list named it as its own address: automated even where no list header says so.
    listed: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())


class Salt(Base):
    """A random value generated once per database, by name (``forget``: the digest salt)."""

    __tablename__ = "salts"
    name: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    value: Mapped[str] = mapped_column(sa.Text)


class SenderSignatureRow(Base):
    """A sender's signature model (``matcher.plan.SenderSignature``) per mailbox key."""

    __tablename__ = "sender_signatures"
    mailbox: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    model: Mapped[str] = mapped_column(sa.Text)  # JSON, ``storage.sender_signatures``
    # The newest message the model learned from: an older model never replaces it.
    learned_through: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ForgottenAddress(Base):
    """A forgotten address, kept only as a salted digest so capture never re-creates it."""

    __tablename__ = "forgotten_addresses"
    digest: Mapped[str] = mapped_column(sa.Text, primary_key=True)  # HMAC-SHA256, hex
    forgotten_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IngestErrorRow(Base):
    __tablename__ = "ingest_errors"
    __table_args__ = (sa.UniqueConstraint("account_id", "provider_id", "reason"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))
    stream: Mapped[str] = mapped_column(sa.Text)
    provider_id: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    detail: Mapped[str] = mapped_column(sa.Text)
    locator: Mapped[str] = mapped_column(sa.Text, server_default="")  # where a person finds it
    count: Mapped[int] = mapped_column(sa.Integer, default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)


class Merge(Base):
    """One merge of two contacts: who, when, why; undone when ``undone_at`` is set.

    The merged-away contact's row is gone; its id resolves to ``survivor_id``
    while the merge stands (``storage.merges``).
    """

    __tablename__ = "merges"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    merged_id: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    actor: Mapped[str] = mapped_column(sa.Text)
    reason: Mapped[str] = mapped_column(sa.Text)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(sa.Text)


class MergeRow(Base):
    """A row a merge changed: its key after the merge, and the changed columns
    before and after (``before`` alone: a row the merge deleted)."""

    __tablename__ = "merge_rows"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    merge_id: Mapped[int] = mapped_column(sa.ForeignKey("merges.id"), index=True)
    table_name: Mapped[str] = mapped_column(sa.Text)
    row_key: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    before: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class ChangeRow(Base):
    """The change feed; see ``storage.changes`` for why ``xact_id`` exists."""

    __tablename__ = "changes"
    # AUTOINCREMENT: never reuse an id a reader may already have passed.
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity: Mapped[str] = mapped_column(sa.Text)
    entity_id: Mapped[int] = mapped_column(sa.BigInteger)
    # insert|update|delete|merge|unmerge|forget
    operation: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    xact_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # PostgreSQL only
    other_id: Mapped[int | None] = mapped_column(sa.BigInteger)  # merge: the survivor


companies = table(Company)
company_domains = table(CompanyDomain)
contacts = table(Contact)
contact_emails = table(ContactEmail)
contact_observations = table(ContactObservation)
address_observations = table(AddressObservation)
contact_field_locks = table(ContactFieldLock)
interactions = table(Interaction)
interaction_sources = table(InteractionSource)
interaction_participants = table(InteractionParticipant)
address_evidence = table(AddressEvidence)
ingest_errors = table(IngestErrorRow)
salts = table(Salt)
forgotten_addresses = table(ForgottenAddress)
sender_signatures = table(SenderSignatureRow)
merges = table(Merge)
merge_rows = table(MergeRow)
contact_keys = table(ContactKey)
review_queue = table(ReviewItem)
employments = table(Employment)
changes = table(ChangeRow)
