"""CRM exports written as a CRM writes them, and importing them, for the storage tests."""

from __future__ import annotations

from collections.abc import Sequence

from connectors.contact_files import Card, CardError
from matcher.mailboxes import mailbox_key
from storage import Database, Imported


def csv_and_vcards(people: Sequence[tuple[str, str, str]]) -> tuple[str, str]:
    """The same (given, family, address) people as a CSV (addresses in capitals) and as
    vCards (3.0 and 4.0 alternating, with the full name)."""
    csv_text = "Given Name,Family Name,Email\n" + "".join(
        f"{g},{f},{e.upper()}\n" for g, f, e in people
    )
    vcf_text = "".join(
        f"BEGIN:VCARD\r\nVERSION:{'3.0' if i % 2 else '4.0'}\r\nFN:{g} {f}\r\nN:{f};{g};;;\r\n"
        f"EMAIL:{e}\r\nEND:VCARD\r\n"
        for i, (g, f, e) in enumerate(people)
    )
    return csv_text, vcf_text


def imported(db: Database, cards: list[Card | CardError]) -> Imported:
    emails = {e for c in cards if isinstance(c, Card) for e in c.emails}
    return db.import_contacts(cards, {e: mailbox_key(e) for e in emails})
