"""ArchiveConnector on real files: the connector contract for every flavour, then exact outcomes."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from agent.connections import build_connector
from config.accounts import ArchiveAccount
from connectors.archive.connector import ArchiveConnector
from connectors.base import ConfigurationError, CursorExpired, Limits
from connectors.records import Cursor, IngestError, Meeting, Message, Record, SourceRef
from tests.archives import ACCOUNT, FROM_LINE, LIMITS, WINDOW, message
from tests.contract import ConnectorContract, drain

GARBAGE = bytes(range(256)).replace(b"\n", b"") * 4


def ics(uid: str, *extra: str, start: str = "20260310T140000Z") -> bytes:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "BEGIN:VEVENT", f"UID:{uid}"]
    lines += [f"DTSTART:{start}", "SUMMARY:Call", *extra, "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(lines).encode()


class MboxHarness:
    def __init__(self, root: Path) -> None:
        self.path = root / "All mail.mbox"
        self.path.write_bytes(b"")
        self.stream = str(self.path)

    def make_connector(self) -> ArchiveConnector:
        return ArchiveConnector(ACCOUNT, [self.path], WINDOW, LIMITS)

    def append(self, raw: bytes) -> None:
        with self.path.open("ab") as f:
            # mboxrd: every message ends with a line break and an empty line.
            end = b"\n" if raw.endswith(b"\n") else b"\n\n"
            f.write(FROM_LINE + raw + end)

    def add_item(self, n: int) -> str:
        self.append(message(n, body=">From the start, an escaped line\n"))
        return f"msgid:m{n}@example.org"

    def add_bad_item(self) -> str:
        self.append(GARBAGE)
        return "not-a-message"

    def remove_item(self, n: int) -> None:
        # Deleting from an mbox rewrites the file, which is an expired cursor
        # (test_expired_cursor_raises): the agent re-reads, nothing is removed.
        pytest.skip("an mbox reports a deletion as a rewritten file, not a removal")

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        # A mail client compacting the file: the first message is gone.
        data = self.path.read_bytes()
        self.path.write_bytes(data[data.index(b"\n\nFrom ") + 2 :])
        return cursor


class FilesHarness:
    """A folder of .eml files (in subfolders), or of .ics files, or a Maildir."""

    def __init__(self, root: Path, flavour: str) -> None:
        self.flavour = flavour
        self.path = root / flavour
        for sub in ("cur", "new", "tmp") if flavour == "maildir" else ("",):
            (self.path / sub).mkdir(parents=True, exist_ok=True)
        self.stream = str(self.path)

    def make_connector(self) -> ArchiveConnector:
        return ArchiveConnector(ACCOUNT, [self.path], WINDOW, LIMITS)

    def write(self, name: str, data: bytes) -> None:
        if self.flavour == "maildir":  # deliver as MTAs do: write in tmp/, rename into new/
            tmp = self.path / "tmp" / name
            tmp.write_bytes(data)
            tmp.rename(self.path / "new" / name)
            return
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def add_item(self, n: int) -> str:
        if self.flavour == "ics":
            self.write(f"e{n}.ics", ics(f"event-{n}"))
            return f"ical:event-{n}|"
        name = f"17726{n:05d}.M1P2.host" if self.flavour == "maildir" else f"sub{n % 2}/m{n}.eml"
        self.write(name, message(n))
        return f"msgid:m{n}@example.org"

    def add_bad_item(self) -> str:
        self.write("bad.ics" if self.flavour == "ics" else "bad.eml", GARBAGE)
        return "bad-ical" if self.flavour == "ics" else "not-a-message"

    def remove_item(self, n: int) -> None:
        # The cursor is a watermark over file times: it remembers no list of
        # the files it read, so a file gone from an export is not noticed.
        pytest.skip("archive folders are exports: a deleted file is not reported")

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        # The archive folder replaced by a fresh copy (a new export unpacked).
        moved = self.path.with_name(self.path.name + ".old")
        self.path.rename(moved)
        shutil.copytree(moved, self.path)
        return cursor


class TestMboxContract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> MboxHarness:
        return MboxHarness(tmp_path)


class TestMaildirContract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> FilesHarness:
        return FilesHarness(tmp_path, "maildir")


class TestEmlFolderContract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> FilesHarness:
        return FilesHarness(tmp_path, "eml")


class TestIcsFolderContract(ConnectorContract):
    @pytest.fixture
    def harness(self, tmp_path: Path) -> FilesHarness:
        return FilesHarness(tmp_path, "ics")


# ------------------------------------------------------------ exact outcomes


def fetch_all(
    path: Path, limits: Limits = LIMITS, limit: int = 100
) -> tuple[list[Record], list[IngestError], Cursor]:
    connector = ArchiveConnector(ACCOUNT, [path], WINDOW, limits)
    got = drain(connector, str(path), None, limit)
    assert got.cursor is not None
    return got.records, got.errors, got.cursor


def only_messages(records: list[Record]) -> list[Message]:
    assert all(isinstance(r, Message) for r in records)
    return [r for r in records if isinstance(r, Message)]


def test_mbox_records_window_and_oversized_message(tmp_path: Path) -> None:
    h = MboxHarness(tmp_path)
    h.append(message(1))
    h.append(message(2, date="Mon, 01 Dec 2025 09:00:00 +0000"))  # before the window: skipped
    h.append(message(3, body="x" * 1_500_000 + "\n"))  # spans chunk boundaries
    h.append(message(4, body="y" * 3_000_000 + "\n"))  # over max_message_bytes
    h.append(message(5))
    found, errors, _ = fetch_all(h.path, Limits(max_message_bytes=2_000_000), limit=2)
    records = only_messages(found)
    assert [(r.message_id, r.subject, r.date) for r in records] == [
        ("m1@example.org", "item 1", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
        ("m3@example.org", "item 3", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
        ("m5@example.org", "item 5", datetime(2026, 3, 3, 10, 15, tzinfo=UTC)),
    ]
    assert records[0].text == "Hello 1\n"
    # The size is that of the stored bytes, envelope line included.
    assert records[1].size == len(FROM_LINE + message(3, body="x" * 1_500_000 + "\n"))
    assert [e.reason for e in errors] == ["message-too-large"]
    # Provider ids are digests of the message bytes: the same on every re-read.
    again, _, _ = fetch_all(h.path, Limits(max_message_bytes=2_000_000))
    assert [r.source for r in again] == [r.source for r in records]
    assert all(r.source.provider_id.startswith("mbox:") for r in records)
    assert len({r.source.provider_id for r in records}) == 3


def test_mbox_last_message_id_does_not_change_when_mail_is_appended(tmp_path: Path) -> None:
    h = MboxHarness(tmp_path)
    h.append(message(1))
    [first], _, _ = fetch_all(h.path)
    h.append(message(2))
    records, _, _ = fetch_all(h.path)
    assert records[0].source == first.source
    assert records[0] == first


def test_mbox_with_crlf_lines(tmp_path: Path) -> None:
    path = tmp_path / "export.mbox"
    one, two = (message(n).replace(b"\n", b"\r\n") for n in (1, 2))
    path.write_bytes(b"From a@b Tue Mar  3 10:15:00 2026\r\n" + one + b"\r\n")
    with path.open("ab") as f:
        f.write(b"From a@b Tue Mar  3 10:15:00 2026\r\n" + two + b"\r\n")
    found, errors, _ = fetch_all(path)
    assert [(r.message_id, r.text) for r in only_messages(found)] == [
        ("m1@example.org", "Hello 1\r\n"),
        ("m2@example.org", "Hello 2\r\n"),
    ]
    assert errors == []


def test_truncated_mbox_expires_the_cursor(tmp_path: Path) -> None:
    h = MboxHarness(tmp_path)
    for n in range(3):
        h.add_item(n)
    _, _, cursor = fetch_all(h.path)
    h.path.write_bytes(h.path.read_bytes()[:100])
    with pytest.raises(CursorExpired, match="truncated"):
        h.make_connector().fetch(h.stream, cursor, 10)


def test_maildir_ids_survive_flag_renames(tmp_path: Path) -> None:
    h = FilesHarness(tmp_path, "maildir")
    h.add_item(1)
    [first], _, cursor = fetch_all(h.path)
    assert first.source == SourceRef(ACCOUNT, h.stream, "maildir:1772600001.M1P2.host")
    (h.path / "new" / "1772600001.M1P2.host").rename(h.path / "cur" / "1772600001.M1P2.host:2,S")
    again = drain(h.make_connector(), h.stream, cursor, 10)
    # The rename changed the file's ctime: it is read again, as the same copy.
    assert [r.source for r in again.records] == [first.source]


def test_file_copied_in_with_an_old_mtime_is_still_read(tmp_path: Path) -> None:
    h = FilesHarness(tmp_path, "eml")
    h.add_item(1)
    _, _, cursor = fetch_all(h.path)
    h.write("late/m2.eml", message(2))
    os.utime(h.path / "late" / "m2.eml", ns=(978_307_200 * 10**9,) * 2)  # mtime in 2001
    again = drain(h.make_connector(), h.stream, cursor, 10)
    assert again.identities == ["msgid:m2@example.org"]
    assert again.records[0].source.provider_id.endswith(":late/m2.eml")


def test_invitation_mail_and_big_ics_file_paged_exactly(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    invite = (
        b"From: ann@example.com\nSubject: Call\nMessage-ID: <inv@x>\n"
        b"Date: Tue, 03 Mar 2026 10:15:00 +0000\n"
        b'Content-Type: multipart/alternative; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nJoin\n--b\nContent-Type: text/calendar; method=REQUEST\n\n"
        + ics("inv-1", "ORGANIZER;CN=Ann:mailto:ann@example.com", "ATTENDEE:mailto:bob@example.org")
        + b"\n--b--\n"
    )
    (folder / "invite.eml").write_bytes(invite)
    (folder / "weekly.ics").write_bytes(
        ics("wk", "RRULE:FREQ=WEEKLY;COUNT=7", start="20260105T100000Z")
    )
    (folder / "notes.txt").write_text("ignored: neither .eml nor .ics")
    connector = ArchiveConnector(ACCOUNT, [folder], WINDOW, LIMITS)
    got = drain(connector, str(folder), None, 3)
    assert got.batch_ends == [3, 6, 8]  # 1 message + 7 occurrences, 3 records a batch
    messages = [r for r in got.records if isinstance(r, Message)]
    meetings = [r for r in got.records if isinstance(r, Meeting)]
    assert [m.message_id for m in messages] == ["inv@x"]
    [carried] = messages[0].meetings
    assert (carried.uid, carried.method, [a.address.email for a in carried.attendees]) == (
        "inv-1", None, ["bob@example.org"],
    )  # fmt: skip
    assert [m.start.day for m in meetings] == [5, 12, 19, 26, 2, 9, 16]
    assert len({m.identity for m in meetings}) == 7


def test_single_ics_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "calendar.ics"
    path.write_bytes(ics("a"))
    records, errors, cursor = fetch_all(path)
    assert ([r.identity for r in records], errors) == (["ical:a|"], [])
    assert (
        drain(ArchiveConnector(ACCOUNT, [path], WINDOW, LIMITS), str(path), cursor, 10).records
        == []
    )
    path.write_bytes(ics("a", "STATUS:CANCELLED"))
    again = drain(ArchiveConnector(ACCOUNT, [path], WINDOW, LIMITS), str(path), cursor, 10)
    assert [(r.identity, r.status) for r in again.records if isinstance(r, Meeting)] == [
        ("ical:a|", "cancelled")
    ]
    assert len(again.records) == 1


def test_single_eml_and_oversized_files(tmp_path: Path) -> None:
    path = tmp_path / "one.eml"
    path.write_bytes(message(7))
    found, _, _ = fetch_all(path)
    assert [(r.message_id, r.source.stream) for r in only_messages(found)] == [
        ("m7@example.org", str(path))
    ]
    big = tmp_path / "big"
    big.mkdir()
    (big / "huge.eml").write_bytes(message(8, body="z" * 5000))
    (big / "huge.ics").write_bytes(ics("h", "DESCRIPTION:" + "d" * 5000))
    records, errors, _ = fetch_all(big, Limits(max_message_bytes=1000, max_ical_bytes=1000))
    assert records == []
    assert sorted(e.reason for e in errors) == ["ical-too-large", "message-too-large"]


def test_missing_path_and_unknown_stream(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        ArchiveConnector(ACCOUNT, [tmp_path / "nope.mbox"], WINDOW, LIMITS)
    connector = ArchiveConnector(ACCOUNT, [tmp_path], WINDOW, LIMITS)
    with pytest.raises(ConfigurationError):
        connector.fetch(str(tmp_path / "other"), None, 10)


def test_the_agent_builds_one_stream_per_path(tmp_path: Path) -> None:
    (tmp_path / "a.mbox").write_bytes(b"")
    settings = ArchiveAccount.model_validate(
        {"name": "takeout", "kind": "archive", "owner": "me@example.com", "paths": ["a.mbox", "."]},
        context={"base_dir": tmp_path},
    )
    connector = build_connector(settings, WINDOW, LIMITS)
    assert isinstance(connector, ArchiveConnector) and connector.account == "takeout"
    assert connector.streams() == [str(tmp_path / "a.mbox"), str(tmp_path)]
