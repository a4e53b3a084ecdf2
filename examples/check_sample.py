"""Re-derive the sample archive's expected outcome from its files, standard library only.

    python examples/check_sample.py [ARCHIVE_DIR]

This is a check on the *data*, not on autocapture: it reads the generated
files with ``mailbox``, ``email`` and a small RFC 5545 reader, applies the
rules written at the top of ``tests/sample_expected.py`` and compares what it
finds with the figures written there by hand. A mismatch means the archive
and its expectations drifted apart; it prints every difference and exits 1.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import io
import mailbox
import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests import sample_expected as X  # noqa: E402  (the repo root is not on sys.path by default)

FIELD_LINE = re.compile(rb"[!-9;-~]+:")
OWNERS = frozenset(X.OWNERS.values())
BLOCKED_DOMAINS = ("competitor.example",)
ROLE_LOCALS = frozenset({"sales", "support", "info", "billing", "hello", "contact", "office"})
AUTOMATED_LOCALS = frozenset(
    {"noreply", "no-reply", "notifications", "mailer-daemon", "postmaster", "newsletter", "news"}
)
ADDRESS_FIELDS = ("from", "sender", "reply-to", "to", "cc", "bcc")


@dataclass
class Findings:
    """What the files say, accumulated over every item."""

    copies: dict[str, int] = field(default_factory=dict)  # message-id -> mailboxes holding it
    per_mailbox: dict[str, int] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    sent_to: set[str] = field(default_factory=set)
    received_from: set[str] = field(default_factory=set)
    met: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)  # any role, any interaction ("always")
    names: dict[str, str] = field(default_factory=dict)
    occurrences: dict[tuple[str, datetime | None], tuple[int, str, datetime, datetime]] = field(
        default_factory=dict
    )
    bodies: dict[str, list[str]] = field(default_factory=dict)  # sender -> text bodies


# --- mail -----------------------------------------------------------------


def refusal(raw: bytes) -> str | None:
    """The reason a mail parser with the default limits refuses ``raw``, if it does."""
    # A header over the size limit is read up to it, field group by field
    # group (connectors.mail.headers): the mail loop's 345 KiB of Received fields
    # leave its From, To, Subject and Message-ID whole.
    end = raw.find(b"\n\n")
    head = raw if end < 0 else raw[:end]
    if not FIELD_LINE.match(head):
        return "not-a-message"
    return None


def person_name(display: str) -> str:
    """ "Becker, Tom" -> "Tom Becker": the form a person files a contact under."""
    last, comma, first = display.partition(",")
    return f"{first.strip()} {last.strip()}" if comma else display.strip()


def klass(addr: str) -> str:
    local, _, domain = addr.rpartition("@")
    if domain == X.ORG_DOMAIN:
        return "internal"
    if any(domain == d or domain.endswith("." + d) for d in BLOCKED_DOMAINS):
        return "blocked"
    if local in ROLE_LOCALS:
        return "role"
    return "automated" if local in AUTOMATED_LOCALS else "person"


def is_automated(msg: EmailMessage) -> bool:
    """Header evidence of machine-sent mail (RFC 2369 List-*, RFC 3834, Precedence)."""
    if msg["list-id"] or msg["list-unsubscribe"]:
        return True
    if str(msg["precedence"] or "").lower() in ("bulk", "list", "junk"):
        return True
    if str(msg["auto-submitted"] or "no").lower() != "no":
        return True
    return str(msg["return-path"] or "").strip() == "<>"


def only_blocked_outside(msg: EmailMessage) -> bool:
    """Every party outside the org is blocklisted (and there is one): not captured."""
    values = [str(v) for role in ADDRESS_FIELDS for v in msg.get_all(role, [])]
    outside = {klass(a.lower()) for _, a in getaddresses(values)} - {"internal"}
    return outside == {"blocked"}


def capture_message(found: Findings, msg: EmailMessage) -> None:
    """Evidence and names one well-formed message gives its participants."""
    roles = {
        role: [(n, a.lower()) for n, a in getaddresses([str(v) for v in msg.get_all(role, [])])]
        for role in ADDRESS_FIELDS
    }
    sender = roles["from"][0][1]
    body = msg.get_body(("plain", "html"))
    found.bodies.setdefault(sender, []).append(body.get_content() if body else "")
    if is_automated(msg):
        return
    outbound = sender in OWNERS
    for role, pairs in roles.items():
        for name, addr in pairs:
            if addr in OWNERS or klass(addr) != "person":
                continue
            found.seen.add(addr)
            if name:
                found.names.setdefault(addr, person_name(name))
            if outbound and role in ("to", "cc", "bcc"):
                found.sent_to.add(addr)
            elif not outbound and role in ("from", "sender", "reply-to"):
                found.received_from.add(addr)


def mail_items(archive: Path) -> Iterator[tuple[str, str, bytes]]:
    """(mailbox, item label, raw bytes) for every stored message copy."""
    entries = list(mailbox.mbox(str(archive / "alice" / "mail.mbox")))
    for i, entry in enumerate(entries, start=1):
        label = f"entry {i} of {len(entries)} (From {entry.get_from().split()[0]})"
        yield "alice/mail.mbox", label, entry.as_bytes()
    for path in sorted((archive / "bob" / "Maildir").glob("*/*")):
        if path.parent.name in ("cur", "new") and not path.name.startswith("."):
            yield "bob/Maildir", path.name, path.read_bytes()
    for path in sorted((archive / "bob" / "invites").glob("*.eml")):
        yield "bob/invites", path.name, path.read_bytes()


def read_mail(found: Findings, archive: Path) -> None:
    for box, label, raw in mail_items(archive):
        reason = refusal(raw)
        if reason:
            key = (box, label) if box.endswith(".mbox") else (f"{box}/{label}", "whole file")
            found.errors[key] = reason
            continue
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        found.per_mailbox[box] = found.per_mailbox.get(box, 0) + 1
        if only_blocked_outside(msg):
            continue  # nothing blocked is stored: not even the interaction
        mid = str(msg["message-id"]).strip().strip("<>")
        found.copies[mid] = found.copies.get(mid, 0) + 1
        capture_message(found, msg)
        for part in msg.walk():
            payload = part.get_payload(decode=True)
            if part.get_content_type() == "text/calendar" and isinstance(payload, bytes):
                read_calendar(found, payload, f"{box}/{label}")


# --- calendar (RFC 5545, just the subset the sample uses) -------------------


def unfold(data: bytes) -> list[str]:
    text = data.decode("utf-8").replace("\r\n", "\n")
    return text.replace("\n ", "").replace("\n\t", "").splitlines()


def prop(line: str) -> tuple[str, dict[str, str], str]:
    """NAME;P=V;...:value, with quoted parameter values (RFC 5545 3.1)."""
    head, value, params = "", "", {}
    quoted = False
    for i, c in enumerate(line):
        quoted = not quoted if c == '"' else quoted
        if c == ":" and not quoted:
            head, value = line[:i], line[i + 1 :]
            break
    name, *pairs = re.split(r';(?=(?:[^"]*"[^"]*")*[^"]*$)', head)
    for pair in pairs:
        key, _, val = pair.partition("=")
        params[key.upper()] = val.strip('"')
    return name.upper(), params, value


def when(params: dict[str, str], value: str) -> datetime:
    if params.get("VALUE") == "DATE":
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC)
    stamp = datetime.strptime(value.rstrip("Z"), "%Y%m%dT%H%M%S")
    zone = UTC if value.endswith("Z") else ZoneInfo(params.get("TZID", "UTC"))
    return stamp.replace(tzinfo=zone).astimezone(UTC)


def vevents(lines: list[str]) -> list[list[tuple[str, dict[str, str], str]]]:
    if lines.count("BEGIN:VEVENT") != lines.count("END:VEVENT") or lines[-1] != "END:VCALENDAR":
        raise ValueError("unbalanced components")
    events: list[list[tuple[str, dict[str, str], str]]] = []
    current: list[tuple[str, dict[str, str], str]] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = []
        elif line == "END:VEVENT" and current is not None:
            events.append(current)
            current = None
        elif current is not None:
            current.append(prop(line))
    return events


def expand(start: datetime, local: datetime, rule: str) -> list[datetime]:
    """The two RRULE shapes the sample uses, stepping in local time (DST-correct)."""
    parts = dict(p.split("=") for p in rule.split(";"))
    count = int(parts["COUNT"])
    if parts["FREQ"] == "WEEKLY":
        return [(local + timedelta(weeks=i)).astimezone(UTC) for i in range(count)]
    assert parts["FREQ"] == "MONTHLY" and parts["BYDAY"] == "1MO", rule
    out: list[datetime] = []
    year, month = local.year, local.month
    while len(out) < count:
        first = local.replace(year=year, month=month, day=1)
        out.append((first + timedelta(days=(0 - first.weekday()) % 7)).astimezone(UTC))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def occurrences(event: list[tuple[str, dict[str, str], str]]) -> list[datetime | None]:
    props = {name: (params, value) for name, params, value in event}
    if "RECURRENCE-ID" in props:
        return [when(*props["RECURRENCE-ID"])]
    if "RRULE" not in props:
        return [None]
    params, value = props["DTSTART"]
    start = when(params, value)
    local = start.astimezone(ZoneInfo(params["TZID"]))
    excluded = {when(p, v) for n, p, v in event if n == "EXDATE"}
    return [t for t in expand(start, local, props["RRULE"][1]) if t not in excluded]


def record_event(found: Findings, event: list[tuple[str, dict[str, str], str]]) -> None:
    props = {name: (params, value) for name, params, value in event}
    uid, seq = props["UID"][1], int(props.get("SEQUENCE", ({}, "0"))[1])
    status = props.get("STATUS", ({}, "CONFIRMED"))[1].lower()
    start, end = when(*props["DTSTART"]), when(*props["DTEND"])
    for rid in occurrences(event):
        key = (uid, rid)
        offset = (rid - start) if rid is not None and "RRULE" in props else timedelta(0)
        held = found.occurrences.get(key)
        if held is None or held[0] < seq or "RECURRENCE-ID" in props:
            found.occurrences[key] = (seq, status, start + offset, end + offset)
    people = [
        (p.get("CN", ""), v.removeprefix("mailto:").lower())
        for n, p, v in event
        if n in ("ORGANIZER", "ATTENDEE") and p.get("CUTYPE", "INDIVIDUAL") == "INDIVIDUAL"
    ]
    for name, addr in people:
        if addr in OWNERS or klass(addr) != "person":
            continue
        found.seen.add(addr)
        found.names.setdefault(addr, person_name(name))
        if status != "cancelled":
            found.met.add(addr)


def read_calendar(found: Findings, data: bytes, label: str) -> None:
    try:
        events = vevents(unfold(data))
    except (ValueError, IndexError):
        found.errors[(label, "whole file")] = "bad-ical"
        return
    for event in events:
        record_event(found, event)


# --- comparison -----------------------------------------------------------


def company_matches(addr: str, expected: X.ExpectedContact) -> bool:
    """Registrable domain and the company name a person would type (case aside)."""
    domain = addr.rpartition("@")[2]
    registrable = ".".join(domain.split(".")[-2:])  # every sample domain is label.example
    guessed = " ".join(w.capitalize() for w in registrable.split(".")[0].split("-"))
    company = (expected.company or "").lower()
    return expected.company_domain == registrable and company == guessed.lower()


def contacts_under(found: Findings, policy: str) -> set[str]:
    if policy == "on_exchange":
        return (found.sent_to & found.received_from) | found.met
    return set(found.sent_to) if policy == "on_sent" else set(found.seen)


def diff(label: str, got: object, want: object, problems: list[str]) -> None:
    if got != want:
        problems.append(f"{label}: files say {got!r}, sample_expected says {want!r}")


def check_contacts(found: Findings, problems: list[str]) -> None:
    exchange = set(X.EXPECTED_CONTACTS)
    on_sent = (exchange - X.MEETING_ONLY_CONTACTS) | set(X.EXPECTED_EXTRA_UNDER_ON_SENT)
    always = exchange | set(X.EXPECTED_EXTRA_UNDER_ALWAYS)
    for policy, want in (("on_exchange", exchange), ("on_sent", on_sent), ("always", always)):
        diff(
            f"contacts under {policy}",
            sorted(contacts_under(found, policy)),
            sorted(want),
            problems,
        )
    for addr, contact in {**X.EXPECTED_CONTACTS, **X.EXPECTED_EXTRA_UNDER_ALWAYS}.items():
        diff(f"name of {addr}", found.names.get(addr), contact.name, problems)
        if not company_matches(addr, contact):
            problems.append(f"company of {addr}: {contact.company} / {contact.company_domain}")
    leaked = set(X.NEVER_CONTACTS) & contacts_under(found, "always")
    diff("never-contacts created under always", sorted(leaked), [], problems)


def check_traps_present(archive: Path, problems: list[str]) -> None:
    """Every never-contact must really occur in the files, or it tests nothing."""
    text = b"".join(p.read_bytes().lower() for p in sorted(archive.rglob("*")) if p.is_file())
    absent = sorted(addr for addr in X.NEVER_CONTACTS if addr.encode() not in text)
    diff("never-contacts absent from the archive", absent, [], problems)


def check_signatures(found: Findings, problems: list[str]) -> None:
    for addr, sig in X.EXPECTED_SIGNATURES.items():
        bodies = found.bodies.get(addr, [])
        digits = ["".join(c for c in body if c.isdigit()) for body in bodies]
        if not any(sig.title in body for body in bodies):
            problems.append(f"signature title of {addr} not in any of its mail: {sig.title!r}")
        for phone in sig.phones:
            national = phone[2:] if phone.startswith("+1") else "0" + phone[3:]
            if not any(phone[1:] in d or national in d for d in digits):
                problems.append(f"phone {phone} of {addr} not in any of its mail")
    for addr, (name, value) in X.SIGNATURE_NOT_THEIRS.items():
        if not any(value in body for body in found.bodies.get(addr, [])):
            problems.append(f"the {name} trap {value!r} is in no mail of {addr}")


def check_interactions(found: Findings, problems: list[str]) -> None:
    want = X.EXPECTED_INTERACTIONS
    occ = found.occurrences
    diff("messages per mailbox", found.per_mailbox, X.MESSAGES_PER_MAILBOX, problems)
    diff("emails", len(found.copies), want.emails, problems)
    diff("email sources", sum(found.copies.values()), want.email_sources, problems)
    shared = {mid for mid, n in found.copies.items() if n > 1}
    diff("shared message ids", sorted(shared), sorted(X.SHARED_MESSAGE_IDS), problems)
    diff("meetings", len({uid for uid, _ in occ}), want.meetings, problems)
    diff("meeting occurrences", len(occ), want.meeting_occurrences, problems)
    cancelled = {key for key, v in occ.items() if v[1] == "cancelled"}
    diff("cancelled occurrences", len(cancelled), want.cancelled_occurrences, problems)
    diff("which occurrences are cancelled", cancelled, set(X.CANCELLED_OCCURRENCES), problems)
    weekly = sorted(v[2] for (uid, _), v in occ.items() if uid == X.WEEKLY_SYNC_UID)
    diff("weekly sync starts", tuple(weekly), X.WEEKLY_SYNC_STARTS, problems)
    uid, start, end = X.BERLIN_WORKSHOP
    diff("Berlin workshop", occ.get((uid, None), ())[2:], (start, end), problems)
    moved = X.UPDATED_MEETING
    final = occ.get((moved.uid, None), ())
    diff(
        "updated meeting", final[:1] + final[2:], (moved.sequence, moved.start, moved.end), problems
    )
    diff("ingest error items", sorted(found.errors), sorted(X.EXPECTED_ERRORS), problems)
    for key, reason in X.EXPECTED_ERRORS.items():
        if reason not in found.errors.get(key, reason):
            problems.append(f"ingest error {key}: {found.errors[key]!r} lacks {reason!r}")
    nested = X.CAPTURED_DESPITE_LIMITS - set(found.copies)
    diff("captured despite limits, missing", sorted(nested), [], problems)


def check_reproducible(archive: Path, problems: list[str]) -> None:
    """Regenerate into a scratch folder: every file must equal the shipped one, byte for byte."""
    import make_sample  # the generator sits next to this script

    def files(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "sample-archive"
        with contextlib.redirect_stdout(io.StringIO()):
            make_sample.main(["make_sample.py", str(fresh)])
        want, got = files(fresh), files(archive)
    diff("files not reproduced by make_sample.py", sorted(set(got) ^ set(want)), [], problems)
    changed = sorted(name for name in set(got) & set(want) if got[name] != want[name])
    diff("files that differ from a fresh make_sample.py run", changed, [], problems)


def main(argv: list[str]) -> int:
    archive = Path(argv[1]) if len(argv) > 1 else ROOT / "examples" / "sample-archive"
    found = Findings()
    read_mail(found, archive)
    for path in sorted((archive / "alice" / "calendar").glob("*.ics")):
        read_calendar(found, path.read_bytes(), f"alice/calendar/{path.name}")
    problems: list[str] = []
    check_contacts(found, problems)
    check_signatures(found, problems)
    check_traps_present(archive, problems)
    check_interactions(found, problems)
    check_reproducible(archive, problems)
    for problem in problems:
        print("MISMATCH", problem)
    print(
        f"messages per mailbox {found.per_mailbox}; {len(found.copies)} distinct emails, "
        f"{sum(found.copies.values())} copies, {sum(n > 1 for n in found.copies.values())} shared; "
        f"{len({u for u, _ in found.occurrences})} meetings, {len(found.occurrences)} occurrences, "
        f"{sum(v[1] == 'cancelled' for v in found.occurrences.values())} cancelled; "
        f"{len(found.errors)} ingest errors; contacts: "
        f"{len(contacts_under(found, 'on_exchange'))} on_exchange, "
        f"{len(contacts_under(found, 'on_sent'))} on_sent, {len(contacts_under(found, 'always'))} always"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
