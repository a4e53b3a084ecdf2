"""``autocapture contacts import``: a CRM export from the shell, bad rows by line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.sample import autocapture, demo_config_text

EXPORT = (
    "\ufeffFirst Name,Last Name,Company,Job Title,E-mail Address\n"
    "Renée,Dubois,Globex Corporation,Head of Procurement,renee.dubois@globex.example\n"
    "Nobody,Here,,,\n"
    "Ann,Lee,Acme,CFO,ann.lee@acme.example\n"
)


def test_import_reports_bad_rows_and_is_idempotent(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text(demo_config_text(f"sqlite:///{tmp_path / 'demo.db'}"))
    export = tmp_path / "crm.csv"
    export.write_text(EXPORT, encoding="utf-8")
    assert autocapture("--config", str(config), "sync").returncode == 0

    first = autocapture("--config", str(config), "contacts", "import", str(export))

    assert first.returncode == 1  # one row was not imported
    assert first.stderr == f"{export}:3: no-email: no email address\n"
    assert first.stdout == f"{export}: 1 created, 1 updated, 0 unchanged, 1 not imported\n"
    found = autocapture("--config", str(config), "contacts", "search", "Dubois", "--json")
    [renee] = [json.loads(line) for line in found.stdout.splitlines()]  # the captured one
    shown = autocapture("--config", str(config), "contacts", "show", str(renee["id"]))
    assert "Head of Procurement" in shown.stdout and "set crm" in shown.stdout
    again = autocapture("--config", str(config), "contacts", "import", str(export))
    assert again.stdout == f"{export}: 0 created, 0 updated, 2 unchanged, 1 not imported\n"
    vcf = tmp_path / "crm.vcf"
    vcf.write_text("BEGIN:VCARD\nVERSION:4.0\nFN:Ann Lee\nEMAIL:Ann.Lee@acme.example\nEND:VCARD\n")
    cards = autocapture("--config", str(config), "contacts", "import", str(vcf))
    assert (cards.returncode, cards.stdout) == (
        0,
        f"{vcf}: 0 created, 1 updated, 0 unchanged, 0 not imported\n",
    )
    bad = autocapture(
        "--config", str(config), "contacts", "import", str(export), "--map", "phone=Tel"
    )
    assert bad.returncode == 2
