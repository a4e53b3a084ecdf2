"""The IMAP connector's capture of a list of UIDs: FETCH on the wire, Messages out.

Per chunk of UIDs (``connectors.imap.connector`` explains the state around it):

1. one ``UID FETCH`` of RFC822.SIZE, INTERNALDATE, BODYSTRUCTURE and the
   pipeline's header fields, partial-fetched to ``max_header_bytes`` + 1 so a
   hostile header costs a bounded read;
2. for the rare message whose fields run past that, one more ``UID FETCH`` of
   them in their groups (``connectors.mail.headers``), each capped alike, so
   10,000 recipients never push out From or Date and the fields are cut
   exactly where a stored copy's would be. Asking for the groups of every
   message instead cost a third more connector time on a 20,000-message
   backfill (bench/imap_backfill.py), for mail that almost never needs them;
3. one ``UID FETCH`` per distinct set of sections the chunk's BODYSTRUCTUREs
   name (``BODY.PEEK[1.1]<0.16384>``, plus text/calendar parts): a chunk of
   500 costs a handful of commands, never one per message.

Everything is ``BODY.PEEK``: fetching never sets ``\\Seen``.

Why the FETCH is read here rather than by imapclient: measured on a
20,000-message backfill, imapclient's character-by-character parser took 85%
of the capture time, and imaplib's per-line bookkeeping (untagged-response
lists, debug logging) cost more than reading the socket. ``uid_fetch`` sends
and reads through imaplib's documented ``send``/``readline``/``read`` on the
connection imapclient opened, so TLS, timeouts and login stay theirs, and
hands the lines to ``imap.parse.parse_fetch``.

A dropped connection surfaces as ``imaplib.IMAP4.abort`` (or ``OSError``),
which the connector answers by reconnecting and fetching again.
"""

from __future__ import annotations

import functools
import imaplib
import itertools
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from connectors.base import InvalidInput, Limits, TransientError, Window
from connectors.imap.parse import BodyPart, BodyPlan, FetchItems, parse_fetch, plan_body, uid_set
from connectors.mail.dates import Dated
from connectors.mail.headers import FIELD_GROUPS, HeaderRead, read_groups, read_stored_header
from connectors.mail.mime import (
    CalendarPart,
    calendar_cap,
    carried_meetings,
    decode_body,
    message_from_parts,
)
from connectors.records import Held, IngestError, Meeting, Record, SourceRef


def _fields_section(names: Sequence[str]) -> str:
    """The HEADER.FIELDS section of ``names``, as the server names it in its reply."""
    return "HEADER.FIELDS (" + " ".join(h.upper() for h in names) + ")"


# Every field the pipeline reads, in one section; then one section per group.
HEADER_SECTION = _fields_section([name for group in FIELD_GROUPS for name in group])
GROUP_SECTIONS = tuple(_fields_section(group) for group in FIELD_GROUPS)

_UNTAGGED_FETCH = re.compile(rb"\* (\d+) FETCH ", re.IGNORECASE)
_LITERAL = re.compile(rb"\{(\d+)\}\r\n\Z")
T = TypeVar("T")
# Our own tags, distinct from imaplib's (a random 4-letter prefix + number).
_TAGS = itertools.count(1)


def uid_fetch(
    imap: imaplib.IMAP4, uids: Sequence[int], items: str, max_literal: int
) -> dict[int, FetchItems]:
    """One ``UID FETCH``; ``max_literal`` bounds what a (hostile) server can make us hold.

    Raises ``InvalidInput("imap-protocol")`` for a reply it read but cannot
    parse, ``imaplib.IMAP4.abort`` when the connection broke or went out of step.
    """
    tag = b"AC%d" % next(_TAGS)
    imap.send(b"%s UID FETCH %s (%s)\r\n" % (tag, uid_set(uids).encode(), items.encode()))
    data: list[Any] = []
    while True:
        line = _line(imap)
        if line.startswith(tag + b" "):
            if not line[len(tag) + 1 :].upper().startswith(b"OK"):
                raise TransientError("IMAP server refused a FETCH")
            break
        # imaplib's shape for FETCH data ("* 12 FETCH (" -> "12 ("), which parse_fetch reads.
        match = _UNTAGGED_FETCH.match(line)
        if match is not None:
            line = match.group(1) + b" " + line[match.end() :]
        response: list[Any] = []
        while (literal := _LITERAL.search(line)) is not None:
            size = int(literal.group(1))
            if size > max_literal:
                raise imaplib.IMAP4.abort(f"literal of {size} bytes exceeds what was asked")
            response.append((line.rstrip(b"\r\n"), _exactly(imap, size)))
            line = _line(imap)
        response.append(line.rstrip(b"\r\n"))
        if match is not None:  # EXISTS, EXPUNGE, OK ... are not ours to read
            data.extend(response)
    # The whole reply has been read, so an unparseable one leaves the
    # connection in step: InvalidInput, for the caller to narrow down.
    return parse_fetch(data)


def _line(imap: imaplib.IMAP4) -> bytes:
    line: bytes = imap.readline()
    if not line.endswith(b"\n"):
        raise imaplib.IMAP4.abort("connection closed in the middle of a response")
    return line


def _exactly(imap: imaplib.IMAP4, size: int) -> bytes:
    data: bytes = imap.read(size)
    if len(data) != size:
        raise imaplib.IMAP4.abort("connection closed in the middle of a literal")
    return data


@dataclass(frozen=True)
class FolderCapture:
    """How one folder's messages become records; ``capture`` does the I/O."""

    account: str
    stream: str
    uidvalidity: int
    gmail: bool
    text_bytes: int
    limits: Limits = field(default_factory=Limits)
    window: Window | None = None

    def capture(
        self, imap: imaplib.IMAP4, uids: Sequence[int], chunk_size: int
    ) -> tuple[list[Record], list[IngestError]]:
        records, errors, _ = self.capture_held(imap, uids, chunk_size)
        return records, errors

    def capture_held(
        self, imap: imaplib.IMAP4, uids: Sequence[int], chunk_size: int
    ) -> tuple[list[Record], list[IngestError], list[Held]]:
        """``capture``, with the ledger entry of every UID the server still had."""
        records: list[Record] = []
        errors: list[IngestError] = []
        held: list[Held] = []
        for start in range(0, len(uids), chunk_size):
            chunk = _Chunk(self, imap, uids[start : start + chunk_size])
            records.extend(chunk.records)
            errors.extend(chunk.errors)
            held.extend(
                Held(str(uid), str(self.uidvalidity), tuple(dict.fromkeys(pids)))
                for uid, pids in sorted(chunk.copies.items())
            )
        return records, errors, held

    def header_peek(self, section: str) -> str:
        """A header section's FETCH item, capped one byte past the limit to tell a cut."""
        return f"BODY.PEEK[{section}]<0.{self.limits.max_header_bytes + 1}>"

    @property
    def calendar_cap(self) -> int:
        return calendar_cap(self.limits)

    @property
    def max_literal(self) -> int:
        # Every literal we ask for is a capped partial fetch (BODY.PEEK[...]<0.n>).
        return max(self.limits.max_header_bytes + 1, self.text_bytes, self.calendar_cap)

    def source(self, uid: int, items: FetchItems, identity: str | None = None) -> SourceRef:
        """Where a copy lives. Gmail's X-GM-MSGID is the same in every folder
        ("label") a message shows in, so those copies are one source item.
        Elsewhere a copy is (folder, message identity), which survives a
        UIDVALIDITY change: the resync after one finds the same copies rather
        than adding a second, stale one for every message. Only an item
        without an identity (unparseable: an IngestError) is named by UID."""
        gm = items.get(b"X-GM-MSGID")
        if isinstance(gm, bytes) and gm.isdigit():
            return SourceRef(self.account, self.stream, f"gm:{gm.decode()}")
        if identity is not None:
            return SourceRef(self.account, self.stream, f"{self.stream}/{identity}")
        return SourceRef(self.account, self.stream, f"{self.stream}/{self.uidvalidity}/{uid}")


class _Chunk:
    """One chunk of UIDs: the structure FETCH, then one FETCH per set of sections."""

    def __init__(self, folder: FolderCapture, imap: imaplib.IMAP4, uids: Sequence[int]) -> None:
        self.folder = folder
        self.records: list[Record] = []
        self.errors: list[IngestError] = []
        self.copies: dict[int, list[str]] = {}  # UID -> provider ids of what it gave
        items = "UID RFC822.SIZE INTERNALDATE BODYSTRUCTURE " + folder.header_peek(HEADER_SECTION)
        if folder.gmail:
            items += " X-GM-MSGID"
        self.failed: set[int] = set()
        meta = self._fetch(imap, uids, items)
        self._regroup(imap, meta)
        plans = self._plans(meta)
        bodies = self._bodies(imap, plans)
        for uid in uids:
            # Else expunged since the SEARCH (gone, nothing to capture) or failed.
            if uid in plans and uid not in self.failed:
                self._build(uid, meta[uid], plans[uid], bodies.get(uid, {}))

    def _fetch(self, imap: imaplib.IMAP4, uids: Sequence[int], items: str) -> dict[int, FetchItems]:
        """``uid_fetch``, narrowed down UID by UID when a reply cannot be parsed, so
        one message the server describes in a way we cannot read becomes an
        IngestError instead of failing its whole chunk on every poll."""
        try:
            return uid_fetch(imap, uids, items, self.folder.max_literal)
        except InvalidInput as exc:
            if len(uids) > 1:
                found: dict[int, FetchItems] = {}
                for uid in uids:
                    found.update(self._fetch(imap, [uid], items))
                return found
            if uids[0] not in self.failed:
                self.failed.add(uids[0])
                source = self.folder.source(uids[0], {})
                self._error(uids[0], IngestError(source, exc.reason, exc.detail))
            return {}

    def _regroup(self, imap: imaplib.IMAP4, meta: dict[int, FetchItems]) -> None:
        """Fetch the fields of messages whose header ran past the limit again, by group."""
        limit = self.folder.limits.max_header_bytes
        over = [uid for uid, items in meta.items() if len(_section(items, HEADER_SECTION)) > limit]
        if not over:
            return
        items = " ".join(self.folder.header_peek(section) for section in GROUP_SECTIONS)
        grouped = self._fetch(imap, over, items)
        for uid in over:
            if uid in grouped:
                meta[uid].update(grouped[uid])
            else:  # expunged since, or its reply unreadable (an error already)
                del meta[uid]

    def _plans(self, meta: dict[int, FetchItems]) -> dict[int, BodyPlan]:
        plans: dict[int, BodyPlan] = {}
        for uid, items in meta.items():
            try:
                plans[uid] = plan_body(items.get(b"BODYSTRUCTURE"), self.folder.limits)
            except InvalidInput as exc:
                source = self.folder.source(uid, items)
                self._error(uid, IngestError(source, exc.reason, exc.detail))
        return plans

    def _error(self, uid: int, error: IngestError) -> None:
        self.errors.append(error)
        self.copies.setdefault(uid, []).append(error.source.provider_id)

    def _bodies(
        self, imap: imaplib.IMAP4, plans: dict[int, BodyPlan]
    ) -> dict[int, dict[str, bytes]]:
        folder = self.folder
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for uid, plan in plans.items():
            wanted = []
            # text_bytes 0 (no text wanted) must not become "<0.0>": IMAP
            # partials need a non-zero length (RFC 3501 9, nz-number).
            if plan.text is not None and plan.text.size > 0 and folder.text_bytes > 0:
                wanted.append(f"BODY.PEEK[{plan.text.section}]<0.{folder.text_bytes}>")
            for part in plan.calendars:
                if part.size <= folder.calendar_cap:
                    wanted.append(f"BODY.PEEK[{part.section}]<0.{folder.calendar_cap}>")
            if wanted:
                groups[tuple(wanted)].append(uid)
        found: dict[int, dict[str, bytes]] = defaultdict(dict)
        for wanted_items, uids in groups.items():
            fetched = self._fetch(imap, uids, " ".join(wanted_items))
            for uid, values in fetched.items():
                for name, value in values.items():
                    if name.startswith(b"BODY[") and isinstance(value, bytes):
                        found[uid][name[5:].split(b"]", 1)[0].decode("ascii")] = value
        return found

    def _build(self, uid: int, items: FetchItems, plan: BodyPlan, bodies: dict[str, bytes]) -> None:
        folder = self.folder
        text = None
        if plan.text is not None and folder.text_bytes > 0:
            part = plan.text
            payload = bodies.get(part.section, b"")
            text = decode_body(payload, part.transfer_encoding, part.charset, folder.text_bytes)
        size = items.get(b"RFC822.SIZE")
        try:
            message, notes = message_from_parts(
                folder.source(uid, items),
                _header_read(items, folder.limits.max_header_bytes),
                text,
                plan.text_is_html,
                int(size) if isinstance(size, bytes) and size.isdigit() else 0,
                fallback=functools.partial(server_date, items.get(b"INTERNALDATE")),
            )
        except InvalidInput as exc:
            self._error(uid, IngestError(folder.source(uid, items), exc.reason, exc.detail))
            return
        # The copy is named by the message's identity, known only now.
        source = folder.source(uid, items, message.identity)
        self.copies.setdefault(uid, []).append(source.provider_id)
        self.errors.extend(replace(note, source=source) for note in notes)
        meetings = self._meetings(source, plan.calendars, bodies) if plan.calendars else ()
        self.records.append(replace(message, source=source, meetings=meetings))

    def _meetings(
        self, source: SourceRef, parts: tuple[BodyPart, ...], bodies: dict[str, bytes]
    ) -> tuple[Meeting, ...]:
        # Parts over the cap were never fetched; their declared size says so.
        carried = [
            CalendarPart(bodies.get(p.section, b""), p.transfer_encoding, p.charset, p.size)
            for p in parts
        ]
        found, failed = carried_meetings(carried, source, self.folder.window, self.folder.limits)
        self.errors.extend(failed)
        return tuple(found)


def _section(items: FetchItems, section: str) -> bytes:
    """The bytes of ``BODY[section]`` (the server appends the origin, "<0>")."""
    wanted = f"BODY[{section}]".encode()
    value = items.get(wanted + b"<0>")  # how Dovecot and most servers name it
    if value is None:
        value = next((v for k, v in items.items() if k.startswith(wanted)), None)
    return value if isinstance(value, bytes) else b""


def _header_read(items: FetchItems, limit: int) -> HeaderRead:
    """The fields of one message: from its one section, or, past the limit, its groups."""
    block = _section(items, HEADER_SECTION)
    if len(block) <= limit:
        # A HEADER.FIELDS reply is a header block like a stored one, and under
        # the limit no group can be over it: the same fields as the groups give.
        return read_stored_header(block, limit)
    grouped = [(g, _section(items, s)) for g, s in zip(FIELD_GROUPS, GROUP_SECTIONS, strict=True)]
    return read_groups(grouped, limit)


def server_date(value: Any) -> Dated | None:
    """INTERNALDATE (RFC 3501 2.3.3: "17-Jul-1996 02:44:25 -0700") in UTC, the
    fallback date of mail without a usable Date: read only then."""
    if not isinstance(value, bytes):
        return None
    try:
        arrived = datetime.strptime(value.decode("ascii").strip(), "%d-%b-%Y %H:%M:%S %z")
        return Dated(arrived.astimezone(UTC), "server")
    except (UnicodeDecodeError, ValueError, OverflowError):
        return None


class Prefetch(Generic[T]):
    """The next batch of a backfill, fetched in a thread while the agent stores this one.

    The IMAP server works and the socket waits while the matcher and the
    database work, instead of one after the other. The thread owns the
    connection until ``join``: the connector joins before any other use,
    and only the connector's own thread starts the next one.
    """

    def __init__(self, key: Hashable, work: Callable[[], T]) -> None:
        self.key = key
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="imap-prefetch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:  # handed to the caller of take(), in its thread
            self._error = exc

    def join(self) -> None:
        self._thread.join()

    @property
    def failed(self) -> bool:
        return self._error is not None

    def take(self) -> T:
        self.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


class Deferred(Generic[T]):
    """The next batch of a backlog, fetched only when asked for: ``Prefetch``
    without its thread, for when another process reads the backlog ahead
    (agent.readahead) and a thread here would fetch the same batch again."""

    failed = False

    def __init__(self, key: Hashable, work: Callable[[], T]) -> None:
        self.key = key
        self._work = work

    def join(self) -> None:
        pass

    def take(self) -> T:
        return self._work()
