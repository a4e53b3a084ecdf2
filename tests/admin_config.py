"""Settings built the way an admin writes them: YAML text, secrets as ${ENV} references."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from config.loader import load_text
from config.settings import Settings


def admin_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    org_domain: str,
    accounts: Mapping[str, Mapping[str, object]],
) -> Settings:
    """One account per entry; its "password" is set in the environment, never inline."""
    lines = [f"org_domains: [{org_domain}]", "accounts:"]
    for name, fields in accounts.items():
        lines.append(f"  - name: {name}")
        for key, value in fields.items():
            if key == "password":
                var = f"TEST_PW_{name.upper().replace('-', '_')}"
                monkeypatch.setenv(var, str(value))
                value = f"${{{var}}}"
            lines.append(f"    {key}: {value}")
    return load_text("\n".join(lines) + "\n", base_dir=tmp_path)
