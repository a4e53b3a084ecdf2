"""Value types of the config file: durations, secret references, addresses, domains, URLs.

Each parser turns YAML text into a typed value or raises a pydantic error
whose message is the one the user reads next to file:line, so the wording
lives here, once. Parsers quote the offending input (shortened) except for
secrets, whose input may be the very password someone pasted inline.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BeforeValidator, GetCoreSchemaHandler, PlainSerializer
from pydantic_core import PydanticCustomError, core_schema

from config.errors import SecretUnavailable
from connectors.records import normalize_email

# A secret file bigger than this is a wrong path (a key ring, a log), not a token.
MAX_SECRET_FILE_BYTES = 64 * 1024
# Longest duration text worth matching; longer input is garbage, not a duration.
MAX_DURATION_TEXT = 40
# Mail is younger than a century, and a backfill window starts at now minus
# the duration: a longer one would fall before year 1 and crash the agent.
MAX_DURATION = timedelta(days=36500)
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

_DURATION = re.compile(
    r"(?:(?P<weeks>[0-9]+)w)?(?:(?P<days>[0-9]+)d)?(?:(?P<hours>[0-9]+)h)?"
    r"(?:(?P<minutes>[0-9]+)m)?(?:(?P<seconds>[0-9]+)s)?"
)
_UNIT_SECONDS = {"weeks": 604_800, "days": 86_400, "hours": 3_600, "minutes": 60, "seconds": 1}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DOMAIN_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def invalid(code: str, message: str) -> PydanticCustomError:
    """A validation error whose message is shown to the user as written."""
    return PydanticCustomError(code, message)


def shown(value: object, limit: int = 40) -> str:
    """The user's input quoted for a message, cut short so garbage stays readable."""
    text = f'"{value}"' if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_duration(value: object, *, allow_zero: bool = True, example: str = '"5m"') -> timedelta:
    """A duration: "90s", "5m", "1h30m", "365d", "2w", or a whole number of seconds."""
    if isinstance(value, timedelta):
        seconds: float | None = value.total_seconds()
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and len(value) <= MAX_DURATION_TEXT:
        seconds = _duration_seconds(value.strip())
    else:
        seconds = None
    if seconds is None:
        raise invalid("duration", f"expected a duration like {example}, got {shown(value)}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        least = "zero or more" if allow_zero else "more than zero"
        raise invalid("duration", f"expected a duration of {least}, got {shown(value)}")
    if seconds > MAX_DURATION.total_seconds():
        longest = f"{MAX_DURATION.days}d ({MAX_DURATION.days // 365} years)"
        raise invalid("duration", f"expected a duration of at most {longest}, got {shown(value)}")
    return value if isinstance(value, timedelta) else timedelta(seconds=seconds)


def _duration_seconds(text: str) -> int | None:
    """Whole seconds, counted as integers so no input can overflow timedelta."""
    if text.isascii() and text.isdigit():  # str.isdigit() also accepts "²", which int() refuses
        return int(text)
    match = _DURATION.fullmatch(text)
    if not text or match is None:
        return None
    return sum(_UNIT_SECONDS[unit] * int(n) for unit, n in match.groupdict().items() if n)


def parse_backfill(value: object) -> timedelta:
    """A backfill window: a duration, or "all" for everything a source holds (``MAX_DURATION``)."""
    if isinstance(value, str) and value.strip().lower() == "all":
        return MAX_DURATION
    return parse_duration(value, example='"365d", or "all"')


def _positive_duration(value: object) -> timedelta:
    return parse_duration(value, allow_zero=False)


def format_duration(value: timedelta) -> str:
    """The config notation of a duration ("1h30m"), so a JSON dump reads like the file."""
    if value.microseconds or value < timedelta(0):
        return str(value.total_seconds())
    hours, seconds = divmod(value.seconds, 3600)
    units = zip("dhms", (value.days, hours, *divmod(seconds, 60)), strict=True)
    return "".join(f"{n}{unit}" for unit, n in units if n) or "0s"


_AS_TEXT = PlainSerializer(format_duration, when_used="json")
Duration = Annotated[timedelta, BeforeValidator(parse_duration), _AS_TEXT]
PositiveDuration = Annotated[timedelta, BeforeValidator(_positive_duration), _AS_TEXT]
Backfill = Annotated[timedelta, BeforeValidator(parse_backfill), _AS_TEXT]


def parse_email(value: object) -> str:
    """One email address, normalized the way connectors normalize them."""
    email = normalize_email(value) if isinstance(value, str) else ""
    local, _, domain = email.rpartition("@")
    # normalize_email keeps any domain text; an owner or blocklist entry must be a real one.
    if not local or _domain_or_empty(domain) != domain:
        raise invalid(
            "email", f'expected an email address like "ann@example.com", got {shown(value)}'
        )
    return email


def parse_domain(value: object) -> str:
    """A domain name, lower-cased and IDNA-encoded so it compares with normalized emails."""
    domain = _domain_or_empty(value.strip().rstrip(".")) if isinstance(value, str) else ""
    if not domain:
        raise invalid("domain", f'expected a domain like "example.com", got {shown(value)}')
    return domain


def _domain_or_empty(text: str) -> str:
    try:
        domain = text.lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels):
        return ""
    return domain


def one_or_many(value: object) -> object:
    """Let a single item stand for a one-item list ("owner: ann@x.com").

    An empty key ("domains:" with every item commented out) is YAML null and
    means an empty list; keys whose None has a meaning ("folders") declare
    ``| None`` and keep it, since the union matches None first.
    """
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value


EmailAddress = Annotated[str, BeforeValidator(parse_email)]
Domain = Annotated[str, BeforeValidator(parse_domain)]


def parse_service_url(value: object) -> str:
    """An http(s) URL without credentials; plain http only to a loopback host.

    Tokens sent over plain http to a remote host would leak; loopback http is
    what test fakes and local proxies use.
    """
    parts = urlsplit(value.strip()) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid("url", f'expected a URL like "https://host/path", got {shown(value)}')
    if parts.username is not None or parts.password is not None:
        raise invalid("url", "URLs must not carry credentials; use the account's secret keys")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise invalid(
            "url", "plain http:// is allowed only to 127.0.0.1 or localhost; use https://"
        )
    assert isinstance(value, str)
    return value.strip()


ServiceUrl = Annotated[str, BeforeValidator(parse_service_url)]


def parse_host(value: object) -> str:
    """A host name or IP address, optionally with ``:port`` ("dav.example.com", "[::1]:8443").

    Lower-cased and IDNA-encoded, as the HTTP client compares it with a URL's host.
    """
    text = value.strip().lower() if isinstance(value, str) else ""
    parts = urlsplit(f"//{text}") if text and not set(text) & set("/?#@ ") else None
    try:
        port = parts.port if parts is not None else None
    except ValueError:
        parts = None
    host = _host_or_empty(parts.hostname or "") if parts is not None else ""
    if not host:
        raise invalid(
            "host",
            f'expected a host name like "dav.example.com" or "host:port", got {shown(value)}',
        )
    if ":" in host:  # an IPv6 literal keeps its brackets, as in a URL
        host = f"[{host}]"
    return f"{host}:{port}" if port is not None else host


def _host_or_empty(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host if host == "localhost" else _domain_or_empty(host)


Host = Annotated[str, BeforeValidator(parse_host)]


@dataclass(frozen=True, slots=True)
class Secret:
    """A reference to a secret: ``${ENV_VAR}`` or ``file:/path``, resolved at the time of use.

    The resolved value is never stored here, so neither repr() nor a settings
    dump can show it; the reference itself is not secret.
    """

    source: Literal["env", "file"]
    name: str  # the variable name, or the absolute file path

    @property
    def reference(self) -> str:
        return f"${{{self.name}}}" if self.source == "env" else f"file:{self.name}"

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    def __str__(self) -> str:
        return self.reference

    def resolve(self) -> str:
        """The secret's current value; raises SecretUnavailable naming the reference."""
        if self.source == "env":
            value = os.environ.get(self.name)
            if not value:
                raise SecretUnavailable(self.reference, "the environment variable is not set")
            return value
        return self._read_file()

    def _read_file(self) -> str:
        try:
            # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
            fd = os.open(self.name, os.O_RDONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise SecretUnavailable(self.reference, exc.strerror or type(exc).__name__) from None
        try:
            # Checked on the descriptor before wrapping it: os.fdopen raises
            # IsADirectoryError for a directory, which is not a secret's error.
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                kind = (
                    "it is a directory, not a file" if stat.S_ISDIR(mode) else "not a regular file"
                )
                raise SecretUnavailable(self.reference, kind)
            with os.fdopen(fd, "rb", closefd=False) as handle:
                data = handle.read(MAX_SECRET_FILE_BYTES + 1)
        except OSError as exc:
            raise SecretUnavailable(self.reference, exc.strerror or type(exc).__name__) from None
        finally:
            os.close(fd)
        if len(data) > MAX_SECRET_FILE_BYTES:
            raise SecretUnavailable(self.reference, "the file is larger than 64 KiB")
        # Editors and `echo > file` add a final newline that is not part of the token.
        value = data.decode("utf-8", errors="replace").rstrip("\r\n")
        if not value:
            raise SecretUnavailable(self.reference, "the file is empty")
        return value

    def exposure(self) -> str | None:
        """Why a readable secret file may leak (for `config check`), or None."""
        if self.source == "env":
            return None
        try:
            mode = os.stat(self.name).st_mode
        except OSError:
            return None
        if stat.S_ISREG(mode) and mode & (stat.S_IRWXG | stat.S_IRWXO):
            return f"{self.reference} is readable by other users; chmod 600 it"
        return None

    @classmethod
    def parse(cls, value: object) -> Secret:
        if isinstance(value, Secret):
            return value
        text = value.strip() if isinstance(value, str) else ""
        env = _ENV_REF.fullmatch(text)
        if env:
            return cls("env", env.group(1))
        if text.startswith("file:"):
            path = Path(text[5:]).expanduser()
            if not path.is_absolute():
                raise invalid(
                    "secret", "file secrets need an absolute path: file:/path or file:~/path"
                )
            return cls("file", str(path))
        # Never quote the input: it is most likely the secret itself.
        raise invalid("secret", "write secrets as ${ENV_VAR} or file:/path, never inline")

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse,
            # Dumps hold the reference, never a value, and validate back to the same Secret.
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
