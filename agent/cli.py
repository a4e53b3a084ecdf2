"""The ``autocapture`` command line.

Exit codes: 0 success; 1 a runtime failure (an account failed, a file could
not be inspected, an unknown id); 2 a configuration or usage error, reported
before anything touches the database.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import platformdirs

from agent import commands, data_commands, logs, status_commands
from agent.commands import Command
from agent.review_commands import add_review_parser, cmd_review
from config.exit_codes import EXIT_INTERRUPTED, EXIT_OK

CONFIG_ENV = "AUTOCAPTURE_CONFIG"
COMMANDS: dict[str, Command] = {
    "run": commands.cmd_run,
    "sync": commands.cmd_sync,
    "config": commands.cmd_config_check,
    "inspect": commands.cmd_inspect,
    "service": commands.cmd_service,
    "status": status_commands.cmd_status,
    "verify": status_commands.cmd_verify,
    "contacts": data_commands.cmd_contacts,
    "interactions": data_commands.cmd_interactions,
    "errors": data_commands.cmd_errors,
    "changes": data_commands.cmd_changes,
    "dedupe": data_commands.cmd_dedupe,
    "forget": data_commands.cmd_forget,
    "purge": data_commands.cmd_purge,
    "review": cmd_review,
}

EPILOG = """\
configuration: --config FILE, else $AUTOCAPTURE_CONFIG, else {default}.
Check it with `autocapture config check [FILE]`; see config/example.yaml.

examples:
  autocapture sync                      capture every account once, then exit
  autocapture run                       poll every account until SIGTERM/Ctrl-C
  autocapture contacts search acme      find contacts by name, email or company
  autocapture inspect invite.eml        what would be captured from one file, and why
  autocapture auth google ann-gmail     grant read-only access to a gmail account (once)
  autocapture auth microsoft dana       sign in once to a rep's own Microsoft 365 mailbox
  autocapture review list               addresses that probably belong to a contact
"""


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir("autocapture")) / "autocapture.yaml"


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per line")


def _day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), time(), UTC)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from None


def _duration(text: str) -> Any:
    from agent.identity import duration

    return duration(text)


def _contact_ref(text: str) -> Any:
    from agent.identity import contact_ref

    return contact_ref(text)


def _add_merges(csub: Any) -> None:
    p = csub.add_parser(
        "merge",
        help="merge contact MERGED into SURVIVOR (audited; undo with unmerge)",
        description=(
            "Move every address, interaction, observation and field lock of MERGED to "
            "SURVIVOR and delete MERGED; its id keeps naming SURVIVOR. Fields locked by a "
            "person or a CRM keep their owner (SURVIVOR's lock wins where both have one). "
            "Every moved row is recorded, so `contacts unmerge` restores them exactly."
        ),
    )
    p.add_argument("survivor", type=int, help="the contact that stays")
    p.add_argument("merged", type=int, help="the contact merged into it")
    p.add_argument("--reason", help='why, for the audit (default: "merged by hand")')
    p.add_argument("--by", help="who, for the audit (default: the user running the command)")
    p = csub.add_parser(
        "unmerge",
        help="undo a merge: by its id (m12) or a contact it involved",
        description=(
            "Undo a merge named by its id as printed (m12), or by a contact id: the "
            "merged-away contact, or a survivor of exactly one merge. Every moved row goes "
            "back; what was captured since for the merged-away addresses goes with them."
        ),
    )
    p.add_argument("target", metavar="MERGE_ID|CONTACT")
    p.add_argument("--by", help="who, for the audit (default: the user running the command)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autocapture",
        description="Capture contacts and interactions from mail and calendars into a database.",
        epilog=EPILOG.format(default=default_config_path()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-c", "--config", type=Path, help="the YAML configuration file")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-v INFO, -vv DEBUG); overrides log_level in the config",
    )
    parser.add_argument(
        "--log-file",
        type=Path,
        help="also log to this file, rotated at 10 MB keeping 5 (services without a journal)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per log line, for log collectors",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "run",
        help="poll every account on its interval until stopped",
        description=(
            "Poll every enabled account on its interval until SIGTERM or Ctrl-C; the batch "
            "in hand is committed first. SQLite: one `run` per database. PostgreSQL: start "
            "as many as you like, on any machines; they share the accounts by leases (each "
            "account worked by one at a time, taken over lease_ttl after its worker died)."
        ),
    )
    p = sub.add_parser("sync", help="one pass over every account (or one), then exit")
    p.add_argument("--account", help="only this account")
    p = sub.add_parser(
        "status",
        help="per account: health, last success, items, lag, last error, completeness; "
        "the worker holding it",
        description=(
            "Per account: its health (backfilling done/total, live, throttled until, "
            "needs_reauth with the command to run, failing since and why, disabled), the "
            "last success, items stored, the newest item, the last error, and the last "
            "completeness check of each stream (verify). --json adds the state's history."
        ),
    )
    _add_json(p)
    p = sub.add_parser(
        "verify",
        help="check every stream against the provider's listing; queue what is missing",
        description=(
            "Ask the provider which items each stream holds in the backfill window (IMAP: "
            "UID SEARCH per folder; CalDAV: ETags by PROPFIND), without fetching any message "
            "or event, and compare with what was captured. Missing items are reported and "
            "fetched by the next poll (run, or sync); items gone at the provider are marked "
            "removed. `run` does this on its own every verify_every (default daily). Exit 1 "
            "when an account could not be checked."
        ),
    )
    p.add_argument("--account", help="only this account")
    _add_json(p)

    contacts = sub.add_parser("contacts", help="list, show or search captured contacts")
    csub = contacts.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = csub.add_parser("list", help="contacts by id, or the stale ones (--stale)")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument(
        "--stale",
        type=_duration,
        metavar="DURATION",
        help="only contacts not seen for this long (e.g. 180d), or never; longest unseen first",
    )
    _add_json(p)
    p = csub.add_parser(
        "show",
        help="one contact with every field and where it was seen (a merged id: its survivor)",
    )
    p.add_argument("id", type=_contact_ref, metavar="ID_OR_EMAIL", help="a contact id or address")
    _add_json(p)
    _add_merges(csub)
    p = csub.add_parser("search", help="by name, email or company (case-insensitive)")
    p.add_argument("text")
    _add_json(p)
    p = csub.add_parser(
        "import",
        help="create or update contacts from a CRM export (CSV or vCard); fields crm-owned",
    )
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["csv", "vcard"], help="default: from the file's extension")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="CSV: the column of a field (email, name, given_name, family_name, title, company)",
    )

    csub.add_parser(
        "reindex",
        help="give every contact its scored-resolution keys (once, after upgrading to them)",
    )
    add_review_parser(sub)

    p = sub.add_parser("interactions", help="captured emails and meetings, newest first")
    p.add_argument(
        "--contact",
        type=_contact_ref,
        metavar="ID_OR_EMAIL",
        help="only those with this contact (its id or an address of it)",
    )
    p.add_argument("--limit", type=int, default=50)
    _add_json(p)
    p = sub.add_parser("errors", help="items that could not be captured, with the reason")
    p.add_argument("--account", help="only this account")
    _add_json(p)
    p = sub.add_parser("changes", help="the change feed a CRM pulls: every change after --since")
    p.add_argument("--since", type=int, default=0)
    p.add_argument("--limit", type=int, default=1000)
    _add_json(p)

    p = sub.add_parser(
        "dedupe",
        help="find duplicate contacts, scored as capture scores an unknown address",
        description=(
            "--scan lists pairs of contacts that are likely one person (first, second, "
            "outcome, score, reasons), streamed as found; a summary goes to stderr. "
            "Outcome link: strong evidence (a name and a phone, a thread or a former "
            "address); review: a person should decide (autocapture contacts merge). "
            "The thresholds are the configuration's identity: ones capture uses. "
            "--apply-above merges the link pairs scoring at least SCORE, the older contact "
            "surviving; every merge is audited and undone with `contacts unmerge`."
        ),
    )
    p.add_argument("--scan", action="store_true", required=True, help="scan every contact")
    p.add_argument("--apply-above", type=float, metavar="SCORE", help="merge link pairs >= SCORE")
    p.add_argument("--by", help="who, for the merge audit (default: the user running it)")
    _add_json(p)

    p = sub.add_parser(
        "forget",
        help="erase a person (contact id or email address) and never capture them again",
    )
    p.add_argument("target", help="a contact id, or an email address")

    p = sub.add_parser(
        "purge", help="remove what the current blocklist would have kept out of the database"
    )
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    mode.add_argument("--apply", action="store_true", help="remove it")

    p = sub.add_parser(
        "inspect",
        help="show what would be captured from one .eml, .mbox or .ics file (no database "
        "unless --database)",
    )
    p.add_argument("file", type=Path)
    p.add_argument(
        "--owner",
        action="append",
        default=[],
        help="the mailbox owner's address (repeatable); default: from --config",
    )
    p.add_argument("--account", help="use this account's owner and policy from the config")
    p.add_argument(
        "--since", type=_day, help="meetings from this day (YYYY-MM-DD; default: 10 years ago)"
    )
    p.add_argument("--until", type=_day, help="meetings up to this day (default: 2 years ahead)")
    p.add_argument(
        "--database",
        action="store_true",
        help="resolve against the configured database (read only): which contact, and why",
    )
    _add_json(p)

    cfg = sub.add_parser("config", help="configuration tools")
    cfgsub = cfg.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = cfgsub.add_parser("check", help="report every problem in a config file (exit 2 if any)")
    p.add_argument(
        "file",
        type=Path,
        nargs="?",
        help="default: what every command reads (--config, else $AUTOCAPTURE_CONFIG, else "
        f"{default_config_path()})",
    )
    _add_service(sub)
    _add_auth(sub)
    return parser


def _add_auth(sub: Any) -> None:
    auth = sub.add_parser(
        "auth",
        help="grant autocapture read-only access to an account (once per account)",
        description=(
            "Sign in to an account's provider in a browser and store the grant, encrypted "
            "with token_key, in the database, where every agent sharing it finds it."
        ),
    )
    asub = auth.add_subparsers(dest="provider", metavar="PROVIDER", required=True)
    p = asub.add_parser(
        "google",
        help="a gmail account: Google's consent page, read-only Gmail and Calendar scopes",
        description=(
            "Runs Google's installed-app flow for a gmail account configured with client_id "
            "and client_secret (an OAuth client of type Desktop app): opens Google's consent "
            "page in a browser (or prints its URL), receives the answer on 127.0.0.1, and "
            "stores the refresh token. Asks for gmail.readonly and, unless the account says "
            "calendar: false, calendar.readonly; nothing else."
        ),
    )
    p.add_argument("account", help="the account's name in the configuration")
    p.add_argument(
        "--no-browser",
        action="store_true",
        help="only print the URL to open (a browser elsewhere must reach this machine's "
        "127.0.0.1 at --port, e.g. through `ssh -L`)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=0,
        help="the 127.0.0.1 port the browser comes back to (default: any free one; fix it "
        "to forward it, e.g. `ssh -L 8765:127.0.0.1:8765 server`)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the browser to come back (default 600)",
    )
    p = asub.add_parser(
        "microsoft",
        help="a microsoft account with auth: delegated: device-code sign-in, read-only scopes",
        description=(
            "Sign in as the account's user on any device (the command prints a URL and a "
            "code; it works on a headless server) and consent to read-only access to mail "
            "and calendars (Mail.Read, Calendars.Read, offline_access); msal's token cache "
            "is kept encrypted in the database. Run it again after `status` says needs_reauth."
        ),
    )
    p.add_argument("account", help="the account's name in the configuration")


def _add_service(sub: Any) -> None:
    service = sub.add_parser(
        "service",
        help="install `autocapture run` as a background service (systemd, launchd, Task Scheduler)",
        description=(
            "Install, remove or inspect the background service that runs `autocapture run` "
            "with this configuration. Linux: a systemd user unit (a system unit with "
            "--system, run as its own `autocapture` user, hardened). macOS: a LaunchAgent. "
            "Windows: a Task Scheduler logon task. All restart the agent after a failure."
        ),
    )
    ssub = service.add_subparsers(dest="action", metavar="ACTION", required=True)
    for action, text in (
        ("install", "write the service definition, enable and start it"),
        ("uninstall", "stop and disable the service, remove its definition"),
        ("status", "whether the service is installed, enabled and running"),
    ):
        p = ssub.add_parser(action, help=text)
        p.add_argument("--system", action="store_true", help="a system-wide systemd unit")
        p.add_argument(
            "--platform",
            choices=("systemd", "launchd", "windows"),
            help="the service manager (default: this machine's)",
        )
        if action == "install":
            p.add_argument(
                "--print",
                action="store_true",
                help="print the service definition instead of installing it",
            )


def _auth(args: argparse.Namespace, path: Path) -> int:
    from agent.auth import cmd_auth  # the OAuth libraries load only for this command

    return cmd_auth(args, path)


def config_path(args: argparse.Namespace) -> Path:
    if args.config:
        return Path(args.config)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else default_config_path()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.setup(args.verbose, args.log_file, args.log_format)
    try:
        return commands.dispatch(args, config_path(args), {**COMMANDS, "auth": _auth})
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `autocapture contacts list | head`
        sys.stderr.close()
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
