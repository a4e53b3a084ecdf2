"""One settings model per account kind, a discriminated union on ``kind``.

Each kind's keys are flat in YAML. Cross-field rules (tls none needs
allow_plaintext, exactly one of password and oauth_token) are field
validators that read the fields declared before them, so each problem is
reported at its own key, together with every other problem of the file.
A secret is any field typed ``Secret``: ``AccountBase.secrets`` finds them.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
)

from config.errors import SecretUnavailable
from config.fields import (
    Addresses,
    Flag,
    FrozenSettings,
    Hosts,
    Names,
    Text,
    anchored,
    existing_file,
    readable_ca_file,
)
from config.values import (
    MAX_DURATION,
    Backfill,
    Duration,
    EmailAddress,
    PositiveDuration,
    Secret,
    ServiceUrl,
    invalid,
    one_or_many,
    shown,
)
from connectors.records import Limits, Privacy

# Names key an account's cursors and status in the database and appear in
# logs and file names, so they stay short, ASCII and shell-safe.
_ACCOUNT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")


def _account_name(value: object) -> object:
    if isinstance(value, str) and _ACCOUNT_NAME.fullmatch(value):
        return value
    raise invalid(
        "account_name",
        f"expected a name of letters, digits and - _ . @ (at most 64), got {shown(value)}",
    )


class AccountBase(FrozenSettings):
    """Settings every account kind has."""

    name: Annotated[str, BeforeValidator(_account_name)]
    kind: str
    owner: Addresses = ()  # the mailbox owner's addresses: tells outbound from inbound
    poll_interval: PositiveDuration = timedelta(minutes=5)
    backfill: Backfill = timedelta(days=365)
    lookahead: Duration = timedelta(days=90)
    privacy: Privacy = "subject"
    enabled: Flag = True
    batch_size: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 500

    def secrets(self) -> dict[str, Secret]:
        """The account's secret references by key: every field typed ``Secret`` that is set,
        so a new kind's secret keys are known without a list kept by hand."""
        found = {name: getattr(self, name) for name in type(self).model_fields}
        return {name: value for name, value in found.items() if isinstance(value, Secret)}

    def check_secrets(self) -> None:
        """Read every secret now; SecretUnavailable names the key of the first that fails."""
        for key, secret in self.secrets().items():
            try:
                secret.resolve()
            except SecretUnavailable as exc:
                raise SecretUnavailable(exc.reference, exc.reason, key) from None


# Mail kinds must know their owner, or every message's direction is a guess.
OwnerAddresses = Annotated[Addresses, Field(min_length=1)]


class ArchiveAccount(AccountBase):
    """Local exports (Google Takeout mbox/ics); relative paths are relative to the YAML file."""

    kind: Literal["archive"]
    owner: OwnerAddresses
    # An archive is an export its owner chose to have read: all of it, unless
    # told otherwise. A year's window (a mailbox's default, which keeps a first
    # sync of a decade-old account short) read an old export as "0 items".
    backfill: Backfill = MAX_DURATION
    paths: Annotated[tuple[Path, ...], BeforeValidator(one_or_many), Field(min_length=1)]

    @field_validator("paths", mode="after")
    @classmethod
    def _anchor_paths(cls, paths: tuple[Path, ...], info: ValidationInfo) -> tuple[Path, ...]:
        return tuple(anchored(p, info) for p in paths)


class RemoteAccount(AccountBase):
    timeout: PositiveDuration = timedelta(seconds=60)


def _first_owner(value: object, info: ValidationInfo) -> object:
    """Default a login name to the owner's first address, as most providers expect."""
    if value is not None:
        return value
    if "owner" not in info.data:
        # The owner key is invalid and already reported, so this model is never
        # built; a placeholder keeps one mistake from being reported twice.
        return "(no owner)"
    return info.data["owner"][0]


def _one_credential(
    value: Secret | None, other: str, info: ValidationInfo, *, required: bool
) -> Secret | None:
    """At most one of two credential keys (exactly one if ``required``)."""
    if other not in info.data:  # the other key is itself invalid and already reported
        return value
    given = (value is not None) + (info.data[other] is not None)
    if given == 2:
        raise invalid("credentials", f"give {info.field_name} or {other}, not both")
    if given == 0 and required:
        raise invalid("credentials", f"give {info.field_name} or {other}, one of them is required")
    return value


class ImapAccount(RemoteAccount):
    kind: Literal["imap"]
    owner: OwnerAddresses
    host: Text
    allow_plaintext: Flag = False
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    # None means the standard port for ``tls``: 993 implicit, 143 otherwise (RFC 8314).
    port: Annotated[int, Strict(), Field(ge=1, le=65535)] = Field(
        default=None, validate_default=True
    )
    verify_tls: Flag = True
    # A CA bundle (PEM) to trust instead of the system's: a server whose
    # certificate a company CA signed; relative to the YAML file.
    ca_file: Path | None = None
    username: Text = Field(default=None, validate_default=True)  # default: the first owner address
    oauth_token: Secret | None = None  # XOAUTH2 bearer token
    password: Secret | None = Field(default=None, validate_default=True)
    folders: Names | None = None  # None: INBOX and the folder marked \Sent (RFC 6154)
    text_bytes: Annotated[int, Strict(), Field(ge=0, le=Limits().max_text_bytes)] = 16_384

    @field_validator("tls", mode="after")
    @classmethod
    def _plaintext_is_explicit(cls, tls: str, info: ValidationInfo) -> str:
        if tls == "none" and info.data.get("allow_plaintext", True) is not True:
            raise invalid(
                "plaintext",
                "tls: none sends the password in clear text; set allow_plaintext: true to accept that",
            )
        return tls

    @field_validator("port", mode="before")
    @classmethod
    def _standard_port(cls, port: object, info: ValidationInfo) -> object:
        if port is None:
            return 993 if info.data.get("tls", "implicit") == "implicit" else 143
        return port

    _username = field_validator("username", mode="before")(_first_owner)

    _ca_file = field_validator("ca_file", mode="after")(readable_ca_file)

    @field_validator("password", mode="after")
    @classmethod
    def _password_or_token(cls, password: Secret | None, info: ValidationInfo) -> Secret | None:
        return _one_credential(password, "oauth_token", info, required=True)


class CaldavAccount(RemoteAccount):
    kind: Literal["caldav"]
    url: ServiceUrl  # the calendar home or any URL the server discovers from (RFC 6764)
    # An http:// URL (loopback only) sends the password or token in clear text:
    # like IMAP's tls: none, only when the admin says so.
    allow_plaintext: Flag = False
    username: Text | None = None
    token: Secret | None = None  # bearer token
    password: Secret | None = None
    verify_tls: Flag = True
    # A CA bundle (PEM) to trust instead of the system's, as for IMAP.
    ca_file: Path | None = None
    calendars: Names | None = None  # display names or paths; None: every calendar
    # Hosts ("host" or "host:port") a redirect may lead to with the account's
    # credentials: RFC 6764 discovery may move to another host of the same
    # provider. A redirect to any other origin is refused.
    allowed_redirect_hosts: Hosts = ()

    @field_validator("token", mode="after")
    @classmethod
    def _token_is_protected(cls, token: Secret | None, info: ValidationInfo) -> Secret | None:
        return _protected_credential(token, info)

    @field_validator("password", mode="after")
    @classmethod
    def _password_needs_user(cls, password: Secret | None, info: ValidationInfo) -> Secret | None:
        if password is not None and "username" in info.data and info.data["username"] is None:
            raise invalid("credentials", "a password needs a username")
        return _one_credential(_protected_credential(password, info), "token", info, required=False)

    _ca_file = field_validator("ca_file", mode="after")(readable_ca_file)


def _protected_credential(value: Secret | None, info: ValidationInfo) -> Secret | None:
    """A credential over plain http:// needs ``allow_plaintext: true``."""
    url = info.data.get("url")
    allowed = info.data.get("allow_plaintext", True) is True  # invalid: already reported
    if value is not None and isinstance(url, str) and url.startswith("http://") and not allowed:
        raise invalid(
            "plaintext",
            f"an http:// URL sends the {info.field_name} in clear text; "
            "use https:// or set allow_plaintext: true to accept that",
        )
    return value


class GmailAccount(RemoteAccount):
    """Gmail and Google Calendar through Google's APIs (OAuth 2.0, offline access)."""

    kind: Literal["gmail"]
    owner: OwnerAddresses
    # Either a rep's own grant: an OAuth client of type "Desktop app" ...
    client_id: Text | None = None
    client_secret: Secret | None = Field(default=None, validate_default=True)
    # None: the one `autocapture auth google NAME` stored, encrypted, in the database.
    refresh_token: Secret | None = None
    # ... or an admin's: a service account's JSON key with domain-wide
    # delegation, acting for ``impersonate`` (None: the first owner, ``subject``).
    service_account_key: Secret | None = Field(default=None, validate_default=True)
    impersonate: EmailAddress | None = None
    auth_uri: ServiceUrl = "https://accounts.google.com/o/oauth2/auth"  # the consent page
    token_uri: ServiceUrl = "https://oauth2.googleapis.com/token"
    api_root: ServiceUrl = "https://gmail.googleapis.com/"
    calendar_api_root: ServiceUrl = "https://www.googleapis.com/"
    calendar: Flag = True  # also sync calendars
    # None: the primary calendar and the others the user owns and shows; a
    # list names them (calendar id or summary), e.g. a team calendar.
    calendars: Names | None = None
    # Mail under these labels is not captured (SPAM and TRASH never are):
    # system labels by id (DRAFT, CHAT, CATEGORY_PROMOTIONS), user labels by name.
    skip_labels: Names = ("DRAFT", "CHAT")
    # Gmail meters each user in quota units (messages.get 5, history.list 2);
    # Google documents 6,000 per user per minute, so 90 a second stays below.
    quota_units_per_second: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 90

    @field_validator("client_secret", mode="after")
    @classmethod
    def _client_pair(cls, secret: Secret | None, info: ValidationInfo) -> Secret | None:
        if "client_id" in info.data and (secret is None) != (info.data["client_id"] is None):
            raise invalid(
                "credentials", "an OAuth client is client_id and client_secret together: give both"
            )
        return secret

    @field_validator("refresh_token", mode="after")
    @classmethod
    def _refresh_needs_client(cls, token: Secret | None, info: ValidationInfo) -> Secret | None:
        if token is not None and info.data.get("client_id", "") is None:
            raise invalid("credentials", "a refresh_token needs client_id and client_secret")
        return token

    @field_validator("service_account_key", mode="after")
    @classmethod
    def _one_grant(cls, key: Secret | None, info: ValidationInfo) -> Secret | None:
        if "client_id" not in info.data:  # already reported
            return key
        both = "client_id and client_secret (each rep signs in) or service_account_key"
        if key is not None and info.data["client_id"] is not None:
            raise invalid("credentials", f"give {both}, not both")
        if key is None and info.data["client_id"] is None:
            raise invalid("credentials", f"give {both} (domain-wide delegation)")
        return key

    @field_validator("impersonate", mode="after")
    @classmethod
    def _delegated_user(cls, user: str | None, info: ValidationInfo) -> str | None:
        if user is not None and info.data.get("service_account_key", True) is None:
            raise invalid("credentials", "impersonate needs service_account_key")
        return user

    @property
    def subject(self) -> str:
        """The user a service account acts for."""
        return self.impersonate or self.owner[0]


class MicrosoftAccount(RemoteAccount):
    """Microsoft 365 mail and calendar through Graph: app-only client credentials, or a
    rep's delegated consent given once with ``autocapture auth microsoft ACCOUNT``."""

    kind: Literal["microsoft"]
    owner: OwnerAddresses
    tenant: Text  # the directory (tenant) id or a verified domain of it
    client_id: Text  # the app registration's application (client) id
    # app: the app's own permissions (an admin's tenant-wide capture), with a
    # client secret or a certificate. delegated: the rep's read-only consent,
    # tokens kept encrypted in the database (no secret in this file).
    auth: Literal["app", "delegated"] = "app"
    client_secret: Secret | None = None
    # A certificate instead of a secret (Microsoft's recommendation): the
    # public certificate uploaded to the app registration (PEM, relative to
    # the YAML file) and its private key (PEM), a secret reference.
    certificate: Path | None = None
    certificate_key: Secret | None = Field(default=None, validate_default=True)
    # The national cloud's hosts (US Government: login.microsoftonline.us and
    # graph.microsoft.us; China: login.chinacloudapi.cn and
    # microsoftgraph.chinacloudapi.cn).
    authority: ServiceUrl = "https://login.microsoftonline.com"
    graph_root: ServiceUrl = "https://graph.microsoft.com"
    # A CA bundle (PEM) to trust instead of the system's: a TLS-inspecting proxy's CA.
    ca_file: Path | None = None
    user: Text = Field(default=None, validate_default=True)  # user id or UPN; default: first owner
    # Mail folders by well-known name (inbox, sentitems, archive, ...) or path
    # of display names from the top of the mailbox ("Inbox/Customers").
    folders: Names = ("inbox", "sentitems")
    calendar: Flag = True  # also sync calendars
    calendars: Names = ("primary",)  # "primary" or calendar ids

    _user = field_validator("user", mode="before")(_first_owner)
    _ca_file = field_validator("ca_file", mode="after")(readable_ca_file)

    _certificate_file = field_validator("certificate", mode="after")(
        existing_file("certificate", "certificate")
    )

    @field_validator("certificate_key", mode="after")
    @classmethod
    def _secret_or_certificate(cls, key: Secret | None, info: ValidationInfo) -> Secret | None:
        if "certificate" in info.data and (key is None) != (info.data["certificate"] is None):
            raise invalid("credentials", "certificate and certificate_key go together")
        if info.data.get("auth") == "delegated":
            if key is not None or info.data.get("client_secret") is not None:
                raise invalid(
                    "credentials",
                    "auth: delegated uses the rep's own sign-in "
                    "(autocapture auth microsoft ACCOUNT), no client_secret or certificate",
                )
            return None
        return _one_credential(key, "client_secret", info, required=True)


# "package.module:callable", each part a Python identifier path.
_FACTORY = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
OptionValue = (
    Annotated[str, Strict()] | Annotated[int, Strict()] | Annotated[float, Strict()] | Flag
)


def _factory_path(value: object) -> object:
    if isinstance(value, str) and _FACTORY.fullmatch(value.strip()):
        return value.strip()
    raise invalid("factory", f'expected "package.module:function", got {shown(value)}')


class PluginAccount(AccountBase):
    """A connector this package does not ship, loaded from ``factory`` ("module:function").

    The function is called as ``factory(name, options, window, limits)`` and
    returns a ``connectors.base.Connector``; ``options`` are handed to it
    as given. The module is imported by the agent, like its own code: only
    an admin who may install code on the machine should write this key.
    """

    kind: Literal["plugin"]
    factory: Annotated[str, BeforeValidator(_factory_path)]
    options: dict[str, OptionValue] = Field(default_factory=dict)


ACCOUNT_MODELS: dict[str, type[AccountBase]] = {
    "archive": ArchiveAccount,
    "imap": ImapAccount,
    "gmail": GmailAccount,
    "microsoft": MicrosoftAccount,
    "caldav": CaldavAccount,
    "plugin": PluginAccount,
}
ACCOUNT_KINDS = tuple(ACCOUNT_MODELS)

AccountSettings = Annotated[
    ArchiveAccount | ImapAccount | GmailAccount | MicrosoftAccount | CaldavAccount | PluginAccount,
    Field(discriminator="kind"),
]
