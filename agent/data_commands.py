"""The commands that read or change what was captured: ``contacts``,
``interactions``, ``errors``, ``changes``, ``dedupe``, ``forget`` and ``purge``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from agent import render
from agent.commands import (
    CommandError,
    listing,
    load_settings,
    open_db,
)
from config.exit_codes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK

# Longer than any email address (RFC 5321 allows 254 characters) or name;
# SQLite refuses LIKE patterns past 50,000 bytes with a traceback.
MAX_SEARCH_CHARS = 256


def search_text(text: str) -> str:
    """The argument of ``contacts search``, or a usage error before any database is opened."""
    try:
        # Undecodable bytes in argv arrive as lone surrogates (PEP 383).
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CommandError(
            "contacts search: the search text is not valid UTF-8", EXIT_CONFIG
        ) from None
    if len(text) > MAX_SEARCH_CHARS:
        raise CommandError(
            f"contacts search: the search text is longer than {MAX_SEARCH_CHARS} characters",
            EXIT_CONFIG,
        )
    return text


def cmd_contacts(args: argparse.Namespace, path: Path) -> int:
    if args.action == "import":
        return import_contacts(args, load_settings(path))
    if args.action == "reindex":
        print(f"{open_db(load_settings(path)).reindex_contacts()} contacts indexed")
        return EXIT_OK
    text = search_text(args.text) if args.action == "search" else ""
    if args.action in ("merge", "unmerge", "show"):
        return _identity(args, load_settings(path))
    if args.action == "list" and args.stale is not None:
        from agent.identity import stale_rows

        rows = stale_rows(args, open_db(load_settings(path), read_only=True))
        return listing(args, rows, ["id", "name", "emails", "company", "last_seen_at"])
    db = open_db(load_settings(path), read_only=True)
    rows = (
        db.search_contacts(text)
        if args.action == "search"
        else db.list_contacts(limit=args.limit, offset=args.offset)
    )
    return listing(args, rows, ["id", "name", "emails", "company"])


def _identity(args: argparse.Namespace, settings: Any) -> int:
    """``contacts merge|unmerge|show`` (agent.identity): refusals are one line, exit 1."""
    from agent import identity
    from storage import MergeRefused

    if args.action == "show":
        if not identity.show(args, open_db(settings, read_only=True)):
            what = "id" if isinstance(args.id, int) else "address"
            raise CommandError(f"no contact with {what} {args.id}")
        return EXIT_OK
    where = identity.unmerge_target(args.target) if args.action == "unmerge" else {}
    if where is None:
        raise CommandError("unmerge takes a merge (m12) or a contact id (57)", EXIT_CONFIG)
    try:
        db = open_db(settings)
        line = (
            identity.merge(args, db)
            if args.action == "merge"
            else identity.unmerge(args, db, where)
        )
    except MergeRefused as exc:
        raise CommandError(str(exc)) from None
    print(line)
    return EXIT_OK


MAX_IMPORT_BYTES = 512 * 1024 * 1024


def import_contacts(args: argparse.Namespace, settings: Any) -> int:
    """``contacts import FILE``: bad cards on stderr as FILE:LINE, the rest imported; exit 1 if any."""
    from connectors.contact_files import CARD_FIELDS, Card, read_csv, read_vcards
    from matcher.mailboxes import mailbox_key

    mapping = dict(m.partition("=")[::2] for m in args.map)
    if any(f not in (*CARD_FIELDS, "email") or not h for f, h in mapping.items()):
        raise CommandError(
            f"--map takes FIELD=HEADER, FIELD one of email, {', '.join(CARD_FIELDS)}", EXIT_CONFIG
        )
    try:
        if args.file.stat().st_size > MAX_IMPORT_BYTES:
            raise CommandError(f"{args.file}: larger than {MAX_IMPORT_BYTES // 2**20} MiB")
        data = args.file.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    text = _decoded(data)
    vcard = args.format == "vcard" or (
        args.format is None and args.file.suffix.lower() in (".vcf", ".vcard")
    )
    cards = list(read_vcards(text) if vcard else read_csv(text, mapping))
    domains = settings.subaddressing.domains_for(settings.org_domains)
    emails = {e for c in cards if isinstance(c, Card) for e in c.emails}
    done = open_db(settings).import_contacts(cards, {e: mailbox_key(e, domains) for e in emails})
    for error in done.errors:
        detail = f": {error.detail}" if error.detail else ""
        print(f"{args.file}:{error.line}: {error.reason}{detail}", file=sys.stderr)
    print(
        f"{args.file}: {done.created} created, {done.updated} updated, "
        f"{done.unchanged} unchanged, {len(done.errors)} not imported"
    )
    return EXIT_FAILED if done.errors else EXIT_OK


def _decoded(data: bytes) -> str:
    """Exports are UTF-8 (often with a BOM, Excel) or, from older Outlook, Windows-1252."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")


def cmd_dedupe(args: argparse.Namespace, path: Path) -> int:
    """Duplicate pairs on stdout, the summary (and merges) on stderr (agent.identity)."""
    from agent.identity import dedupe
    from agent.policy import thresholds_of

    settings = load_settings(path)
    db = open_db(settings, read_only=args.apply_above is None)
    for line in dedupe(args, db, thresholds_of(settings)):
        print(line, file=sys.stderr)
    return EXIT_OK


def cmd_interactions(args: argparse.Namespace, path: Path) -> int:
    from agent.identity import contact_id

    db = open_db(load_settings(path), read_only=True)
    wanted = None if args.contact is None else contact_id(args.contact, db)
    if args.contact is not None and wanted is None:
        raise CommandError(f"no contact with address {args.contact}")
    rows = db.list_interactions(contact_id=wanted, limit=args.limit)
    if args.json:
        render.json_lines(rows)
        return EXIT_OK
    table = [
        {
            **render.plain(r),
            "occurred_at": r.occurred_at,
            "copies": len(r.sources),
            "with": [p.email for p in r.participants if p.klass != "internal"],
        }
        for r in rows
    ]
    cols = ["id", "kind", "occurred_at", "direction", "status", "subject", "with", "copies"]
    render.table(table, cols)
    return EXIT_OK


def cmd_errors(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path), read_only=True)
    rows = db.list_errors(account=args.account)
    if args.json:
        render.json_lines(rows)
        return EXIT_OK
    # What a person needs to find the item: the whole stream (a folder or a
    # file path), and the locator, else the provider id (a file name, a UID).
    table = [{**render.plain(r), "where": r.locator or r.provider_id} for r in rows]
    cols = ["account", "stream", "where", "reason", "detail", "count"]
    render.table(table, cols, whole=("stream", "where"))
    return EXIT_OK


def cmd_changes(args: argparse.Namespace, path: Path) -> int:
    db = open_db(load_settings(path), read_only=True)
    rows = db.changes_since(args.since, limit=args.limit)
    return listing(args, rows, ["id", "entity", "entity_id", "operation", "other_id", "at"])


def cmd_forget(args: argparse.Namespace, path: Path) -> int:
    """Erase a person; only a salted digest of their addresses stays (storage.forget)."""
    from connectors.records import normalize_email
    from matcher.mailboxes import mailbox_key

    settings = load_settings(path)
    target = args.target.strip()
    if target.isdigit():
        where: dict[str, Any] = {"contact_id": int(target)}
    elif email := normalize_email(target):
        domains = settings.subaddressing.domains_for(settings.org_domains)
        where = {"addresses": sorted({email, mailbox_key(email, domains)})}
    else:
        raise CommandError("forget takes a contact id or an email address", EXIT_CONFIG)
    try:
        done = open_db(settings).forget(**where)
    except LookupError:
        raise CommandError(f"nothing stored for {target}") from None
    who = f"contact {done.contact_id}" if done.contact_id is not None else "the address"
    print(
        f"forgot {who}: {done.addresses} addresses kept only as salted digests, "
        f"{done.anonymised} participations anonymised, "
        f"{done.erased_interactions} interactions with nobody else erased"
    )
    return EXIT_OK


def cmd_purge(args: argparse.Namespace, path: Path) -> int:
    """Apply today's blocklist to what was captured before it (storage.purge)."""
    from agent.policy import blocklist_of

    settings = load_settings(path)
    done = open_db(settings).purge(blocklist_of(settings), apply=args.apply)
    verb = "removed" if args.apply else "would remove"
    print(
        f"{verb} {done.contacts} contacts, {done.addresses} contact addresses, "
        f"{done.participants} participants and {done.interactions} interactions"
    )
    return EXIT_OK
