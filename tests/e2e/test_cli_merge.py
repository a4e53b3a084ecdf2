"""``contacts merge``, ``unmerge``, ``show`` of a merged id, ``list --stale``, from the shell."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.e2e.sample import autocapture, demo_config_text

SAMIR = "samir.haddad@initech.example"
LENA = "lena.fischer@initech.example"


def lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def runner(config: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``autocapture --config config`` with the arguments given."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return autocapture("--config", str(config), *args)

    return run


def test_merge_show_unmerge(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text(demo_config_text(f"sqlite:///{tmp_path / 'demo.db'}"))
    run = runner(config)
    assert run("sync").returncode == 0
    ids = {c["emails"][0]: c["id"] for c in lines(run("contacts", "search", "initech", "--json"))}
    samir, lena = ids[SAMIR], ids[LENA]
    (last,) = lines(run("changes", "--json", "--limit", "100000"))[-1:]

    merged = run("contacts", "merge", str(samir), str(lena), "--reason", "dup", "--by", "ann")
    assert merged.returncode == 0, merged.stderr
    assert merged.stdout.startswith(f"m1: contact {lena} merged into {samir} on ")
    assert " by ann: dup (" in merged.stdout

    shown = run("contacts", "show", str(lena))
    assert shown.stdout.splitlines()[:3] == [
        f"contact {lena} was merged into contact {samir}",
        f"contact {samir}",
        f"  emails    {LENA}, {SAMIR}",
    ]
    assert f"  m1: contact {lena} merged into {samir} on " in shown.stdout
    (as_json,) = lines(run("contacts", "show", str(lena), "--json"))
    assert (as_json["id"], sorted(as_json["emails"])) == (samir, [LENA, SAMIR])
    feed = [
        (c["entity_id"], c["operation"], c["other_id"])
        for c in lines(run("changes", "--since", str(last["id"]), "--json"))
    ]
    assert feed == [(lena, "merge", samir), (samir, "update", None)]

    again = run("contacts", "merge", str(samir), str(lena))
    assert (again.returncode, again.stderr) == (
        1,
        f"autocapture: contact {lena} was merged into contact {samir} already\n",
    )
    undone = run("contacts", "unmerge", "m1", "--by", "ann")
    changed = merged.stdout.split(" (", 1)[1].split(" rows changed", 1)[0]
    assert int(changed) > 2  # two contact rows, addresses, participants, observations
    assert undone.stdout == (
        f"undid m1: contact {lena} is separate from {samir} again ({changed} rows restored)\n"
    )
    assert [c["emails"] for c in lines(run("contacts", "show", str(lena), "--json"))] == [[LENA]]
    assert run("contacts", "unmerge", str(lena)).stderr == (
        f"autocapture: contact {lena} has no merge to undo\n"
    )
    assert run("contacts", "unmerge", "first").returncode == 2


def test_stale_listing(tmp_path: Path) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text(demo_config_text(f"sqlite:///{tmp_path / 'demo.db'}"))
    run = runner(config)
    assert run("sync").returncode == 0
    everyone = lines(run("contacts", "list", "--json"))
    # The sample's mail ends 2026-11-20: a day ago, everyone is stale, longest unseen first.
    stale = lines(run("contacts", "list", "--stale", "1d", "--json"))
    assert [c["id"] for c in stale] == [
        c["id"] for c in sorted(everyone, key=lambda c: (c["last_seen_at"], c["id"]))
    ]
    assert stale[0] == {
        "id": stale[0]["id"],
        "name": "Aisha Rahman",
        "emails": ["aisha.rahman@umbrella-health.example"],
        "company": "Umbrella Health",
        "last_seen_at": "2026-03-05T20:00:00+00:00",
    }
    assert lines(run("contacts", "list", "--stale", "3650d", "--json")) == []
    bad = run("contacts", "list", "--stale", "soon")
    assert bad.returncode == 2 and "--stale" in bad.stderr
