"""Frozen, typed settings: what one YAML file becomes.

Every model forbids unknown keys (a typo must not silently become a
default) and is frozen (settings are read from many worker threads).
Accounts are a discriminated union on ``kind`` with flat keys in YAML
(``config.accounts``); the shared value types are in ``config.fields``.

Cross-field rules (tls none needs allow_plaintext, exactly one of password
and oauth_token, unique account names) are field validators that read the
fields declared before them, so each problem is reported at its own key and
together with every other problem of the file, never in a second round.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import phonenumbers
import platformdirs
from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    Strict,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from config.accounts import AccountBase, AccountSettings
from config.fields import (
    Addresses,
    Domains,
    Flag,
    FrozenSettings,
    anchored,
)
from config.values import (
    Duration,
    PositiveDuration,
    Secret,
    format_duration,
    invalid,
    shown,
)
from connectors.records import DEFAULT_CREATION, When

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def default_database_url() -> str:
    """The embedded SQLite database in the user's data directory (not created here)."""
    folder = Path(platformdirs.user_data_dir("autocapture"))
    return f"sqlite:///{folder / 'autocapture.db'}"


def default_token_key() -> Secret:
    """The key file beside the default database; the agent creates it (0600) on first use."""
    return Secret("file", str(Path(platformdirs.user_data_dir("autocapture")) / "token.key"))


class CreationSettings(FrozenSettings):
    """When a participant of each class may become a new contact (connectors.records.When)."""

    person: When = DEFAULT_CREATION["person"]
    role: When = DEFAULT_CREATION["role"]
    automated: When = DEFAULT_CREATION["automated"]
    internal: When = DEFAULT_CREATION["internal"]
    room: When = DEFAULT_CREATION["room"]
    quoted: When = DEFAULT_CREATION["quoted"]

    def by_class(self) -> dict[str, When]:
        """The mapping ``matcher.plan.AccountPolicy.creation`` takes."""
        return {name: getattr(self, name) for name in type(self).model_fields}


class BlocklistSettings(FrozenSettings):
    """Never captured, never created; a domain also covers its subdomains."""

    addresses: Addresses = ()
    domains: Domains = ()


class SubaddressSettings(FrozenSettings):
    """Where "name+tag@domain" is the mailbox "name@domain" (see matcher.mailboxes).

    Gmail, Outlook.com, iCloud and Fastmail are built in; any other domain
    only when listed, because most servers treat "+" as part of the name.
    """

    org_domains: Annotated[bool, Strict()] = False  # the org's own server strips "+tag"
    domains: Domains = ()  # other domains whose server does (no subdomains implied)

    def domains_for(self, org_domains: tuple[str, ...]) -> frozenset[str]:
        """The domains ``matcher.plan.AccountPolicy.subaddress_domains`` takes."""
        return frozenset(self.domains) | (
            frozenset(org_domains) if self.org_domains else frozenset()
        )


Score = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]


class IdentitySettings(FrozenSettings):
    """Scored resolution of an address no contact owns (see matcher.scoring).

    A link needs ``link_at`` and a strong agreement (phone, thread, former
    address) besides a name of at least ``name_at``; ``review_at`` sends the
    address to ``autocapture review`` instead; below it the creation policy
    decides. The defaults are matcher.plan.Thresholds'.
    """

    link_at: Score = 0.85
    review_at: Score = 0.7
    name_at: Score = 0.9
    margin: Score = 0.05  # a runner-up this close turns a link into a review

    @model_validator(mode="after")
    def _ordered(self) -> IdentitySettings:
        if self.review_at > self.link_at:
            raise invalid("identity", "review_at must not be above link_at")
        return self


def _database_url(value: object, info: ValidationInfo) -> str:
    try:
        url = make_url(value) if isinstance(value, str) else None
    except ArgumentError:
        url = None
    if url is None:
        raise invalid(
            "database_url", 'expected a URL like "postgresql+psycopg://host/db" or "sqlite:///path"'
        )
    # libpq also takes the password as a query parameter (?password=).
    if url.password is not None or any(k.lower() == "password" for k in url.query):
        # Do not quote the URL: it holds the password.
        raise invalid(
            "database_url",
            "no password in database_url: PostgreSQL reads it from PGPASSWORD or ~/.pgpass",
        )
    embedded = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if embedded and not str(url.database).startswith("file:"):
        url = url.set(database=str(anchored(Path(str(url.database)), info)))
        return url.render_as_string(hide_password=False)
    assert isinstance(value, str)
    return value.strip()


def _phone_region(value: object) -> object:
    region = value.strip().upper() if isinstance(value, str) else value
    if region is None or region in phonenumbers.SUPPORTED_REGIONS:
        return region
    raise invalid(
        "phone_region", f'expected a two-letter region code like "DE", got {shown(value)}'
    )


def _lease_ttl(ttl: timedelta) -> timedelta:
    if ttl < timedelta(seconds=3):
        # Renewed every third of it; less than a second apart, a busy
        # database would let live workers' leases lapse.
        raise invalid("lease_ttl", f"expected at least 3s, got {format_duration(ttl)}")
    return ttl


def _log_level(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class MetricsSettings(FrozenSettings):
    """The Prometheus endpoint of ``autocapture run`` (``agent.metrics``); off by default."""

    enabled: Flag = False
    # Loopback by default: the numbers name accounts; expose them on purpose.
    address: Annotated[str, Strict(), Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Strict(), Field(ge=1, le=65535)] = 9464


class Settings(FrozenSettings):
    database_url: Annotated[str, BeforeValidator(_database_url)] = Field(
        default_factory=default_database_url
    )
    org_domains: Domains = ()  # the organisation's own domains: colleagues, not contacts
    creation: CreationSettings = CreationSettings()
    blocklist: BlocklistSettings = BlocklistSettings()
    subaddressing: SubaddressSettings = SubaddressSettings()
    identity: IdentitySettings = IdentitySettings()
    workers: Annotated[int, Strict(), Field(ge=1, le=64)] = 4
    # ``run`` on PostgreSQL: how long an account stays with a worker that
    # stopped renewing its lease (it died) before another takes it over.
    lease_ttl: Annotated[PositiveDuration, AfterValidator(_lease_ttl)] = timedelta(seconds=60)
    # A backlog's next batches are fetched and read in a second process while
    # one is stored (agent.readahead): about twice as fast on two cores.
    read_ahead: Annotated[bool, Strict()] = True
    phone_region: Annotated[str | None, BeforeValidator(_phone_region)] = None
    # Encrypts the tokens kept in the database (storage.tokens): 32 bytes in
    # base64. Agents sharing one database must share this key.
    token_key: Secret = Field(default_factory=default_token_key)
    log_level: Annotated[LogLevel, BeforeValidator(_log_level)] = "INFO"
    # How often ``run`` checks each account's completeness (``autocapture
    # verify``, agent.completeness); 0 turns the schedule off.
    verify_every: Duration = timedelta(days=1)
    metrics: MetricsSettings = MetricsSettings()
    accounts: tuple[AccountSettings, ...] = ()

    @field_validator(
        "creation", "blocklist", "subaddressing", "identity", "metrics", "accounts", mode="before"
    )
    @classmethod
    def _empty_is_default(cls, value: object, info: ValidationInfo) -> object:
        # "accounts:" with every entry commented out is YAML null, not a mistake.
        if value is None:
            return () if info.field_name == "accounts" else {}
        return value

    @field_validator("accounts", mode="wrap")
    @classmethod
    def _unique_names(cls, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        duplicates = _duplicate_names(value)
        if not duplicates:
            return handler(value)
        try:
            handler(value)
            found: list[InitErrorDetails] = []
        except ValidationError as exc:
            # Rebuild the accounts' own errors so they come out together with
            # the duplicates; messages are already rendered, so no ctx.
            found = [
                InitErrorDetails(type=invalid(e["type"], e["msg"]), loc=e["loc"], input=e["input"])
                for e in exc.errors()
            ]
        raise ValidationError.from_exception_data("accounts", found + duplicates)

    def account(self, name: str) -> AccountBase:
        """The account called ``name``; KeyError if there is none."""
        for acct in self.accounts:
            if acct.name == name:
                return acct
        raise KeyError(name)


def _duplicate_names(value: object) -> list[InitErrorDetails]:
    """A problem at the name of every account that repeats an earlier account's name."""
    if not isinstance(value, list | tuple):
        return []
    first: dict[str, int] = {}
    found: list[InitErrorDetails] = []
    for index, item in enumerate(value):
        name = item.get("name") if isinstance(item, Mapping) else getattr(item, "name", None)
        if not isinstance(name, str):
            continue
        if name in first:
            message = f"account name {shown(name)} is already used by accounts[{first[name]}]"
            found.append(
                InitErrorDetails(
                    type=invalid("duplicate_name", message), loc=(index, "name"), input=name
                )
            )
        else:
            first[name] = index
    return found
