"""Alice's conversations that exist to test the creation policy's edges.

One-way mail in each direction, a blocklisted correspondent, a person first
seen on a mailing list, and internal colleagues.
"""

from __future__ import annotations

from samplegen.render import Thread, Turn

# A forward: Jake Miller appears only in the forwarded header block
# ("quoted"), never as a participant of any message.
ACME_FORWARD = Thread(
    "Fwd: Conveyor telemetry partner",
    (
        Turn(
            "2026-07-02 11:40",
            "priya",
            ("alice",),
            sig=False,
            text="""Alice, forwarding this from our conveyor vendor. Could their telemetry
feed into the forecasts too?

Priya

---------- Forwarded message ---------
From: Jake Miller <jake.miller@conveyor-systems.example>
Date: Wed, Jul 1, 2026 at 4:12 PM
Subject: Conveyor telemetry partner
To: Priya Shah <priya.shah@acme-robotics.example>

Hi Priya,

Our belt controllers can now stream throughput per zone over MQTT. Happy to
share the spec with any analytics vendor you work with.

Jake Miller
Partner Manager, Conveyor Systems
+1 202-555-0199""",
        ),
    ),
)

# Sent twice, never answered (his out-of-office reply is not an answer):
# a contact only under "on_sent" or "always".
UMBRELLA_PROSPECT = Thread(
    "Northwind Labs for Umbrella's supply chain team",
    (
        Turn(
            "2026-05-04 10:00",
            "alice",
            ("omar",),
            text="""Hi Omar,

Grace Liu mentioned that your team plans the medical supply orders for the
clinics. We help her team forecast demand; would a 20-minute call be useful
to see whether the same could help supply chain?""",
        ),
        Turn(
            "2026-05-18 10:00",
            "alice",
            ("omar",),
            text="Hi Omar, bumping this in case it got buried. Happy to work around your calendar.",
        ),
    ),
)

# Received twice, never answered: a contact only under "always".
BLUEFIN_COLD = Thread(
    "Quick question about Northwind's data stack",
    (
        Turn(
            "2026-06-02 08:03",
            "daniel",
            ("alice",),
            text="""Hi Alice,

I noticed Northwind Labs is hiring data engineers. Teams like yours use
Bluefin to cut warehouse costs by 30%. Worth a 15-minute chat next week?

Cheers,
Daniel""",
        ),
        Turn(
            "2026-06-09 08:01",
            "daniel",
            ("alice",),
            text="Hi Alice, circling back on my note below. Any interest?\n\nDaniel",
        ),
    ),
)

# A two-way exchange with a blocklisted domain: never a contact.
COMPETITOR = Thread(
    "Partnership idea",
    (
        Turn(
            "2026-08-11 13:30",
            "victor",
            ("alice",),
            text="""Hi Alice,

We keep meeting at the same accounts. Would Northwind be open to a referral
partnership for customers outside your core markets?

Victor""",
        ),
        Turn(
            "2026-08-12 09:10",
            "alice",
            ("victor",),
            text="Hi Victor, thanks for reaching out. Not something we are exploring this year.",
        ),
        Turn(
            "2026-08-12 10:02",
            "victor",
            ("alice",),
            text="Understood, thanks for the quick answer.\n\nVictor",
            sig=False,
        ),
    ),
)

# Met on the OpenFleet list, then talked directly: a contact by the direct exchange.
FLEETCORE_DIRECT = Thread(
    "Your post about telematics webhooks",
    (
        Turn(
            "2026-09-22 15:10",
            "alice",
            ("hannah",),
            text="""Hi Hannah,

I read your post on the OpenFleet list about retrying telematics webhooks.
We hit the same problem; would you be open to comparing notes?""",
        ),
        Turn(
            "2026-09-23 09:45",
            "hannah",
            ("alice",),
            text="""Hi Alice,

Happy to. We ended up with an outbox table and idempotency keys. Free on
Thursday at 4pm UK time?

Hannah""",
        ),
        Turn(
            "2026-09-23 10:30",
            "alice",
            ("hannah",),
            text="Thursday 4pm UK works, I will call you then.",
        ),
    ),
)

INTERNAL = (
    Thread(
        "Q1 pipeline",
        (
            Turn(
                "2026-01-08 08:30",
                "carol",
                ("alice",),
                text="Alice, can you update the Q1 pipeline sheet before Monday's forecast call?",
            ),
            Turn("2026-01-08 09:12", "alice", ("carol",), text="Will do, done by Friday."),
            Turn("2026-01-09 17:40", "carol", ("alice",), text="Thanks, looks good.", sig=False),
        ),
    ),
    Thread(
        "Forecast for Globex",
        (
            Turn(
                "2026-04-10 12:00",
                "alice",
                ("carol",),
                text="Carol, I am moving Globex to commit for Q2: 400 seats, three years.",
            ),
            Turn(
                "2026-04-10 12:25", "carol", ("alice",), text="Great news. Approved the discount."
            ),
        ),
    ),
    Thread(
        "Offsite agenda",
        (
            Turn(
                "2026-08-20 10:00",
                "carol",
                ("alice", "bob"),
                text="Draft agenda for the September offsite is in the shared drive. Comments by Friday please.",
            ),
            Turn(
                "2026-08-20 13:14",
                "bob",
                ("carol", "alice"),
                text="Could we add 30 minutes on the connector roadmap?",
            ),
        ),
    ),
    Thread(
        "Acme ticket escalation",
        (
            Turn(
                "2026-05-12 15:22",
                "dev",
                ("alice",),
                cc=("bob",),
                text="""Heads up: Acme opened a P2 about late SFTP files at the Reno site. Bob
and I are on it; no action needed from you yet.""",
            ),
            Turn("2026-05-12 16:40", "alice", ("dev",), text="Thanks Dev, keep me posted."),
        ),
    ),
)
