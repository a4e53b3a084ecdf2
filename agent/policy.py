"""Settings -> what the pure layers need: the matcher's AccountPolicy and a sync Window.

The agent is the only place that reads the clock for a sync; it passes
``now`` down so connectors and the matcher stay deterministic in tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.base import Window
from matcher.plan import AccountPolicy, Blocklist


def account_policy(settings: Any, account: Any) -> AccountPolicy:
    # Addresses and domains arrive normalized (lower-cased, IDNA) from config.
    return AccountPolicy(
        account=account.name,
        owner_addresses=frozenset(getattr(account, "owner", ())),
        org_domains=frozenset(settings.org_domains),
        privacy=account.privacy,
        creation=settings.creation.by_class(),
        blocklist=blocklist_of(settings),
        phone_region=getattr(settings, "phone_region", None),
        subaddress_domains=settings.subaddressing.domains_for(settings.org_domains),
    )


def blocklist_of(settings: Any) -> Blocklist:
    return Blocklist(
        addresses=frozenset(settings.blocklist.addresses),
        domains=frozenset(settings.blocklist.domains),
    )


def account_window(account: Any, now: datetime) -> Window:
    lookahead: timedelta = getattr(account, "lookahead", timedelta(days=90))
    return Window(since=now - account.backfill, until=now + lookahead)
