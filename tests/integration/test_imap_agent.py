"""IMAP accounts through the whole agent pass (config -> connector -> matcher -> storage).

What the user sees: the exact contacts and
interactions of a loaded mailbox, the next poll captures new mail and
nothing else, a UIDVALIDITY change resyncs without a duplicate, and a wrong
password marks only that account ``needs_reauth``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from agent.connections import Connections
from agent.sync import sync_once
from storage.database import Database, open_database
from tests.imap_mailbox import MAILBOX, REP, contacts, load, mail, settings_for
from tests.servers.dovecot import DovecotServer, MailUser, new_user
from tests.servers.imap_proxy import ImapProxy

pytestmark = pytest.mark.server


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    try:
        yield database
    finally:
        database.close()


def interactions(db: Database) -> dict[str, tuple[str, list[tuple[str, str]], list[str]]]:
    """identity -> (direction, [(participant, decision)], [source provider ids])."""
    found = {}
    for view in db.list_interactions(limit=1000):
        assert view.identity not in found, f"{view.identity} stored twice"
        found[view.identity] = (
            view.direction,
            sorted((p.email, p.decision) for p in view.participants),
            sorted(s.provider_id for s in view.sources),
        )
    return found


def test_a_loaded_mailbox_gives_exact_contacts_and_interactions_and_a_poll_adds_only_new_mail(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    (report,) = sync_once(settings, db)
    assert (report.outcome, report.records, report.errors) == ("ok", 5, 0)
    assert report.streams == ["INBOX", "Sent"]
    # Only Ann: a two-way exchange with a person. Not the newsletter, the
    # notification or the colleague.
    assert contacts(db) == [(("ann@northwind.example",), "Ann Lee")]
    got = interactions(db)
    assert sorted(got) == [f"msgid:m{n}@test.example" for n in range(1, 6)]
    assert got["msgid:m1@test.example"][0] == "inbound"
    assert got["msgid:m5@test.example"][0] == "outbound"
    assert got["msgid:m5@test.example"][2] == ["Sent/msgid:m5@test.example"]
    assert ("ann@northwind.example", "create") in (
        got["msgid:m1@test.example"][1] + got["msgid:m5@test.example"][1]
    )
    assert dovecot.flags("INBOX") == {1: (), 2: (), 3: (), 4: ()}  # nothing marked \Seen

    dovecot.append(
        "INBOX", [mail(6, "Ann Lee <ann@northwind.example>", REP, "Re: Pilot", "Great.\r\n")]
    )
    (again,) = sync_once(settings, db)
    assert (again.outcome, again.records) == ("ok", 1)
    assert sorted(interactions(db)) == [f"msgid:m{n}@test.example" for n in range(1, 7)]
    (idle,) = sync_once(settings, db)
    assert (idle.outcome, idle.records) == ("ok", 0)


def test_uidvalidity_change_resyncs_without_duplicates(
    dovecot: MailUser, db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load(dovecot)
    settings = settings_for(tmp_path, monkeypatch, {"rep": (dovecot, dovecot.password)})
    sync_once(settings, db)
    before_interactions, before_contacts = interactions(db), contacts(db)
    # The Sent folder is rebuilt (server migration): same mail, new UIDVALIDITY,
    # and one message that arrived meanwhile.
    late = mail(7, f"Dana <{REP}>", "Cleo Park <cleo@globex.example>", "Intro", "Hello Cleo.\r\n")
    dovecot.recreate("Sent", [*MAILBOX["Sent"], late])
    (report,) = sync_once(settings, db)
    assert (report.outcome, report.resynced) == ("ok", True)
    after = interactions(db)
    assert sorted(after) == sorted([*before_interactions, "msgid:m7@test.example"])
    for identity, row in before_interactions.items():
        assert after[identity] == row, identity  # same participants, same single copy
    assert contacts(db) == before_contacts  # Cleo was only written to: no exchange yet


def test_a_wrong_password_marks_only_that_account_needs_reauth(
    dovecot: MailUser,
    dovecot_server: DovecotServer,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(dovecot)
    other = new_user(dovecot_server)
    other.append("INBOX", [mail(8, "Eve Stone <eve@initech.example>", REP, "Hi", "Hi.\r\n")])
    wrong = "wrong-" + dovecot.password
    settings = settings_for(
        tmp_path,
        monkeypatch,
        {"locked": (other, wrong), "rep": (dovecot, dovecot.password)},
    )
    reports = {r.account: r for r in sync_once(settings, db)}
    assert {name: r.outcome for name, r in reports.items()} == {
        "locked": "needs_reauth",
        "rep": "ok",
    }
    assert "refused the credentials" in reports["locked"].message
    assert wrong not in reports["locked"].message
    assert {s.name: s.state for s in db.account_status()} == {"locked": "needs_reauth", "rep": "ok"}
    assert reports["rep"].records == 5
    assert "msgid:m8@test.example" not in interactions(db)


def test_the_agent_keeps_its_connection_so_an_idle_poll_is_one_status_per_folder(
    dovecot: MailUser,
    imap_proxy: ImapProxy,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    load(dovecot)
    through_proxy = SimpleNamespace(port=imap_proxy.port, name=dovecot.name)
    settings = settings_for(tmp_path, monkeypatch, {"rep": (through_proxy, dovecot.password)})
    connections = Connections()
    try:
        (first,) = sync_once(settings, db, connections=connections)
        assert (first.outcome, first.records) == ("ok", 5)
        imap_proxy.reset_counts()
        (idle,) = sync_once(settings, db, connections=connections)
        assert (idle.outcome, idle.records) == ("ok", 0)
        # No LOGIN, no LIST, no FETCH: the kept session asks each folder once.
        assert imap_proxy.command_names() == ["STATUS", "STATUS"]
    finally:
        connections.close_all()
