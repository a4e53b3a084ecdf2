"""The IMAP connector against a real Dovecot: the contract suite and IMAP specifics."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import Connector, CursorExpired, Limits, TransientError
from connectors.imap.connector import ImapConnector
from connectors.records import Batch, Cursor, Message
from tests.contract import ConnectorContract, drain
from tests.imap_client import connector_for
from tests.servers.dovecot import MailUser
from tests.servers.imap_proxy import ImapProxy
from tests.watchdog import terminates

pytestmark = pytest.mark.server


def mail(
    n: int,
    *,
    sender: str = "Ann Lee <ann@northwind.example>",
    to: str = "Dana <dana@acme.example>",
    subject: str | None = None,
    body: str = "Hello Dana,\r\n\r\nShall we meet on Tuesday?\r\n\r\n--\r\nAnn Lee\r\nCTO, Northwind\r\n",
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject or f'Message {n}'}\r\n"
        f"Date: Mon, 02 Nov 2026 10:{n % 60:02d}:00 +0000\r\nMessage-ID: <m{n}@northwind.example>\r\n"
        f"{extra}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}"
    ).encode()


class ImapHarness:
    stream = "Clients"  # a folder of its own: INBOX cannot be deleted to change UIDVALIDITY
    limits = Limits(max_header_bytes=8192)

    def __init__(self, user: MailUser) -> None:
        self.user = user
        self.items: list[bytes] = []
        user.append(self.stream, [])

    def make_connector(self) -> Connector:
        return connector_for(self.user, limits=self.limits, folders=[self.stream])

    def add_item(self, n: int) -> str:
        raw = mail(n)
        self.items.append(raw)
        self.user.append(self.stream, [raw])
        return f"msgid:m{n}@northwind.example"

    def add_bad_item(self) -> str:
        # Header fields, but none that tells this item from any other.
        self.user.append(self.stream, [b"X-Scanner: clean\r\n\r\nno identity at all\r\n"])
        return "not-a-message"

    def remove_item(self, n: int) -> None:
        # The cursor is a UID high-water mark and a copy is named by the
        # message's identity, not its UID: an expunged UID (VANISHED, RFC 7162)
        # cannot be mapped back to the copy it was without a UID map per folder.
        pytest.skip("the IMAP connector does not report expunged messages")

    def expire_cursor(self, cursor: Cursor) -> Cursor:
        self.user.recreate(self.stream, self.items)
        return cursor


class TestImapContract(ConnectorContract):
    @pytest.fixture
    def harness(self, dovecot: MailUser) -> ImapHarness:
        return ImapHarness(dovecot)


@pytest.fixture
def connector(dovecot: MailUser) -> Iterator[ImapConnector]:
    made = connector_for(dovecot)
    try:
        yield made
    finally:
        made.close()


def drain_all(connector: ImapConnector, cursors: dict[str, Cursor | None]) -> dict[str, Batch]:
    """One poll of every stream: the records of each and its final cursor."""
    out = {}
    for stream in connector.streams():
        got = drain(connector, stream, cursors.get(stream), 100)
        out[stream] = Batch(got.records, got.errors, got.cursor or {}, False)
    return out


INVITE = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
    "UID:review-1@northwind.example\r\nDTSTAMP:20261101T090000Z\r\n"
    "DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:Review\r\n"
    "ORGANIZER;CN=Ann Lee:mailto:ann@northwind.example\r\n"
    "ATTENDEE;CN=Dana;PARTSTAT=NEEDS-ACTION:mailto:dana@acme.example\r\n"
    "ATTENDEE;CUTYPE=ROOM;CN=Room 4:mailto:room4@northwind.example\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def invitation() -> bytes:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    ics = INVITE.format(
        start=start.strftime("%Y%m%dT%H%M%SZ"),
        end=(start + timedelta(hours=1)).strftime("%Y%m%dT%H%M%SZ"),
    )
    return (
        "From: Ann Lee <ann@northwind.example>\r\nTo: dana@acme.example\r\n"
        "Subject: Invitation: Review\r\nMessage-ID: <invite@northwind.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nJoin the review.\r\n"
        "--b1\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n"
        f"{ics}\r\n--b1--\r\n"
    ).encode()


def with_attachment(n: int, size: int) -> bytes:
    blob = base64.encodebytes(bytes(range(256)) * (size // 256)).decode().replace("\n", "\r\n")
    return (
        f"From: Ann Lee <ann@northwind.example>\r\nTo: dana@acme.example\r\n"
        f"Subject: Proposal\r\nMessage-ID: <m{n}@northwind.example>\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n\r\nHere is the proposal, Ren=E9.\r\n"
        "--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; "
        f'filename="p.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--b1--\r\n'
    ).encode()


def newsletter() -> bytes:
    return (
        "From: SaaS Weekly <news@saasweekly.example>\r\nTo: dana@acme.example\r\n"
        "Subject: =?utf-8?q?Caf=C3=A9_edition?=\r\nMessage-ID: <nl@saasweekly.example>\r\n"
        "List-Id: SaaS Weekly <list.saasweekly.example>\r\nPrecedence: bulk\r\n"
        "X-Not-Needed: this header is never fetched\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="a"\r\n\r\n'
        "--a\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>HTML <b>first</b></p>\r\n"
        "--a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode("Plain édition".encode()).decode()
        + "\r\n--a--\r\n"
    ).encode()


def test_a_loaded_mailbox_gives_exact_messages(dovecot: MailUser, connector: ImapConnector) -> None:
    dovecot.append("INBOX", [mail(1), with_attachment(2, 150_000), invitation(), newsletter()])
    dovecot.append("Sent", [mail(3, sender="Dana <dana@acme.example>", to="ann@northwind.example")])
    dovecot.append("Trash", [mail(4)])
    dovecot.append("Junk", [mail(5)])

    assert connector.streams() == ["INBOX", "Sent"]
    polled = drain_all(connector, {})
    inbox = {m.identity: m for m in polled["INBOX"].records if isinstance(m, Message)}
    assert sorted(inbox) == [
        "msgid:invite@northwind.example",
        "msgid:m1@northwind.example",
        "msgid:m2@northwind.example",
        "msgid:nl@saasweekly.example",
    ]
    # Mail without a Date is dated by its arrival, and says so.
    assert sorted((e.source.provider_id, e.reason) for e in polled["INBOX"].errors) == [
        ("INBOX/msgid:invite@northwind.example", "date-from-server"),
        ("INBOX/msgid:m2@northwind.example", "date-from-server"),
        ("INBOX/msgid:nl@saasweekly.example", "date-from-server"),
    ]
    plain = inbox["msgid:m1@northwind.example"]
    assert plain.header("from") == "Ann Lee <ann@northwind.example>"
    assert plain.header("to") == "Dana <dana@acme.example>"
    assert plain.subject == "Message 1"
    assert plain.date == datetime(2026, 11, 2, 10, 1, tzinfo=UTC)
    assert (
        plain.text
        == "Hello Dana,\r\n\r\nShall we meet on Tuesday?\r\n\r\n--\r\nAnn Lee\r\nCTO, Northwind\r\n"
    )
    assert plain.source.stream == "INBOX"
    assert plain.source.account == connector.account
    attached = inbox["msgid:m2@northwind.example"]
    assert attached.text == "Here is the proposal, René."  # the CRLF before a boundary is not text
    assert attached.size > 150_000
    news = inbox["msgid:nl@saasweekly.example"]
    assert news.subject == "Café edition"
    assert news.text == "Plain édition"
    assert not news.text_is_html
    assert news.header("list-id") == "SaaS Weekly <list.saasweekly.example>"
    assert news.header("x-not-needed") is None
    invite = inbox["msgid:invite@northwind.example"]
    assert invite.text == "Join the review."
    [meeting] = invite.meetings
    assert meeting.uid == "review-1@northwind.example"
    assert (
        meeting.organizer is not None and meeting.organizer.address.email == "ann@northwind.example"
    )
    assert [a.address.email for a in meeting.attendees if a.cutype == "INDIVIDUAL"] == [
        "dana@acme.example"
    ]
    [sent] = polled["Sent"].records
    assert sent.identity == "msgid:m3@northwind.example"
    assert sent.source.stream == "Sent"


def test_attachments_are_never_downloaded(dovecot: MailUser) -> None:
    dovecot.append("INBOX", [with_attachment(n, 300_000) for n in range(5)])
    made = connector_for(dovecot, folders=["INBOX"])
    got = drain(made, "INBOX", None, 100)
    made.close()
    assert len(got.records) == 5
    # Dovecot logs the bytes it sent per session: headers, structure and text only.
    [sent_bytes] = dovecot.server.sessions_out_bytes(dovecot.name)[-1:]
    assert sent_bytes < 5 * 4_000, sent_bytes


def test_text_is_capped_by_the_partial_fetch(dovecot: MailUser) -> None:
    dovecot.append("INBOX", [mail(1, body="x" * 100_000)])
    made = connector_for(dovecot, folders=["INBOX"], text_bytes=1000)
    [message] = drain(made, "INBOX", None, 10).records
    made.close()
    assert isinstance(message, Message) and message.text == "x" * 1000


def test_no_text_is_fetched_when_none_is_wanted(dovecot: MailUser, imap_proxy: ImapProxy) -> None:
    dovecot.append("INBOX", [mail(1)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"], text_bytes=0)
    [message] = drain(made, "INBOX", None, 10).records
    made.close()
    assert isinstance(message, Message) and message.text is None
    assert message.identity == "msgid:m1@northwind.example"
    assert imap_proxy.command_names().count("UID FETCH") == 1  # the structure FETCH only


def test_capture_leaves_seen_flags_untouched(dovecot: MailUser, connector: ImapConnector) -> None:
    dovecot.append("INBOX", [mail(n) for n in range(3)])
    with dovecot.client() as admin:
        admin.select_folder("INBOX")
        admin.add_flags([2], [b"\\Seen"])
    before = dovecot.flags("INBOX")
    assert len(drain(connector, "INBOX", None, 10).records) == 3
    assert dovecot.flags("INBOX") == before == {1: (), 2: (b"\\Seen",), 3: ()}


def test_next_poll_captures_new_mail_and_nothing_else(
    dovecot: MailUser, connector: ImapConnector
) -> None:
    dovecot.append("INBOX", [mail(n) for n in range(4)])
    first = drain_all(connector, {})
    cursors: dict[str, Cursor | None] = {s: b.next_cursor for s, b in first.items()}
    dovecot.append("INBOX", [mail(10)])
    dovecot.append("Sent", [mail(11, sender="dana@acme.example")])
    second = drain_all(connector, cursors)
    assert [r.identity for r in second["INBOX"].records] == ["msgid:m10@northwind.example"]
    assert [r.identity for r in second["Sent"].records] == ["msgid:m11@northwind.example"]
    cursors = {s: b.next_cursor for s, b in second.items()}
    third = drain_all(connector, cursors)
    assert all(b.records == [] and b.errors == [] for b in third.values())


def test_an_idle_poll_is_one_status_per_folder(dovecot: MailUser, imap_proxy: ImapProxy) -> None:
    dovecot.append("INBOX", [mail(n) for n in range(20)])
    dovecot.append("Sent", [mail(30)])
    made = connector_for(dovecot, port=imap_proxy.port)
    cursors = {s: b.next_cursor for s, b in drain_all(made, {}).items()}
    imap_proxy.reset_counts()
    for stream, cursor in cursors.items():
        batch = made.fetch(stream, cursor, 100)
        assert batch.records == [] and batch.next_cursor == cursor
    made.close()
    assert imap_proxy.command_names() == ["STATUS", "STATUS", "LOGOUT"]


def test_backfill_skips_mail_older_than_the_window(dovecot: MailUser) -> None:
    old = datetime.now(UTC) - timedelta(days=200)
    with dovecot.client() as admin:
        admin.append("INBOX", mail(1), msg_time=old)
        admin.append("INBOX", mail(2))
        admin.append("INBOX", mail(3), msg_time=old)
    made = connector_for(dovecot, folders=["INBOX"])
    got = drain(made, "INBOX", None, 10)
    # The cursor moves past the old message at the top, so the next poll is idle.
    assert got.identities == ["msgid:m2@northwind.example"]
    assert got.cursor is not None and got.cursor["last_uid"] == 3
    made.close()


def test_uidvalidity_change_expires_the_cursor_and_backfill_gives_the_same_messages(
    dovecot: MailUser, connector: ImapConnector
) -> None:
    messages = [mail(n) for n in range(3)]
    dovecot.append("Projects", messages)
    first = drain(connector, "Projects", None, 10)
    dovecot.recreate("Projects", messages)
    with pytest.raises(CursorExpired) as caught:
        connector.fetch("Projects", first.cursor, 10)
    assert caught.value.stream == "Projects"
    again = drain(connector, "Projects", None, 10)
    assert again.identities == first.identities
    # The same copies, not a second set: a copy is (folder, identity), not a UID.
    assert {r.source for r in again.records} == {r.source for r in first.records}
    assert sorted(r.source.provider_id for r in first.records) == [
        f"Projects/msgid:m{n}@northwind.example" for n in range(3)
    ]
    assert again.cursor is not None and first.cursor is not None
    assert again.cursor["uidvalidity"] != first.cursor["uidvalidity"]


def test_a_connection_dropped_mid_fetch_is_retried_without_loss_or_doubles(
    dovecot: MailUser, imap_proxy: ImapProxy
) -> None:
    dovecot.append("INBOX", [mail(n, body="word " * 400) for n in range(60)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"], chunk_size=20)
    made.streams()
    imap_proxy.cut_fetch_after(5_000)  # inside the first FETCH's reply
    got = drain(made, "INBOX", None, 100)
    made.close()
    assert imap_proxy.cuts == 1
    assert imap_proxy.command_names().count("LOGIN") == 2  # it reconnected once
    assert got.identities == sorted(f"msgid:m{n}@northwind.example" for n in range(60))
    assert len(got.records) == 60


@pytest.mark.parametrize("fetch_ahead", [True, False], ids=["thread", "on-request"])
def test_a_connection_dropped_while_fetching_ahead_is_fetched_again(
    dovecot: MailUser, imap_proxy: ImapProxy, fetch_ahead: bool
) -> None:
    # With limit 20, the second batch is fetched (in a thread, or when asked
    # for) after the first is handed over; its FETCH (the third: batch one is
    # a structure FETCH and a text FETCH) is the one cut.
    dovecot.append("INBOX", [mail(n, body="word " * 400) for n in range(60)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"], fetch_ahead=fetch_ahead)
    imap_proxy.cut_fetch_after(5_000, skip=2)
    got = drain(made, "INBOX", None, 20)
    made.close()
    assert imap_proxy.cuts == 1
    assert imap_proxy.command_names().count("LOGIN") == 2
    assert got.identities == sorted(f"msgid:m{n}@northwind.example" for n in range(60))
    assert got.batch_ends == [20, 40, 60]


@pytest.mark.parametrize("fetch_ahead", [True, False], ids=["thread", "on-request"])
def test_batches_fetched_ahead_are_handed_over_in_order_on_one_connection(
    dovecot: MailUser, imap_proxy: ImapProxy, fetch_ahead: bool
) -> None:
    # The agent stores each batch before asking for the next: meanwhile the
    # next one is fetched ahead and must be the one handed over, even when it
    # is complete long before it is asked for. Without the thread, the
    # backlog found by the one SEARCH is still followed to its end.
    dovecot.append("INBOX", [mail(n) for n in range(23)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"], fetch_ahead=fetch_ahead)
    cursor: Cursor | None = None
    seen: list[str] = []
    for _ in range(10):
        batch = made.fetch("INBOX", cursor, 5)
        seen += [r.identity for r in batch.records]
        cursor = batch.next_cursor
        if not batch.has_more:
            break
        # Stands for the agent storing the batch (work, not a wait for an
        # event): the batch fetched ahead is usually complete by the next ask,
        # and the order must hold whether it is or not.
        time.sleep(0.3)
    made.close()
    assert seen == [f"msgid:m{n}@northwind.example" for n in range(23)]
    names = imap_proxy.command_names()
    assert names.count("LOGIN") == 1 and names.count("EXAMINE") == 1
    assert names.count("UID SEARCH") == 1
    assert imap_proxy.header_fetches() == [
        list(range(n, min(n + 5, 24))) for n in (1, 6, 11, 16, 21)
    ]
    assert cursor is not None and cursor["last_uid"] == 23


def test_a_connection_closed_between_polls_is_reopened(
    dovecot: MailUser, imap_proxy: ImapProxy
) -> None:
    dovecot.append("INBOX", [mail(1)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"])
    first = made.fetch("INBOX", None, 10)
    imap_proxy.drop_connections()  # the server's autologout while the agent sleeps
    dovecot.append("INBOX", [mail(2)])
    second = made.fetch("INBOX", first.next_cursor, 10)
    made.close()
    assert [r.identity for r in second.records] == ["msgid:m2@northwind.example"]
    assert imap_proxy.command_names().count("LOGIN") == 2


def test_a_hung_server_times_out_into_a_transient_error(
    dovecot: MailUser, imap_proxy: ImapProxy
) -> None:
    dovecot.append("INBOX", [mail(1)])
    made = connector_for(dovecot, port=imap_proxy.port, folders=["INBOX"], attempts=2, timeout=1.0)
    first = made.fetch("INBOX", None, 10)
    imap_proxy.stall()
    # One read timeout on the open connection, one on the reconnect's greeting;
    # the watchdog only fails a fetch that never returns (the bug this prevents).
    with terminates(), pytest.raises(TransientError, match="failed 2 times"):
        made.fetch("INBOX", first.next_cursor, 10)
    made.close()


def nested_mime(depth: int) -> bytes:
    body = "Content-Type: text/plain\r\n\r\ndeep inside\r\n"
    for level in range(depth):
        body = (
            f'Content-Type: multipart/mixed; boundary="b{level}"\r\n\r\n'
            f"--b{level}\r\n{body}\r\n--b{level}--\r\n"
        )
    return (
        "From: Ann Lee <ann@northwind.example>\r\nTo: dana@acme.example\r\n"
        f"Subject: Nested\r\nMessage-ID: <nested@northwind.example>\r\nMIME-Version: 1.0\r\n{body}"
    ).encode()


def test_hostile_mime_nesting_costs_the_text_never_the_message(dovecot: MailUser) -> None:
    dovecot.append("INBOX", [mail(1), nested_mime(150), mail(2)])
    made = connector_for(dovecot, folders=["INBOX"])
    got = drain(made, "INBOX", None, 10)
    made.close()
    assert [(e.source.provider_id, e.reason) for e in got.errors] == [
        ("INBOX/msgid:nested@northwind.example", "date-from-server")
    ]
    by_id = {r.identity: r for r in got.records if isinstance(r, Message)}
    assert sorted(by_id) == [
        "msgid:m1@northwind.example",
        "msgid:m2@northwind.example",
        "msgid:nested@northwind.example",
    ]
    nested = by_id["msgid:nested@northwind.example"]
    assert nested.header("from") == "Ann Lee <ann@northwind.example>"
    assert nested.text is None  # deeper than max_mime_depth: not entered


def test_an_unreadable_cursor_is_an_expired_one(connector: ImapConnector) -> None:
    with pytest.raises(CursorExpired):
        connector.fetch("INBOX", {"last_uid": "many"}, 10)
