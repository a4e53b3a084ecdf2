"""Configuration text as the config tests write it, and how they read the loader's verdict."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from config import ConfigError, load_text, run_check

EXAMPLE = Path(__file__).resolve().parents[1] / "config" / "example.yaml"


def problems_of(text: str, filename: str = "autocapture.yaml") -> list[tuple[int, str, str]]:
    with pytest.raises(ConfigError) as caught:
        load_text(textwrap.dedent(text), filename)
    assert all(p.file == filename for p in caught.value.problems)
    return [(p.line, p.path, p.message) for p in caught.value.problems]


def checked(path: Path) -> tuple[int, list[str]]:
    """What `autocapture config check` prints for ``path``, and its exit status."""
    out = io.StringIO()
    status = run_check(path, out)
    return status, out.getvalue().splitlines()


def write(folder: Path, text: str, name: str = "autocapture.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def archive_with(line: str) -> str:
    """One archive account with ``line`` as its sixth line."""
    return f"""\
        accounts:
          - name: a
            kind: archive
            owner: a@example.com
            paths: a.mbox
            {line}
        """


# --- secrets -----------------------------------------------------------------------------------


def imap_with_password(value: str) -> str:
    return textwrap.dedent(
        f"""\
        accounts:
          - name: ann
            kind: imap
            owner: ann@example.com
            host: imap.example.com
            password: {value}
        """
    )
