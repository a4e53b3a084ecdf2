"""config/: defaults, normalization and per-kind account rules; the shipped example."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import platformdirs
import pytest
import yaml
from pydantic import ValidationError

from agent.policy import account_policy
from config import (
    ArchiveAccount,
    CaldavAccount,
    ConfigError,
    CreationSettings,
    GmailAccount,
    ImapAccount,
    MicrosoftAccount,
    Secret,
    Settings,
    load,
    load_text,
    review,
)
from config.accounts import AccountBase, PluginAccount
from matcher.plan import AccountPolicy, Thresholds
from tests.config_text import EXAMPLE, imap_with_password, problems_of, write

# --- defaults and normalization ----------------------------------------------------------------


def test_defaults() -> None:
    settings = load_text("")
    expected_db = Path(platformdirs.user_data_dir("autocapture")) / "autocapture.db"
    assert settings.database_url == f"sqlite:///{expected_db}"
    assert settings.token_key == Secret("file", str(expected_db.with_name("token.key")))
    assert settings.org_domains == ()
    assert settings.workers == 4
    assert settings.phone_region is None
    assert settings.log_level == "INFO"
    assert settings.accounts == ()
    assert settings.blocklist.addresses == () and settings.blocklist.domains == ()
    # The creation defaults agree with the matcher's own defaults.
    assert settings.creation.by_class() == dict(AccountPolicy("a", frozenset()).creation)


COMMON_DEFAULTS = {
    "poll_interval": timedelta(minutes=5),
    "backfill": timedelta(days=365),
    "lookahead": timedelta(days=90),
    "privacy": "subject",
    "enabled": True,
    "batch_size": 500,
}


def test_imap_defaults() -> None:
    text = imap_with_password("${P}").replace("owner: ann@example.com", "owner: Ann@Example.COM")
    account = load_text(text).accounts[0]
    assert account.model_dump() == {
        **COMMON_DEFAULTS,
        "name": "ann",
        "kind": "imap",
        "owner": ("ann@example.com",),
        "timeout": timedelta(seconds=60),
        "host": "imap.example.com",
        "allow_plaintext": False,
        "tls": "implicit",
        "port": 993,
        "verify_tls": True,
        "ca_file": None,
        "username": "ann@example.com",
        "oauth_token": None,
        "password": "${P}",  # dumps hold the reference, which validates back to the Secret
        "folders": None,
        "text_bytes": 16384,
    }


def test_an_archive_is_read_whole_unless_its_backfill_says_otherwise() -> None:
    text = "accounts:\n  - {name: old, kind: archive, owner: a@example.com, paths: a.mbox}\n"
    assert load_text(text).accounts[0].backfill == timedelta(days=36500)
    # A mailbox keeps the year's window: its first sync of a decade-old account stays short.
    assert load_text(imap_with_password("${P}")).accounts[0].backfill == timedelta(days=365)


def test_a_dump_validates_back_to_equal_settings() -> None:
    settings = load(EXAMPLE)
    assert Settings.model_validate(settings.model_dump()) == settings
    assert Settings.model_validate_json(settings.model_dump_json()) == settings


def test_caldav_defaults() -> None:
    account = load_text(
        "accounts:\n  - {name: cal, kind: caldav, url: 'https://cal.example.com/'}\n"
    ).accounts[0]
    assert account.model_dump() == {
        **COMMON_DEFAULTS,
        "name": "cal",
        "kind": "caldav",
        "owner": (),
        "timeout": timedelta(seconds=60),
        "url": "https://cal.example.com/",
        "allow_plaintext": False,
        "username": None,
        "token": None,
        "password": None,
        "verify_tls": True,
        "ca_file": None,
        "calendars": None,
        "allowed_redirect_hosts": (),
    }


def test_allowed_redirect_hosts_are_normalized_hosts_with_optional_ports() -> None:
    text = (
        "accounts:\n  - name: cal\n    kind: caldav\n    url: https://cal.example.com/\n"
        "    allowed_redirect_hosts: [CalDAV.Example.NET, 'dav.example.com:8443', '[::1]:9']\n"
    )
    account = load_text(text).accounts[0]
    assert isinstance(account, CaldavAccount)
    assert account.allowed_redirect_hosts == (
        "caldav.example.net",
        "dav.example.com:8443",
        "[::1]:9",
    )
    wrong = text.replace("'[::1]:9'", "'https://evil.example/'")
    with pytest.raises(ConfigError) as caught:
        load_text(wrong)
    assert str(caught.value) == (
        "<string>:5 accounts[0].allowed_redirect_hosts[2]: expected a host name like "
        '"dav.example.com" or "host:port", got "https://evil.example/"'
    )


def test_caldav_credentials_over_plain_http_need_explicit_consent(tmp_path: Path) -> None:
    account = """\
        accounts:
          - name: lab
            kind: caldav
            url: http://127.0.0.1:5232/
            username: ann
            password: ${P}
          - name: lab-token
            kind: caldav
            url: http://localhost:5232/
            token: ${T}
          - name: anonymous
            kind: caldav
            url: http://127.0.0.1:5232/
        """
    assert problems_of(account) == [
        (
            6,
            "accounts[0].password",
            "an http:// URL sends the password in clear text; "
            "use https:// or set allow_plaintext: true to accept that",
        ),
        (
            10,
            "accounts[1].token",
            "an http:// URL sends the token in clear text; "
            "use https:// or set allow_plaintext: true to accept that",
        ),
    ]
    allowed = account.replace(
        "url: http://127.0.0.1:5232/\n            username",
        ("url: http://127.0.0.1:5232/\n            allow_plaintext: true\n            username"),
    )
    path = write(
        tmp_path, allowed.replace("token: ${T}", "token: ${T}\n            allow_plaintext: true")
    )
    assert [str(w) for w in review(path).warnings if "clear text" in str(w)] == [
        f"{path}:4 accounts[0].url: warning: the credentials cross the network in clear text",
        f"{path}:10 accounts[1].url: warning: the credentials cross the network in clear text",
    ]


def test_starttls_port_explicit_username_and_account_lookup() -> None:
    text = imap_with_password("${P}") + "    tls: starttls\n    username: bob\n"
    settings = load_text(text)
    account = settings.account("ann")
    assert isinstance(account, ImapAccount)
    assert (account.port, account.username) == (143, "bob")
    with pytest.raises(KeyError):
        settings.account("nobody")


def test_plaintext_imap_needs_explicit_consent() -> None:
    settings = load_text(imap_with_password("${P}") + "    tls: none\n    allow_plaintext: true\n")
    account = settings.accounts[0]
    assert isinstance(account, ImapAccount)
    assert (account.tls, account.port, account.allow_plaintext) == ("none", 143, True)


def test_domains_and_addresses_are_normalized() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            org_domains: Example.COM.
            phone_region: gb
            log_level: debug
            blocklist:
              addresses: [CEO@Example.com]
              domains: [BÜCHER.example, Spam.Example]
            """
        )
    )
    assert settings.org_domains == ("example.com",)
    assert settings.blocklist.addresses == ("ceo@example.com",)
    assert settings.blocklist.domains == ("xn--bcher-kva.example", "spam.example")
    assert (settings.phone_region, settings.log_level) == ("GB", "DEBUG")


def test_subaddressing_domains_reach_the_policy_normalized() -> None:
    text = """\
        org_domains: [OurCo.com]
        subaddressing:
          org_domains: true
          domains: [Customer.EXAMPLE.]
        accounts:
          - {name: a, kind: archive, owner: me@ourco.com, paths: [x.mbox]}
        """
    settings = load_text(textwrap.dedent(text))
    policy = account_policy(settings, settings.accounts[0])
    assert policy.subaddress_domains == frozenset({"ourco.com", "customer.example"})
    off = load_text(textwrap.dedent(text).replace("org_domains: true", "org_domains: false"))
    assert account_policy(off, off.accounts[0]).subaddress_domains == {"customer.example"}
    assert account_policy(load_text(""), settings.accounts[0]).subaddress_domains == frozenset()
    assert problems_of("subaddressing:\n  org_domains: yes\n") == [
        (2, "subaddressing.org_domains", 'expected a valid boolean, got "yes"')
    ]


def test_addresses_need_a_real_domain() -> None:
    assert problems_of(
        "blocklist:\n  addresses: [a@example.com#x.com, a@localhost, ok@example.com, '@x.org']\n"
    ) == [
        (
            2,
            f"blocklist.addresses[{n}]",
            f'expected an email address like "ann@example.com", got "{bad}"',
        )
        for n, bad in ((0, "a@example.com#x.com"), (1, "a@localhost"), (3, "@x.org"))
    ]


def test_unknown_phone_region() -> None:
    assert problems_of("phone_region: XX\n") == [
        (1, "phone_region", 'expected a two-letter region code like "DE", got "XX"')
    ]


def test_archive_paths_are_relative_to_the_yaml_folder(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        accounts:
          - name: takeout
            kind: archive
            owner: ann@example.com
            paths: [mail/all.mbox, ~/cal.ics, /srv/exports/x.mbox]
        """,
    )
    (tmp_path / "mail").mkdir()
    # Holds mail: an empty mbox would be warned about as one that gives none.
    (tmp_path / "mail" / "all.mbox").write_text(
        "From a@example.com Tue Mar  3 10:15:00 2026\nFrom: a@example.com\n\nHi\n"
    )
    account = load(path).accounts[0]
    assert isinstance(account, ArchiveAccount)
    assert account.paths == (
        tmp_path / "mail" / "all.mbox",
        Path.home() / "cal.ics",
        Path("/srv/exports/x.mbox"),
    )
    assert [(w.line, w.path) for w in review(path).warnings] == [
        (5, "accounts[0].paths[1]"),
        (5, "accounts[0].paths[2]"),
    ]


def test_relative_sqlite_path_is_relative_to_the_yaml_folder(tmp_path: Path) -> None:
    def url_of(url: str) -> str:
        return load(write(tmp_path, f'database_url: "{url}"\n')).database_url

    assert url_of("sqlite:///data/ac.db") == f"sqlite:///{tmp_path}/data/ac.db"
    assert url_of("sqlite:///~/ac.db?timeout=5") == f"sqlite:///{Path.home()}/ac.db?timeout=5"
    assert url_of("sqlite:////srv/ac.db") == "sqlite:////srv/ac.db"
    assert url_of("sqlite:///:memory:") == "sqlite:///:memory:"
    assert url_of("postgresql+psycopg://app@db/crm") == "postgresql+psycopg://app@db/crm"
    assert not (tmp_path / "data").exists()


def test_duplicate_names_are_refused_when_settings_are_built_in_code() -> None:
    def archive(name: str) -> ArchiveAccount:
        return ArchiveAccount(
            name=name, kind="archive", owner=("a@example.com",), paths=(Path("/a"),)
        )

    with pytest.raises(ValidationError) as caught:
        Settings(accounts=(archive("a"), archive("b"), archive("a")))
    assert [(e["loc"], e["msg"]) for e in caught.value.errors()] == [
        (("accounts", 2, "name"), 'account name "a" is already used by accounts[0]')
    ]


def test_settings_are_frozen() -> None:
    settings = load_text(textwrap.dedent(imap_with_password("${P}")))
    with pytest.raises(ValidationError):
        settings.workers = 8
    with pytest.raises(ValidationError):
        settings.accounts[0].name = "other"
    with pytest.raises(ValidationError):
        settings.creation.person = "always"
    assert isinstance(settings.accounts, tuple) and isinstance(settings.accounts[0].owner, tuple)


# --- the example -------------------------------------------------------------------------------


def test_example_loads_cleanly() -> None:
    settings = load(EXAMPLE)
    assert [(a.name, a.kind) for a in settings.accounts] == [
        ("takeout", "archive"),
        ("ann-imap", "imap"),
        ("bob-gmail", "gmail"),
        ("carol-m365", "microsoft"),
        ("team-calendar", "caldav"),
        ("crm-export", "plugin"),
    ]


def test_example_writes_every_key_and_no_inline_secret() -> None:
    raw = yaml.safe_load(EXAMPLE.read_text())
    assert set(raw) == set(Settings.model_fields)
    assert set(raw["creation"]) == set(CreationSettings.model_fields)
    assert set(raw["blocklist"]) == {"addresses", "domains"}
    assert set(raw["subaddressing"]) == {"org_domains", "domains"}
    models: dict[str, type[AccountBase]] = {
        "archive": ArchiveAccount,
        "imap": ImapAccount,
        "gmail": GmailAccount,
        "microsoft": MicrosoftAccount,
        "caldav": CaldavAccount,
        "plugin": PluginAccount,
    }
    assert sorted(a["kind"] for a in raw["accounts"]) == sorted(models)
    for account in raw["accounts"]:
        assert set(account) == set(models[account["kind"]].model_fields), account["name"]
    secrets = [
        (account.name, name, str(value))
        for account in load(EXAMPLE).accounts
        for name, value in account
        if isinstance(value, Secret)
    ]
    assert secrets == [
        ("ann-imap", "password", "${IMAP_PASSWORD}"),
        (
            "bob-gmail",
            "client_secret",
            f"file:{Path.home()}/.config/autocapture/google-client-secret",
        ),
        ("carol-m365", "client_secret", "${M365_CLIENT_SECRET}"),
        ("team-calendar", "password", "${CALDAV_PASSWORD}"),
    ]


GMAIL = "accounts:\n  - name: g\n    kind: gmail\n    owner: Dana@Acme.example\n"


def test_gmail_signs_in_with_an_oauth_client_or_a_service_account_never_both() -> None:
    rep = load_text(GMAIL + "    client_id: c1\n    client_secret: ${S}\n").accounts[0]
    assert isinstance(rep, GmailAccount)
    assert (rep.client_id, rep.refresh_token, rep.service_account_key) == ("c1", None, None)
    assert rep.auth_uri == "https://accounts.google.com/o/oauth2/auth"
    admin = load_text(GMAIL + "    service_account_key: file:/etc/ac/sa.json\n").accounts[0]
    assert isinstance(admin, GmailAccount)
    assert (admin.service_account_key, admin.impersonate, admin.subject) == (
        Secret("file", "/etc/ac/sa.json"),
        None,
        "dana@acme.example",  # the first owner
    )
    other = load_text(
        GMAIL + "    service_account_key: ${K}\n    impersonate: Erin@Acme.example\n"
    ).accounts[0]
    assert isinstance(other, GmailAccount)
    assert other.subject == "erin@acme.example"
    both = "give client_id and client_secret (each rep signs in) or service_account_key"
    assert [p[1:] for p in problems_of(GMAIL)] == [
        ("accounts[0].service_account_key", f"{both} (domain-wide delegation)")
    ]
    assert [
        p[1:]
        for p in problems_of(
            GMAIL + "    client_id: c1\n    client_secret: ${S}\n    service_account_key: ${K}\n"
        )
    ] == [("accounts[0].service_account_key", f"{both}, not both")]
    pair = "an OAuth client is client_id and client_secret together: give both"
    assert [p[1:] for p in problems_of(GMAIL + "    client_id: c1\n")] == [
        ("accounts[0].client_secret", pair)
    ]
    stray = GMAIL + "    service_account_key: ${K}\n    refresh_token: ${R}\n"
    assert [p[1:] for p in problems_of(stray)] == [
        ("accounts[0].refresh_token", "a refresh_token needs client_id and client_secret")
    ]
    lost = GMAIL + "    client_id: c1\n    client_secret: ${S}\n    impersonate: e@acme.example\n"
    assert [p[1:] for p in problems_of(lost)] == [
        ("accounts[0].impersonate", "impersonate needs service_account_key")
    ]


# --- plugin accounts and lease_ttl ---------------------------------------------------------------


def test_a_plugin_account_names_its_factory_and_hands_its_options_over() -> None:
    settings = load_text(
        textwrap.dedent(
            """\
            accounts:
              - name: crm
                kind: plugin
                factory: acme_connectors.crm:connector
                options: {page_size: 200, base_url: "https://crm.example.com", live: true}
            """
        )
    )
    (account,) = settings.accounts
    assert isinstance(account, PluginAccount)
    assert account.factory == "acme_connectors.crm:connector"
    assert account.options == {
        "page_size": 200,
        "base_url": "https://crm.example.com",
        "live": True,
    }


def test_a_factory_that_is_no_module_path_and_a_short_lease_are_refused() -> None:
    text = textwrap.dedent(
        """\
        lease_ttl: 2s
        accounts:
          - name: crm
            kind: plugin
            factory: acme_connectors/crm.py
        """
    )
    assert problems_of(text) == [
        (1, "lease_ttl", "expected at least 3s, got 2s"),
        (
            5,
            "accounts[0].factory",
            'expected "package.module:function", got "acme_connectors/crm.py"',
        ),
    ]


def test_lease_ttl_defaults_to_a_minute() -> None:
    assert load_text("").lease_ttl == timedelta(seconds=60)


# --- microsoft ---------------------------------------------------------------------------------


def microsoft_with(*lines: str) -> str:
    keys = "".join(f"        {line}\n" for line in lines)
    return (
        "accounts:\n"
        "      - name: carol\n"
        "        kind: microsoft\n"
        "        owner: carol@acme.example\n"
        "        tenant: acme.example\n"
        "        client_id: 11111111-1111-1111-1111-111111111111\n" + keys
    )


def test_microsoft_takes_a_secret_or_a_certificate_with_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "app.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----\n")
    [by_secret] = load_text(textwrap.dedent(microsoft_with("client_secret: ${S}"))).accounts
    assert isinstance(by_secret, MicrosoftAccount)
    assert (by_secret.user, by_secret.folders, by_secret.calendars) == (
        "carol@acme.example",
        ("inbox", "sentitems"),
        ("primary",),
    )
    text = microsoft_with(f"certificate: {cert}", "certificate_key: file:~/app.key")
    [by_cert] = load_text(textwrap.dedent(text), base_dir=tmp_path).accounts
    assert isinstance(by_cert, MicrosoftAccount)
    assert (by_cert.certificate, by_cert.client_secret) == (cert, None)
    assert problems_of(microsoft_with()) == [
        (
            2,
            "accounts[0].certificate_key",
            "give certificate_key or client_secret, one of them is required",
        )
    ]
    both = microsoft_with("client_secret: ${S}", f"certificate: {cert}", "certificate_key: ${K}")
    assert problems_of(both) == [
        (9, "accounts[0].certificate_key", "give certificate_key or client_secret, not both")
    ]
    assert problems_of(microsoft_with("certificate_key: ${K}")) == [
        (7, "accounts[0].certificate_key", "certificate and certificate_key go together")
    ]
    assert problems_of(microsoft_with("client_secret: ${S}", "certificate: nowhere.crt")) == [
        (8, "accounts[0].certificate", f"no certificate at '{Path.cwd() / 'nowhere.crt'}'")
    ]


def test_a_delegated_microsoft_account_takes_no_secret() -> None:
    [rep] = load_text(textwrap.dedent(microsoft_with("auth: delegated"))).accounts
    assert isinstance(rep, MicrosoftAccount)
    assert (rep.auth, rep.client_secret, rep.certificate_key) == ("delegated", None, None)
    assert problems_of(microsoft_with("auth: delegated", "client_secret: ${S}")) == [
        (
            2,
            "accounts[0].certificate_key",
            "auth: delegated uses the rep's own sign-in (autocapture auth microsoft ACCOUNT), "
            "no client_secret or certificate",
        )
    ]


def test_identity_thresholds_reach_the_policy_and_bad_ones_are_named() -> None:
    text = """\
        identity:
          link_at: 0.9
          review_at: 0.6
        accounts:
          - {name: a, kind: archive, owner: me@ourco.com, paths: [x.mbox]}
        """
    settings = load_text(textwrap.dedent(text))
    policy = account_policy(settings, settings.accounts[0])
    assert policy.identity == Thresholds(link=0.9, review=0.6, name=0.9, margin=0.05)
    assert account_policy(load_text(""), settings.accounts[0]).identity == Thresholds()
    assert problems_of("identity:\n  link_at: 1.5\n  name_at: high\n") == [
        (2, "identity.link_at", "expected a number less than or equal to 1, got 1.5"),
        (3, "identity.name_at", 'expected a valid number, got "high"'),
    ]
    assert problems_of("identity:\n  link_at: 0.6\n  review_at: 0.8\n") == [
        (1, "identity", "review_at must not be above link_at")
    ]
