"""``autocapture review`` and the explanations of ``contacts show`` and ``inspect --database``.

A mailbox where Ann Lee signs from her work address, then writes once from
another address at her company without a signature: capture cannot be sure,
so the address waits for review; accepting it makes it hers, and ``contacts
show`` says why each of her addresses is hers.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.sample import autocapture

OWNER = "owner@northwind-labs.example"
SIGNED = """From ann.lee@initech.example Mon Mar  2 09:00:00 2026
From: Ann Lee <ann.lee@initech.example>
To: {owner}
Subject: Renewal
Message-ID: <a1@initech.example>
Date: Mon, 2 Mar 2026 09:00:00 +0000

Thanks, the renewal works for us.

Best regards,
Ann Lee
VP Sales
Initech
Mobile: +1 415 555 0123

"""
UNSIGNED = """From ann.lee@initech.example Tue Mar  3 09:00:00 2026
From: Ann Lee <alee@initech.example>
To: {owner}
Subject: Quick note
Message-ID: <a2@initech.example>
Date: Tue, 3 Mar 2026 09:00:00 +0000

Sent from my phone.

"""
ALIAS = """From: Robert Lee <robert.lee@initech.example>
To: {owner}
Subject: Hello
Message-ID: <a3@initech.example>
Date: Wed, 4 Mar 2026 09:00:00 +0000

Hi.
"""
CONFIG = """database_url: sqlite:///{db}
org_domains: [northwind-labs.example]
creation:
  person: always
phone_region: US
accounts:
  - name: owner
    kind: archive
    owner: [{owner}]
    paths: [{mbox}]
    backfill: 3650d
"""


def test_review_accept_then_show_explains_each_address(tmp_path: Path) -> None:
    mbox = tmp_path / "mail.mbox"
    mbox.write_text(SIGNED.format(owner=OWNER))
    config = tmp_path / "config.yaml"
    config.write_text(CONFIG.format(db=tmp_path / "a.db", owner=OWNER, mbox=mbox))
    assert autocapture("--config", str(config), "sync").returncode == 0
    # Scored resolution weighs stored contacts: the next mail arrives in a later sync.
    with mbox.open("a") as more:
        more.write(UNSIGNED.format(owner=OWNER))
    assert autocapture("--config", str(config), "sync").returncode == 0

    listed = autocapture("--config", str(config), "review", "list", "--json")
    [item] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (item["email"], item["score"], item["reasons"], item["state"]) == (
        "alee@initech.example",
        0.75,
        "name 1.00 + same company domain",
        "open",
    )
    shown = autocapture("--config", str(config), "review", "show", str(item["id"]))
    assert "score     0.75: name 1.00 + same company domain" in shown.stdout
    accepted = autocapture("--config", str(config), "review", "accept", str(item["id"]))
    assert (
        accepted.stdout
        == f"alee@initech.example is now an address of contact {item['contact_id']}\n"
    )
    again = autocapture("--config", str(config), "review", "accept", str(item["id"]))
    assert (again.returncode, again.stderr) == (
        1,
        f"autocapture: review {item['id']} is accepted already\n",
    )

    contact = autocapture("--config", str(config), "contacts", "show", str(item["contact_id"]))
    assert (
        "  alee@initech.example\n"
        "    review accepted (score 0.75: name 1.00 + same company domain)\n"
        "  ann.lee@initech.example\n"
        "    exact: the contact was created from it (policy:person:always)\n"
    ) in contact.stdout
    assert autocapture("--config", str(config), "review", "list", "--json").stdout == ""

    other = tmp_path / "robert.eml"
    other.write_text(ALIAS.format(owner=OWNER))
    inspected = autocapture(
        "--config", str(config), "inspect", str(other), "--database", "--owner", OWNER, "--json"
    )
    [report] = [json.loads(line) for line in inspected.stdout.splitlines()]
    [sender] = [p for p in report["plan"]["interactions"][0]["participants"] if p["role"] == "from"]
    # A different given name at the same company: not Ann, a new contact.
    assert (sender["decision"], sender["rule"]) == ("create", "policy:person:always")
