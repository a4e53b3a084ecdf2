"""Configuration files the end-to-end tests run the CLI with."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

CONFIG = """\
database_url: sqlite:///{db}
org_domains: [northwind-labs.example]
accounts:
{accounts}
"""


ARCHIVE = """\
  - name: {name}
    kind: archive
    owner: [alice@northwind-labs.example]
    backfill: 36500d
    privacy: full
    paths: [{path}]
"""


def write_config(tmp_path: Path, accounts: str) -> Path:
    config = tmp_path / "autocapture.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "capture.db", accounts=accounts))
    return config


OWNER = "alice@northwind-labs.example"


def email(when: datetime, n: int) -> bytes:
    return (
        f"From: Ann Lee <ann@initech.example>\r\nTo: Alice <{OWNER}>\r\n"
        f"Subject: Pilot {n}\r\nDate: {when.strftime('%a, %d %b %Y %H:%M:%S +0000')}\r\n"
        f"Message-ID: <status-{n}@initech.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nShall we start?\r\n"
    ).encode()


def archive_config(tmp_path: Path, archive: Path, backfill: str = "365d") -> Path:
    config = tmp_path / "autocapture.yaml"
    config.write_text(
        f"database_url: sqlite:///{tmp_path / 'status.db'}\n"
        "org_domains: [northwind-labs.example]\n"
        "accounts:\n"
        "  - name: alice\n"
        "    kind: archive\n"
        f"    owner: [{OWNER}]\n"
        f"    paths: [{archive}]\n"
        f"    backfill: {backfill}\n"
    )
    return config
