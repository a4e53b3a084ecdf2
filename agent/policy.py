"""Settings -> what the pure layers need: the matcher's AccountPolicy and a sync Window.

The agent is the only place that reads the clock for a sync; it passes
``now`` down so connectors and the matcher stay deterministic in tests.
"""

from __future__ import annotations

from datetime import datetime

from config.accounts import AccountBase
from config.settings import Settings
from connectors.base import Window
from matcher.plan import AccountPolicy, Blocklist, Thresholds


def account_policy(settings: Settings, account: AccountBase) -> AccountPolicy:
    # Addresses and domains arrive normalized (lower-cased, IDNA) from config.
    return AccountPolicy(
        account=account.name,
        owner_addresses=frozenset(account.owner),
        org_domains=frozenset(settings.org_domains),
        privacy=account.privacy,
        creation=settings.creation.by_class(),
        blocklist=blocklist_of(settings),
        phone_region=settings.phone_region,
        subaddress_domains=settings.subaddressing.domains_for(settings.org_domains),
        identity=thresholds_of(settings),
    )


def thresholds_of(settings: Settings) -> Thresholds:
    found = settings.identity
    return Thresholds(
        link=found.link_at, review=found.review_at, name=found.name_at, margin=found.margin
    )


def blocklist_of(settings: Settings) -> Blocklist:
    return Blocklist(
        addresses=frozenset(settings.blocklist.addresses),
        domains=frozenset(settings.blocklist.domains),
    )


def account_window(account: AccountBase, now: datetime) -> Window:
    return Window(since=now - account.backfill, until=now + account.lookahead, now=now)
