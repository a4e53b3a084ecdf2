"""The building blocks of every settings model: frozen models that forbid
unknown keys, the annotated value types the YAML keys share, and paths
anchored to the configuration file's folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Strict,
    StringConstraints,
    ValidationInfo,
)

from config.values import (
    Domain,
    EmailAddress,
    Host,
    invalid,
    one_or_many,
)

Text = Annotated[str, Strict(), StringConstraints(strip_whitespace=True, min_length=1)]
Addresses = Annotated[tuple[EmailAddress, ...], BeforeValidator(one_or_many)]
Domains = Annotated[tuple[Domain, ...], BeforeValidator(one_or_many)]
Hosts = Annotated[tuple[Host, ...], BeforeValidator(one_or_many)]
Names = Annotated[tuple[Text, ...], BeforeValidator(one_or_many)]
Flag = Annotated[bool, Strict()]


def anchored(path: Path, info: ValidationInfo) -> Path:
    """``path`` with ~ expanded and, if relative, joined to the YAML file's folder.

    The agent runs as a service whose working directory is nobody's choice, so
    a relative path means "next to the config file", never "wherever we are".
    """
    context = info.context if isinstance(info.context, Mapping) else {}
    return Path(context.get("base_dir") or Path.cwd()) / path.expanduser()


def existing_file(key: str, what: str) -> Callable[[Path | None, ValidationInfo], Path | None]:
    """A validator for a path to a file that must exist, anchored like every path
    of the configuration; a missing one is reported as "no ``what`` at PATH"."""

    def check(path: Path | None, info: ValidationInfo) -> Path | None:
        if path is None:
            return None
        path = anchored(path, info)
        if not path.is_file():
            raise invalid(key, f"no {what} at {str(path)!r}")
        return path

    return check


readable_ca_file = existing_file("ca_file", "CA bundle")


class FrozenSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
