"""The Microsoft connector built as the agent builds it, pointed at the loopback fakes
(``tests.servers.microsoft_identity`` and ``microsoft_graph``): real msal, real HTTP."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import trustme

from agent.registry import BuildContext, microsoft_connector
from config.accounts import MicrosoftAccount
from config.loader import load_text
from connectors.base import Limits, Window
from connectors.microsoft.connector import MicrosoftConnector
from tests.servers.microsoft_graph import Graph

CLIENT_ID = "5d0c8a3e-7f21-4b6a-9c4e-2a1b3c4d5e6f"
CLIENT_SECRET = "Zq8~app-secret.Kx3vT0pLm"  # Entra's secrets look like this
DANA = "dana@acme.example"


def certificate() -> tuple[str, str]:
    """(private key PEM, certificate PEM) of an RSA certificate, as Entra requires."""
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    cert = ca.issue_cert("autocapture-app.example", key_type=trustme.KeyType.RSA)
    return cert.private_key_pem.bytes().decode(), cert.cert_chain_pems[0].bytes().decode()


def account_yaml(graph: Graph, name: str, user: str = DANA, /, **keys: Any) -> list[str]:
    """One microsoft account's YAML lines (indented for an ``accounts:`` list).

    ``keys`` add or replace fields (None drops one); the first three are
    positional so that a dict of fields can be passed as ``**keys``.
    """
    fields: dict[str, Any] = {
        "name": name,
        "kind": "microsoft",
        "owner": user,
        "tenant": graph.identity.tenant,
        "client_id": CLIENT_ID,
        "client_secret": "${TEST_M365_CLIENT_SECRET}",
        "authority": graph.server.url,
        "graph_root": graph.server.url,
        "ca_file": str(graph.server.ca_file),
        "backfill": "60d",
        "lookahead": "30d",
        **keys,
    }
    lines = []
    for n, (key, value) in enumerate((k, v) for k, v in fields.items() if v is not None):
        lines.append(f"  {'- ' if n == 0 else '  '}{key}: {value}")
    return lines


def settings_text(accounts: Iterable[list[str]], extra: str = "") -> str:
    lines = ["org_domains: [acme.example]", "accounts:"]
    for account in accounts:
        lines += account
    return "\n".join(lines) + "\n" + extra


def connector_on(
    graph: Graph, window: Window, limits: Limits, user: str = DANA, **keys: Any
) -> MicrosoftConnector:
    """A connector from settings, as the registry builds one (the secret inline via env)."""
    text = settings_text([account_yaml(graph, "dana-m365", user, **keys)])
    [account] = load_text(text).accounts
    assert isinstance(account, MicrosoftAccount)
    built = microsoft_connector(account, BuildContext(window, limits, announce=lambda v: None))
    assert isinstance(built, MicrosoftConnector)
    return built


def register(graph: Graph, user: str = DANA) -> None:
    graph.identity.register_app(CLIENT_ID, secret=CLIENT_SECRET)
    graph.add_user(user)


@pytest.fixture
def graph(microsoft_graph: Graph, monkeypatch: pytest.MonkeyPatch) -> Graph:
    """Graph with the client app and Dana registered, the app's secret where configs read it."""
    monkeypatch.setenv("TEST_M365_CLIENT_SECRET", CLIENT_SECRET)
    register(microsoft_graph)
    return microsoft_graph


def window_around(now: datetime | None = None) -> Window:
    present = now or datetime.now(UTC)
    return Window(present - timedelta(days=60), present + timedelta(days=30), present)


def graph_time(moment: datetime) -> dict[str, str]:
    """A dateTimeTimeZone as Graph answers without an outlook.timezone preference."""
    return {"dateTime": moment.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def graph_event(
    event_id: str,
    uid: str,
    start: datetime,
    subject: str,
    organizer: str,
    attendees: Iterable[tuple[str, str, str]],
    **extra: Any,
) -> dict[str, Any]:
    """One single-instance event; ``attendees`` as (address, type, response)."""
    return {
        "id": event_id,
        "iCalUId": uid,
        "type": "singleInstance",
        "subject": subject,
        "isCancelled": False,
        "start": graph_time(start),
        "end": graph_time(start + timedelta(minutes=30)),
        "organizer": {"emailAddress": {"name": organizer, "address": organizer}},
        "attendees": [
            {"type": kind, "status": {"response": response}, "emailAddress": {"address": address}}
            for address, kind, response in attendees
        ],
        **extra,
    }
