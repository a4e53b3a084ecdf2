"""``autocapture auth PROVIDER ACCOUNT``: a rep grants access to their own mailbox, once.

Microsoft: the device-code flow (``connectors.microsoft.delegated.sign_in``)
prints a URL and a code; the rep signs in on any device, consents to
read-only access, and the tokens land encrypted in the database's token
store, where every agent on that database finds them. Running it again
replaces them (after a password reset or a revoked consent, which mark the
account ``needs_reauth``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from agent.commands import CommandError, load_settings, open_db, register_account_secrets
from config.exit_codes import EXIT_CONFIG, EXIT_OK


def cmd_auth(args: argparse.Namespace, path: Path) -> int:
    settings = load_settings(path)
    account = next((a for a in settings.accounts if a.name == args.account), None)
    if account is None:
        raise CommandError(f"no account named {args.account!r}", EXIT_CONFIG)
    if account.kind != args.provider:
        raise CommandError(
            f"account {account.name!r} is kind {account.kind}, not {args.provider}", EXIT_CONFIG
        )
    return sign_in_microsoft(settings, account)


def sign_in_microsoft(settings: Any, account: Any) -> int:
    from agent.registry import microsoft_client
    from agent.tokens import StoredTokens
    from connectors.base import ConnectorError
    from connectors.microsoft.delegated import CACHE_NAME, sign_in

    if account.auth != "delegated":
        raise CommandError(
            f"account {account.name!r} reads the mailbox with the app's own permissions "
            "(auth: app), so nobody signs in; set auth: delegated for a rep's own sign-in",
            EXIT_CONFIG,
        )
    register_account_secrets(settings)
    open_db(settings).close()  # the token store's table exists once the schema is current
    tokens = StoredTokens.of(settings)
    client = microsoft_client(account)
    try:
        who = sign_in(
            account.client_id,
            account.tenant,
            account.user,
            tokens.secret(account.name, CACHE_NAME),
            authority_host=account.authority,
            graph_root=account.graph_root,
            session=client.session,
            show=lambda text: print(text, flush=True),
        )
    except ConnectorError as exc:
        raise CommandError(str(exc)) from None
    finally:
        client.close()
        tokens.close()
    print(
        f"{account.name}: signed in as {who}: read-only access to mail and calendars, "
        f"kept encrypted in the database. `autocapture sync --account {account.name}` "
        "captures now."
    )
    return EXIT_OK
