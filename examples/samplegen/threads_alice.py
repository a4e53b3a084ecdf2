"""Conversations in Alice Martin's mailbox (Google Takeout mbox).

Some of them copy Bob Okafor, so the same message (same Message-ID) also sits
in Bob's Maildir: the archive must turn those into one interaction with two
source copies.
"""

from __future__ import annotations

from samplegen.render import Thread, Turn
from samplegen.threads_edges import (
    ACME_FORWARD,
    BLUEFIN_COLD,
    COMPETITOR,
    FLEETCORE_DIRECT,
    INTERNAL,
    UMBRELLA_PROSPECT,
)

PRIYA_MIXED = (("priya", "Priya.Shah@Acme-Robotics.example"),)

ACME_PILOT = Thread(
    "Acme pilot: scope and timeline",
    (
        Turn(
            "2026-01-12 10:05",
            "priya",
            ("alice",),
            cc=("ben",),
            spelled=PRIYA_MIXED,
            text="""Hi Alice,

Great to meet you at the logistics summit last week. As promised, here is
where we are: we would like to pilot Northwind across three of our
warehouses (Columbus, Reno and Savannah) before the peak season starts.

Could you send over a rough timeline and what you would need from our side?
I have copied Ben from procurement so he can start the vendor paperwork.

Best,
Priya""",
        ),
        Turn(
            "2026-01-12 14:40",
            "alice",
            ("priya",),
            cc=("bob", "ben"),
            spelled=PRIYA_MIXED,
            text="""Hi Priya,

Thanks for following up so quickly. A three-site pilot is exactly how most
of our customers start. Rough plan:

- weeks 1-2: connect your WMS and pull 90 days of history
- weeks 3-6: live forecasts for the three sites, weekly review
- week 7: go/no-go with your leadership team

I have copied Bob Okafor, our solutions engineer, who will own the technical
side. Ben, I will send our vendor pack separately.""",
        ),
        Turn(
            "2026-01-13 08:55",
            "priya",
            ("alice",),
            cc=("bob", "ben"),
            text="""Alice, that works for us. Our WMS is the on-prem version, 2023 release.
Bob, is a VPN tunnel needed or can you work with an SFTP drop to start?

Priya""",
        ),
        Turn(
            "2026-01-14 11:20",
            "bob",
            ("priya",),
            cc=("alice",),
            text="""Hi Priya,

An SFTP drop is fine for the pilot; we only move to the API once you are
happy with the forecasts. I will send the file layout by Friday. Could we do
a 30-minute call next Tuesday with whoever runs the WMS exports?

Bob""",
        ),
        Turn(
            "2026-01-15 09:02",
            "priya",
            ("bob", "alice"),
            sig=False,
            text="Thanks both. Tuesday works, I will bring Tom Becker, our CTO.\n\nSent from my phone",
        ),
    ),
)

ACME_CONTRACT = Thread(
    "Acme Robotics - order form and MSA redlines",
    (
        Turn(
            "2026-06-03 16:12",
            "tom",
            ("alice",),
            cc=("priya",),
            text="""Alice,

Our legal team went through the MSA. Two redlines: liability cap at 12 months
of fees instead of 6, and a 60-day termination for convenience. Everything
else in the order form is fine as drafted.

Regards,
Tom""",
        ),
        Turn(
            "2026-06-04 09:30",
            "alice",
            ("tom",),
            cc=("priya", "carol"),
            text="""Hi Tom,

Thanks for the quick turnaround. The 12-month cap is acceptable. On
termination we can do 60 days after the first contract year; I have copied
Carol, our VP Sales, who signs off on that.""",
        ),
        Turn(
            "2026-06-05 11:47",
            "tom",
            ("alice",),
            cc=("priya", "carol"),
            text="Works for us. Please send the updated order form for signature.\n\nTom",
        ),
        Turn(
            "2026-06-08 10:02",
            "alice",
            ("tom",),
            cc=("priya",),
            text="""Tom, the updated order form is in your inbox for e-signature. Looking
forward to rolling out to all twelve sites.""",
        ),
    ),
)

ACME_SALES_QUOTE = Thread(
    "Quote request AR-2291: gripper demo unit",
    (
        Turn(
            "2026-02-09 13:00",
            "acme_sales",
            ("alice",),
            text="""Hello,

Thank you for your interest in the Acme G4 gripper. Attached is quote
AR-2291 for one demo unit for your innovation lab. The quote is valid for
30 days.

Kind regards,
Acme Robotics Sales Team""",
        ),
        Turn(
            "2026-02-09 15:21",
            "alice",
            ("acme_sales",),
            text="""Hello,

Thanks. Could you confirm whether the price includes the mounting kit and
shipping to Washington DC?""",
        ),
        Turn(
            "2026-02-10 09:44",
            "acme_sales",
            ("alice",),
            text="Yes, mounting kit and ground shipping are included.\n\nAcme Robotics Sales Team",
        ),
    ),
)

GLOBEX_RESIDENCY = Thread(
    "Globex - data residency questionnaire",
    (
        Turn(
            "2026-02-17 09:10",
            "renee",
            ("alice",),
            text="""Dear Alice,

Before we can move forward, our DPO needs the attached data residency
questionnaire completed. In particular: where is forecast data stored, and
can it stay within the EU?

Kind regards,
Renée""",
        ),
        Turn(
            "2026-02-17 10:02",
            "alice",
            ("renee",),
            cc=("bob",),
            text="""Hi Renée,

Of course. Short answer: yes, we run a Frankfurt region and EU customers
stay there, backups included. Bob will complete the technical sections of
the questionnaire this week.""",
        ),
        Turn(
            "2026-02-20 16:35",
            "renee",
            ("alice",),
            cc=("bob",),
            text="""Thank you both, the questionnaire is with our DPO now. I expect her
sign-off by mid-March.

Renée""",
        ),
        Turn(
            "2026-03-16 08:50",
            "alice",
            ("renee",),
            text="""Hi Renée, just checking whether your DPO had any follow-up questions.
Happy to set up a call if that is quicker.""",
        ),
    ),
)

GLOBEX_PRICING = Thread(
    "Pricing for 400 seats",
    (
        Turn(
            "2026-04-07 14:05",
            "marcus",
            ("alice",),
            text="""Hello Alice,

We are planning the roll-out for 400 users across the UK and Nordics. Could
you send pricing for 400 seats on a three-year term?

Best regards,
Marcus""",
        ),
        Turn(
            "2026-04-07 11:30",
            "alice",
            ("marcus",),
            cc=("carol",),
            text="""Hi Marcus,

Happy to. For 400 seats on three years we can offer our Enterprise tier at
a 22% discount on list. A formal proposal follows tomorrow.""",
        ),
        Turn(
            "2026-04-09 09:15",
            "marcus",
            ("alice",),
            cc=("renee",),
            text="""Thanks Alice. Renée will take it from here for procurement.

Marcus""",
        ),
        Turn(
            "2026-04-09 10:40",
            "alice",
            ("marcus",),
            cc=("renee",),
            text="Thanks Marcus. Renée, I will send the proposal to you directly.",
            sig=False,
        ),
    ),
)

GLOBEX_RENEWAL = Thread(
    "Renewal terms for 2027",
    (
        Turn(
            "2026-10-05 10:20",
            "renee",
            ("alice",),
            text="""Dear Alice,

Our budget for 2027 is being finalised. Could you confirm the renewal price
and whether the price cap from our first contract still applies?

Renée""",
        ),
        Turn(
            "2026-10-05 09:05",
            "alice",
            ("renee",),
            text="""Hi Renée,

Yes, the 5% annual cap applies to the renewal. I will send the renewal
quote by Friday.""",
        ),
        Turn(
            "2026-10-09 15:00",
            "renee",
            ("alice",),
            text="Received, thank you. We will sign before the end of the month.\n\nRenée",
        ),
    ),
)

INITECH_QBR = Thread(
    "Initech - QBR follow-ups",
    (
        Turn(
            "2026-07-16 17:25",
            "alice",
            ("samir",),
            cc=("bob",),
            text="""Hi Samir,

Thanks for hosting the QBR today. Follow-ups from our side: Bob will share
the SSO hardening guide, and I will send the usage report for Q2.""",
        ),
        Turn(
            "2026-07-17 08:40",
            "samir",
            ("alice",),
            cc=("bob",),
            text="""Thanks Alice. One more item: our security team wants the SOC 2 report
under NDA. Can you send the NDA over?

Samir""",
        ),
        Turn(
            "2026-07-17 10:15",
            "alice",
            ("samir",),
            text="Hi Samir, NDA sent via e-signature a few minutes ago.",
        ),
    ),
)

UMBRELLA_HIPAA = Thread(
    "Umbrella Health - HIPAA review",
    (
        Turn(
            "2026-03-02 09:30",
            "grace",
            ("alice",),
            text="""Hi Alice,

Before the pilot we need a signed BAA and a short HIPAA review with our
compliance team. Do you have a standard BAA?

Thanks,
Grace""",
        ),
        Turn(
            "2026-03-02 11:05",
            "alice",
            ("grace",),
            cc=("bob",),
            text="""Hi Grace,

Yes, our standard BAA is attached. Bob can walk your compliance team through
the architecture; would Thursday afternoon suit them?""",
        ),
        Turn(
            "2026-03-03 07:58",
            "grace",
            ("alice",),
            cc=("bob",),
            html_only=True,
            text="""Thursday 2pm Central works. I will send an invite.

Grace""",
        ),
        Turn(
            "2026-03-03 09:12",
            "alice",
            ("grace",),
            text="Perfect, see you Thursday.",
            sig=False,
        ),
    ),
)

UMBRELLA_RETRO = Thread(
    "Pilot retrospective notes",
    (
        Turn(
            "2026-11-12 16:45",
            "alice",
            ("grace",),
            text="""Hi Grace,

Thanks for the retrospective. Notes: forecast accuracy improved 18% at the
two pilot clinics; next step is the roll-out plan for the remaining sites.""",
        ),
        Turn(
            "2026-11-13 08:20",
            "grace",
            ("alice",),
            text="""Thanks Alice, the notes match ours. I will share them with our CFO.

Grace""",
        ),
    ),
)

THREADS: tuple[Thread, ...] = (
    ACME_PILOT,
    ACME_CONTRACT,
    ACME_SALES_QUOTE,
    ACME_FORWARD,
    GLOBEX_RESIDENCY,
    GLOBEX_PRICING,
    GLOBEX_RENEWAL,
    INITECH_QBR,
    UMBRELLA_HIPAA,
    UMBRELLA_RETRO,
    UMBRELLA_PROSPECT,
    BLUEFIN_COLD,
    COMPETITOR,
    FLEETCORE_DIRECT,
    *INTERNAL,
)
