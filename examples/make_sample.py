"""Write the shipped sample archive, ``examples/sample-archive/``, deterministically.

    python examples/make_sample.py [OUT_DIR]

Layout (what ``examples/demo.yaml`` points the archive connector at)::

    alice/mail.mbox     Alice Martin's Google Takeout-style mbox (sent and received)
    alice/calendar/     her calendar export, one .ics per calendar or event
    bob/Maildir/        Bob Okafor's Maildir (cur/ new/ tmp/)
    bob/invites/        loose .eml files: an invitation, its update, a stray text file

Rerunning produces byte-identical files: every date is fixed, every id is
derived from content, and file order is sorted. The expected outcome of a
capture is written down by hand in ``tests/sample_expected.py``;
``examples/check_sample.py`` re-derives it from these files.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from samplegen import bulk, malformed, meetings, threads_alice, threads_bob
from samplegen.cast import person
from samplegen.render import Email, render_thread

DEFAULT_OUT = Path(__file__).resolve().parent / "sample-archive"
OWNERS = ("alice", "bob")
UNREAD_FROM = datetime(2026, 10, 1, tzinfo=UTC)  # Bob has not opened his mail since October


def all_mail() -> list[Email]:
    """Every well-formed message, once, with the owners whose mailbox holds a copy."""
    out: list[Email] = []
    for thread in (*threads_alice.THREADS, *threads_bob.THREADS):
        for mail in render_thread(thread):
            involved = {mail.sender, *mail.recipients}
            holders = frozenset(k for k in OWNERS if k in involved)
            out.append(
                Email(mail.message_id, mail.date, mail.sender, mail.recipients, mail.data, holders)
            )
    out += bulk.newsletters() + bulk.notifications() + bulk.list_traffic()
    out += [bulk.bounce(), bulk.out_of_office()]
    return sorted(out, key=lambda m: (m.date.astimezone(UTC), m.message_id))


def mbox_entry(mail: Email, owner: str) -> bytes:
    """Takeout style: a From_ line, Gmail's label header, and mboxrd ">From " escaping."""
    sent = mail.sender == owner
    stamp = mail.date.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")
    gm_id = int(hashlib.sha256(mail.message_id.encode()).hexdigest()[:15], 16)
    labels = "Sent" if sent else "Inbox,Opened"
    lines = mail.data.split(b"\n")
    escaped = [b">" + line if line.lstrip(b">").startswith(b"From ") else line for line in lines]
    head = f"From {gm_id}@xxx {stamp}\nX-GM-THRID: {gm_id}\nX-Gmail-Labels: {labels}\n"
    return head.encode() + b"\n".join(escaped).rstrip(b"\n") + b"\n\n"


def maildir_name(mail: Email, seq: int, data: bytes) -> tuple[str, str]:
    """(sub-folder, file name) in the Maildir naming convention, seen flag on read mail."""
    epoch = int(mail.date.timestamp())
    base = f"{epoch}.M{seq:06d}P4242.bob-laptop,S={len(data)}"
    if mail.date >= UNREAD_FROM and mail.sender != "bob":
        return "new", base
    return "cur", base + ":2," + ("S" if mail.sender != "bob" else "RS")


def write_alice(out: Path, mail: list[Email]) -> None:
    entries = [mbox_entry(m, "alice") for m in mail if "alice" in m.deliver_to]
    # The two broken entries sit where a flaky export put them: mid-file, not at the end.
    mid = len(entries) // 2
    entries.insert(
        mid,
        b"From 1784412000000000000@xxx Mon Jul 13 03:12:09 +0000 2026\n"
        + malformed.binary_garbage()
        + b"\n",
    )
    entries.insert(
        mid + 20,
        b"From 1784439540000000000@xxx Sat Jul 11 03:59:00 +0000 2026\n"
        + malformed.mail_loop()
        + b"\n",
    )
    (out / "alice").mkdir(parents=True)
    (out / "alice" / "mail.mbox").write_bytes(b"".join(entries))
    cal = out / "alice" / "calendar"
    cal.mkdir()
    for name, data in sorted(meetings.calendar_files().items()):
        (cal / name).write_bytes(data)
    (cal / "broken-export.ics").write_bytes(malformed.BROKEN_ICS)


def write_bob(out: Path, mail: list[Email]) -> None:
    md = out / "bob" / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (md / sub).mkdir(parents=True)
    # Maildir readers skip dot-files; this one only keeps the empty tmp/ in git.
    (md / "tmp" / ".keep").write_bytes(b"")
    for seq, m in enumerate((m for m in mail if "bob" in m.deliver_to), start=1):
        data = m.data
        if m.sender != "bob":
            data = f"Delivered-To: {person('bob').email}\n".encode() + data
        sub, name = maildir_name(m, seq, data)
        (md / sub / name).write_bytes(data)
    broken = malformed.deep_mime()
    (md / "cur" / f"1790013600.M999999P4242.bob-laptop,S={len(broken)}:2,S").write_bytes(broken)
    inv = out / "bob" / "invites"
    inv.mkdir()
    for name, data in sorted(meetings.invitations().items()):
        (inv / name).write_bytes(data)
    (inv / "call-notes-samir.eml").write_bytes(malformed.PASTED_NOTES)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUT
    if out.exists():
        shutil.rmtree(out)
    mail = all_mail()
    write_alice(out, mail)
    write_bob(out, mail)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    print(f"wrote {len(files)} files under {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
