"""A contact's fields do not depend on the order its mail is read in.

The real agent pass (archive connector, matcher, storage) captures two
folders of one rep: INBOX, where a customer's signed first message sits,
and Sent, with the rep's reply that makes her a contact under the default
policy (on_exchange). Read INBOX first (as sync does when it is listed
first) or Sent first: the contact must come out the same.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from agent.sync import sync_once
from config.loader import load_text
from storage import open_database

JULIA = "julia.novak@contoso-mfg.example"
SIGNED = f"""\
From: Julia Novak <{JULIA}>
To: Sam Reed <sam.reed@northwind-labs.example>
Subject: Pricing for the 2027 frame agreement
Date: Tue, 03 Nov 2026 09:12:00 +0100
Message-ID: <CAF3x9=novak-0001@mail.contoso-mfg.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Hi Sam,

we would like a quote for 400 units for the 2027 frame agreement.
Could you send it by Friday?

Best regards,
Julia Novak
Head of Procurement
Contoso Manufacturing GmbH
Tel. +49 89 4520 1187 | Mobile +49 171 555 0134
"""
REPLY = f"""\
From: Sam Reed <sam.reed@northwind-labs.example>
To: {JULIA}
Subject: RE: Pricing for the 2027 frame agreement
Date: Wed, 04 Nov 2026 16:40:00 +0100
Message-ID: <20261104154000.7731@mail.northwind-labs.example>
In-Reply-To: <CAF3x9=novak-0001@mail.contoso-mfg.example>
MIME-Version: 1.0
Content-Type: text/plain; charset="utf-8"

Julia,

the quote is attached. Happy to go through it on a call.

Sam
"""


def capture(tmp_path: Path, db_url: str, folders: list[str]) -> Any:
    for folder, text in (("INBOX", SIGNED), ("Sent", REPLY)):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / "1.eml").write_text(text)
    paths = "".join(f"\n      - {tmp_path / f}" for f in folders)
    settings = load_text(
        f"""\
database_url: {db_url}
org_domains: [northwind-labs.example]
accounts:
  - name: sam
    kind: archive
    owner: [sam.reed@northwind-labs.example]
    paths:{paths}
    backfill: 36500d
""",
        base_dir=tmp_path,
    )
    db = open_database(settings.database_url)
    [report] = sync_once(settings, db)
    assert (report.outcome, report.new_contacts, report.new_interactions) == ("ok", 1, 2)
    return db


def fields(db: Any) -> dict[str, str]:
    [summary] = db.search_contacts(JULIA)
    detail = db.get_contact(summary.id)
    return {f.field: f.value for f in detail.fields}


@pytest.mark.parametrize("folders", [["INBOX", "Sent"], ["Sent", "INBOX"]])
def test_fields_of_earlier_mail_reach_the_contact_whatever_the_order(
    tmp_path: Path, db_url: str, folders: list[str]
) -> None:
    db = capture(tmp_path, db_url, folders)
    assert fields(db) == {
        "name": "Julia Novak",
        "given_name": "Julia",
        "family_name": "Novak",
        "title": "Head of Procurement",
        "company": "Contoso Manufacturing GmbH",
        "phone": "+498945201187",
        "phone:mobile": "+491715550134",
    }
    # Nothing is left waiting for an address once its contact exists.
    with db.engine.connect() as conn:
        left = conn.exec_driver_sql("SELECT count(*) FROM address_observations").scalar()
    db.close()
    assert left == 0
