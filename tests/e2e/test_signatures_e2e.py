"""Signature enrichment end to end: the sample archive's signatures enrich its contacts.

The real agent pass (archive connector, matcher, storage) captures
``examples/sample-archive`` with demo.yaml (phone_region US) on SQLite and
PostgreSQL; expectations come from tests/sample_expected.py, worked out by
hand from the archive.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests import sample_expected as want
from tests.e2e.sample import EXAMPLES, autocapture, demo_config_text


def contact(db: Any, email: str) -> Any:
    [summary] = db.search_contacts(email)
    detail = db.get_contact(summary.id)
    assert detail is not None
    return detail


@pytest.mark.parametrize("email", sorted(want.EXPECTED_SIGNATURES))
def test_every_signature_gives_its_sender_exactly_that_title_and_those_phones(
    captured: Any, email: str
) -> None:
    expected = want.EXPECTED_SIGNATURES[email]
    detail = contact(captured, email)
    phones = {f.value for f in detail.fields if f.field.startswith("phone")}
    assert (detail.value("title"), phones) == (expected.title, set(expected.phones))
    title = next(f for f in detail.fields if f.field == "title")
    assert title.owner == "observed"
    assert title.observation is not None and title.observation.confidence >= 0.5
    assert title.observation.account in ("alice", "bob")


@pytest.mark.parametrize(
    ("email", "field", "value"),
    [(email, field, value) for email, (field, value) in want.SIGNATURE_NOT_THEIRS.items()],
)
def test_text_that_is_not_theirs_is_never_attributed(
    captured: Any, email: str, field: str, value: str
) -> None:
    detail = contact(captured, email)
    assert (field, value) not in {(o.field, o.value) for o in detail.history}
    assert detail.value(field) != value


def test_nobody_else_gets_a_title(captured: Any) -> None:
    for email in want.EXPECTED_CONTACTS:
        if email not in want.EXPECTED_SIGNATURES:
            assert contact(captured, email).value("title") is None, email


@pytest.fixture
def demo_config(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(demo_config_text(f"sqlite:///{tmp_path / 'demo.db'}"))
    return path


def test_contacts_show_prints_the_title_with_where_and_when(demo_config: Path) -> None:
    assert autocapture("--config", str(demo_config), "sync").returncode == 0
    email = "tom.becker@acme-robotics.example"
    found = autocapture("--config", str(demo_config), "contacts", "search", email, "--json")
    [row] = [json.loads(line) for line in found.stdout.splitlines()]
    shown = autocapture("--config", str(demo_config), "contacts", "show", str(row["id"]))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    at = lines.index("  title          CTO")
    provenance = lines[at + 1].strip()
    # His last signed message, and the span of the five that carry his title;
    # his earlier mail ended with the same block, so repetition confirms it.
    assert re.fullmatch(
        r'seen 2026-06-05 in "RE: Acme Robotics - order form and MSA redlines" '
        r"\(interaction \d+, alice\), confidence 0\.90; 5 times since 2026-02-11",
        provenance,
    ), provenance
    assert "  phone          +12025550146" in lines  # his signature gives no label


THREAD = EXAMPLES / "sample-archive/bob/Maildir/cur/1768485720.M000006P4242.bob-laptop,S=3049:2,S"


def test_inspect_prints_each_zone_its_author_and_signature_fields() -> None:
    result = autocapture("inspect", str(THREAD), "--json")
    assert result.returncode == 0, result.stderr
    [report] = [json.loads(line) for line in result.stdout.splitlines()]
    zones = [
        (z["zone"], z["kind"], z["author"], z["lines"], z["chars"], z["signature"])
        for z in report["signatures"]
    ]
    assert zones == [
        (0, "own", "priya.shah@acme-robotics.example", [1, 3], [0, 81], None),
        (1, "reply", "bob@northwind-labs.example", [6, 17], [165, 488], signed_at(15, 17)),
        (2, "reply", "priya.shah@acme-robotics.example", [20, 29], [582, 859], signed_at(26, 29)),
        (3, "reply", "alice@northwind-labs.example", [32, 48], [957, 1584], signed_at(45, 48)),
        (4, "reply", "priya.shah@acme-robotics.example", [51, 67], [1691, 2294], signed_at(64, 67)),
    ]
    priya = {(f["field"], f["value"]) for f in report["signatures"][2]["fields"]}
    assert priya == {
        ("name", "Priya Shah"),
        ("title", "VP Operations"),
        ("company", "Acme Robotics"),
        ("phone:office", "+12025550143"),
        ("phone:mobile", "+12025550144"),
    }
    text = autocapture("inspect", str(THREAD)).stdout.splitlines()
    at = text.index(
        "zone 2 (reply) lines 20-29 [582:859] by priya.shah@acme-robotics.example (Priya Shah)"
    )
    assert text[at + 1 : at + 5] == [
        "  named: from priya.shah@acme-robotics.example",
        "  signature lines 26-29, confidence 1.00",
        "  name: Priya Shah  (confidence 0.90)",
        "  title: VP Operations  (confidence 0.80)",
    ]


def signed_at(first: int, last: int) -> dict[str, Any]:
    return {"lines": [first, last], "confidence": 1.0}
