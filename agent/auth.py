"""``autocapture auth PROVIDER ACCOUNT``: a rep grants read-only access to their own
mailbox once; what the provider hands back is kept encrypted in the database
(``agent.tokens``), where every agent process sharing it finds the grant.

Google: the installed-app flow. Everything that can fail without the rep is
checked before the browser opens: the account is a Gmail account signing in
with an OAuth client, its client secret is readable, the database opens and
the token key works; the refresh token is stored.

Microsoft: the device-code flow (``connectors.microsoft.delegated.sign_in``)
prints a URL and a code; the rep signs in on any device, consents to
read-only access, and msal's token cache is stored. Running it again
replaces it (after a password reset or a revoked consent, which mark the
account ``needs_reauth``).
"""

from __future__ import annotations

import argparse
import webbrowser
from pathlib import Path
from typing import Any

from agent.commands import CommandError, load_settings, open_db, register_account_secrets
from agent.redact import redact, register_secret
from agent.tokens import StoredTokens
from config.accounts import GmailAccount
from config.errors import SecretUnavailable
from config.exit_codes import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from config.settings import Settings
from connectors.base import ConnectorError
from storage.errors import StorageError

REFRESH_TOKEN = "refresh_token"  # the name the gmail factory reads (agent.registry)

PROMPT = (
    "To let autocapture read {account} (read-only: {scopes}), open this URL in a browser "
    "signed in to Google as {owner}:\n\n    {{url}}\n\n"
    "Waiting for the browser to come back to this machine (127.0.0.1)..."
)


def has_browser() -> bool:
    """Whether ``webbrowser`` finds a browser to start (none on a server over ssh)."""
    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


def gmail_account(settings: Settings, name: str) -> GmailAccount:
    try:
        account = settings.account(name)
    except KeyError:
        raise CommandError(f"no account named {name!r} in the configuration", EXIT_CONFIG) from None
    if not isinstance(account, GmailAccount):
        raise CommandError(
            f"account {name!r} is of kind {account.kind!r}; `auth google` signs in gmail accounts",
            EXIT_CONFIG,
        )
    return account


def cmd_auth(args: argparse.Namespace, path: Path) -> int:
    if args.provider == "microsoft":
        return cmd_auth_microsoft(args, path)
    return cmd_auth_google(args, path)


def cmd_auth_google(args: argparse.Namespace, path: Path) -> int:
    from connectors.google.consent import Client, installed_app_grant, read_only_scopes

    settings = load_settings(path)
    account = gmail_account(settings, args.account)
    if account.client_id is None or account.client_secret is None:
        raise CommandError(
            f"account {account.name!r} acts for {account.subject} through a service account "
            "(service_account_key): nobody signs in; the Google Workspace admin grants its "
            "client ID domain-wide delegation in the Admin console",
            EXIT_CONFIG,
        )
    register_account_secrets(settings)
    try:
        secret = account.client_secret.resolve()
    except SecretUnavailable as exc:
        raise CommandError(
            f"account {account.name!r}: secret {exc.reference} (key client_secret) "
            f"is unavailable: {exc.reason}",
            EXIT_CONFIG,
        ) from None
    open_db(settings).close()  # migrated: the token table exists
    stored = StoredTokens.of(settings)
    try:
        stored.store()  # the key works, before anyone signs in
        client = Client(account.client_id, secret, account.auth_uri, account.token_uri)
        scopes = read_only_scopes(account.calendar)
        prompt = PROMPT.format(
            account=account.name,
            scopes=", ".join(s.rsplit("/", 1)[-1] for s in scopes),
            owner=account.owner[0],
        )
        granted = installed_app_grant(
            client,
            scopes,
            open_browser=not args.no_browser and has_browser(),
            timeout=args.timeout,
            port=args.port,
            prompt=prompt,
            login_hint=account.owner[0],
            announce=register_secret,
        )
        stored.secret(account.name, REFRESH_TOKEN).save(granted.refresh_token)
    except (StorageError, ConnectorError) as exc:
        raise CommandError(f"account {account.name!r}: {redact(str(exc))}", EXIT_FAILED) from None
    finally:
        stored.close()
    print(
        f"{account.name}: access granted ({', '.join(granted.scopes)}); the refresh token is "
        f"stored encrypted in the database under the token key {settings.token_key}"
    )
    if account.refresh_token is not None:
        print(
            f"note: the configuration gives {account.name} refresh_token: "
            f"{account.refresh_token}, which is used instead; remove it to use the stored one"
        )
    return EXIT_OK


def cmd_auth_microsoft(args: argparse.Namespace, path: Path) -> int:
    settings = load_settings(path)
    account = next((a for a in settings.accounts if a.name == args.account), None)
    if account is None:
        raise CommandError(f"no account named {args.account!r} in the configuration", EXIT_CONFIG)
    if account.kind != args.provider:
        raise CommandError(
            f"account {account.name!r} is kind {account.kind}, not {args.provider}", EXIT_CONFIG
        )
    return sign_in_microsoft(settings, account)


def sign_in_microsoft(settings: Any, account: Any) -> int:
    from agent.registry import microsoft_client
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
