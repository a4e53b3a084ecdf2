"""Conversations only in Bob Okafor's mailbox (a Maildir), the technical side of the deals."""

from __future__ import annotations

from samplegen.render import Thread, Turn

ACME_API = Thread(
    "Acme WMS integration - API questions",
    (
        Turn(
            "2026-02-11 10:30",
            "tom",
            ("bob",),
            text="""Bob,

Moving from the SFTP drop to the API. Questions:
1. Do you need inventory snapshots or just movements?
2. What rate limit should we expect on your ingest endpoint?

Thanks,
Tom""",
        ),
        Turn(
            "2026-02-11 12:05",
            "bob",
            ("tom",),
            text="""Hi Tom,

1. Movements are enough; we rebuild snapshots nightly.
2. 50 requests per second per tenant, bursts to 200.

I will share a Postman collection with examples.""",
        ),
        Turn(
            "2026-02-12 09:15",
            "tom",
            ("bob",),
            text="That helps. Is there a sandbox tenant we can point our staging WMS at?\n\nTom",
        ),
        Turn(
            "2026-02-12 10:40",
            "bob",
            ("tom",),
            text="Yes: sandbox credentials are in the shared vault folder, valid for 30 days.",
        ),
        Turn(
            "2026-02-19 16:55",
            "tom",
            ("bob",),
            text="""Staging is sending movements now, about 40k a day. Everything green on
our side.

Tom""",
        ),
    ),
)

INITECH_SSO = Thread(
    "Initech SSO setup",
    (
        Turn(
            "2026-04-14 09:00",
            "samir",
            ("bob",),
            text="""Hi Bob,

We are ready to switch Northwind to SSO. Our IdP supports SAML and OIDC;
which do you recommend?

Samir""",
        ),
        Turn(
            "2026-04-14 10:12",
            "bob",
            ("samir",),
            text="""Hi Samir,

OIDC if you can: simpler metadata and group claims work out of the box. I
have sent the redirect URIs in a separate message.""",
        ),
        Turn(
            "2026-04-15 14:30",
            "samir",
            ("bob",),
            text="""Configured. Login works but group claims are not arriving; our groups
claim is called "roles".

Samir""",
        ),
        Turn(
            "2026-04-15 15:02",
            "bob",
            ("samir",),
            cc=("dev",),
            text="""Thanks, that is a setting on our side. Dev on our support team will map
"roles" for your tenant today.""",
        ),
        Turn(
            "2026-04-16 08:47",
            "samir",
            ("bob",),
            cc=("dev",),
            text="Confirmed working. Thanks both!\n\nSamir",
            sig=False,
        ),
    ),
)

INITECH_LOAD = Thread(
    "Initech - load test results",
    (
        Turn(
            "2026-09-08 11:00",
            "bob",
            ("samir",),
            text="""Hi Samir,

Load test results attached: p95 ingest latency 180 ms at 3x your current
volume. No action needed on your side.""",
        ),
        Turn(
            "2026-09-08 13:20",
            "samir",
            ("bob",),
            text="Great numbers, thanks Bob. Sharing with our architecture board.\n\nSamir",
        ),
    ),
)

GLOBEX_FIREWALL = Thread(
    "Firewall allowlist for Northwind connector",
    (
        Turn(
            "2026-03-04 09:00",
            "bob",
            ("globex_support",),
            text="""Hello,

Please allowlist our connector's egress addresses (list attached) for
Globex's SFTP endpoint. Marcus Lindqvist approved the change.""",
        ),
        Turn(
            "2026-03-04 15:10",
            "globex_support",
            ("bob",),
            text="""Hello Bob,

Ticket INC-48812 has been opened for your request. Expected completion is
two working days.""",
        ),
        Turn(
            "2026-03-06 08:30",
            "bob",
            ("globex_support",),
            text="Hello, any update on INC-48812? Our connection still times out.",
        ),
        Turn(
            "2026-03-06 11:45",
            "globex_support",
            ("bob",),
            text="Hello Bob, the change was applied this morning. Please retry.",
        ),
    ),
)

GLOBEX_SANDBOX = Thread(
    "Globex sandbox credentials",
    (
        Turn(
            "2026-05-06 10:00",
            "marcus",
            ("bob",),
            text="""Hi Bob,

Our sandbox credentials expired. Could you issue new ones for the UK and
Nordics test tenants?

Marcus""",
        ),
        Turn(
            "2026-05-06 08:15",
            "bob",
            ("marcus",),
            text="Hi Marcus, new credentials are in your secure share, valid until July.",
        ),
        Turn(
            "2026-05-06 14:40",
            "marcus",
            ("bob",),
            text="Received, thanks.\n\nMarcus",
            sig=False,
        ),
    ),
)

UMBRELLA_SECURITY = Thread(
    "Security questionnaire v2",
    (
        Turn(
            "2026-06-15 09:00",
            "grace",
            ("bob",),
            text="""Hi Bob,

Our compliance team updated their questionnaire (v2). Only sections 4 and 7
changed: encryption at rest and incident response times.

Grace""",
        ),
        Turn(
            "2026-06-16 11:30",
            "bob",
            ("grace",),
            text="""Hi Grace,

Both sections are completed and attached: AES-256 at rest with per-tenant
keys, and incident notification within 24 hours.""",
        ),
        Turn(
            "2026-06-16 13:02",
            "grace",
            ("bob",),
            text="Perfect, thank you Bob.\n\nGrace",
        ),
    ),
)

SUPPORT_LOGS = Thread(
    "Connector logs from Initech",
    (
        Turn(
            "2026-04-15 15:10",
            "bob",
            ("dev",),
            text="Dev, can you pull the connector logs for Initech's tenant from this morning?",
        ),
        Turn(
            "2026-04-15 15:40",
            "dev",
            ("bob",),
            text="Done, they are in the ticket. The claim mapping is the issue.",
        ),
        Turn("2026-04-15 15:52", "bob", ("dev",), text="Thanks, I will tell Samir."),
    ),
)

THREADS: tuple[Thread, ...] = (
    ACME_API,
    INITECH_SSO,
    INITECH_LOAD,
    GLOBEX_FIREWALL,
    GLOBEX_SANDBOX,
    UMBRELLA_SECURITY,
    SUPPORT_LOGS,
)
