"""The building blocks of every settings model: frozen models that forbid
unknown keys, the annotated value types the YAML keys share, and paths
anchored to the configuration file's folder.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def readable_ca_file(path: Path | None, info: ValidationInfo) -> Path | None:
    """A CA bundle path anchored like every path of the file; it must exist."""
    if path is None:
        return None
    path = anchored(path, info)
    if not path.is_file():
        raise invalid("ca_file", f"no CA bundle at {str(path)!r}")
    return path


class FrozenSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
