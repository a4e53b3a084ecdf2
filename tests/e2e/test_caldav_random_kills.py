"""A CalDAV backfill from a real Radicale, through the CLI, killed with SIGKILL at 20 random
points and restarted each time: the end state equals one uninterrupted capture.

The calendar holds 90 meetings over the backfill and look-ahead window, two
of them weekly series, so a capture takes many small batches and its
cursor (the sync token and the objects still to read) is committed with
each of them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import open_database
from tests.e2e.kills import assert_same, finish, killed_then_finished, seed
from tests.e2e.sample import snapshot
from tests.servers.radicale import CalendarUser, ics_event

pytestmark = pytest.mark.server

MEETINGS = 90
PASSWORD_VAR = "TEST_CALDAV_KILL_PASSWORD"
ME = ";CN=Rep One:mailto:rep1@ours.example"
ROOM = ";CN=Board Room;CUTYPE=ROOM:mailto:board@rooms.example"
PEOPLE = [f";CN=Client {k};PARTSTAT=ACCEPTED:mailto:c{k}@client{k % 6}.example" for k in range(30)]


def stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def load_calendar(user: CalendarUser) -> None:
    # Within the agent's window, which it computes from the real clock.
    first = (datetime.now(UTC) - timedelta(days=25)).replace(minute=0, second=0, microsecond=0)
    user.make_calendar("work")
    for n in range(MEETINGS):
        guests = (PEOPLE[n % 30], PEOPLE[(7 * n) % 30], *((ROOM,) if n % 5 == 0 else ()))
        weekly = ("RRULE:FREQ=WEEKLY;COUNT=4",) if n in (3, 40) else ()
        ics = ics_event(
            f"m{n}@ours.example",
            stamp(first + timedelta(hours=13 * n)),
            summary=f"Account review {n}",
            organizer=ME,
            attendees=guests,
            extra=weekly,
        )
        user.put("work", f"m{n}.ics", ics)


def write_config(folder: Path, name: str, user: CalendarUser) -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"database_url: sqlite:///{folder / (name + '.db')}\n"
        "org_domains: [ours.example]\n"
        "accounts:\n"
        f"  - name: rep1-calendar\n    kind: caldav\n    owner: rep1@ours.example\n"
        f"    url: {user.url}\n    username: {user.name}\n"
        f"    password: ${{{PASSWORD_VAR}}}\n"
        "    allow_plaintext: true\n"  # Radicale on loopback, over http://
        "    backfill: 30d\n    lookahead: 30d\n    batch_size: 4\n"
    )
    return path


def lasting(cursors: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """The cursors without what depends on when a run ran: the discovery's time, the
    window end the series were expanded to, and ``initial``, which a run that
    resumed with nothing pending clears when it polls (it only matters while the
    first listing is being drained, and both runs end with nothing pending)."""
    kept = set()
    for account, stream, text in cursors:
        cursor = json.loads(text)
        assert cursor["pending"] == [] and not cursor["truncated"], cursor
        cursor["discovery"].pop("at")
        for key in ("expanded_until", "initial"):
            cursor.pop(key)
        kept.add((account, stream, json.dumps(cursor, sort_keys=True)))
    return kept


def test_caldav_backfill_killed_at_20_random_points_equals_an_uninterrupted_run(
    radicale: CalendarUser, tmp_path: Path
) -> None:
    drawn = seed()
    load_calendar(radicale)
    env = {PASSWORD_VAR: radicale.password}
    finish(write_config(tmp_path, "reference", radicale), env)
    expected = snapshot(open_database(f"sqlite:///{tmp_path / 'reference.db'}").engine)
    # Every meeting in the window, and the two series' three later occurrences each.
    assert (len(expected["interactions"]), len(expected["sources"])) == (96, 96)
    victim, victim_db = write_config(tmp_path, "victim", radicale), tmp_path / "victim.db"
    got, note = killed_then_finished(victim, victim_db, len(expected["sources"]), drawn, env)
    assert lasting(got.pop("cursors")) == lasting(expected.pop("cursors")), note
    assert_same(got, expected, note)
