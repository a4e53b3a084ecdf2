"""pyproject.toml in the form current setuptools builds without deprecation notices.

``make demo`` installs the project first; setuptools 77 and later print a
deprecation block (three times, once per build hook) for a license written
as a TOML table, which was a new user's first screen.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.licenses import canonicalize_license_expression
from packaging.requirements import Requirement

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_license_is_an_spdx_expression_and_setuptools_is_new_enough_to_read_it() -> None:
    config = tomllib.loads(PYPROJECT.read_text())
    license_ = config["project"]["license"]
    assert isinstance(license_, str), "a TOML table is deprecated since setuptools 77"
    assert canonicalize_license_expression(license_) == "Apache-2.0"
    [setuptools] = [
        Requirement(r) for r in config["build-system"]["requires"] if r.startswith("setuptools")
    ]
    # setuptools before 77 refuses a string license (PEP 639), so no older one may be chosen.
    assert not setuptools.specifier.contains("76.1.0")
    assert setuptools.specifier.contains("77.0.0")
