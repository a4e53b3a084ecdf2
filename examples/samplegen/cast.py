"""The people of the sample archive.

Every name is invented; every domain ends in ``.example`` (RFC 2606) and every
phone number is from a range reserved for fiction (+1 202 555 01xx in the
North American plan, +44 20 7946 0xxx from Ofcom's drama numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

ORG_DOMAIN = "northwind-labs.example"


@dataclass(frozen=True)
class Person:
    """One mailbox as its owner's mail client writes it."""

    key: str
    name: str
    email: str
    zone: str  # IANA zone of the sender's clock, for realistic Date offsets
    header_name: str = ""  # display name exactly as the client puts it ("" = name)
    signature: str = ""
    client: str = "gmail"  # "gmail": text/plain, "On ... wrote:" quoting; "outlook": alternative + Original Message

    @property
    def display(self) -> str:
        return self.header_name or self.name


def _sig(*lines: str) -> str:
    return "\n".join(lines)


PEOPLE: dict[str, Person] = {
    p.key: p
    for p in (
        # --- Northwind Labs, the organization that runs autocapture ---
        Person(
            "alice",
            "Alice Martin",
            "alice@northwind-labs.example",
            "America/New_York",
            signature=_sig(
                "Alice Martin",
                "Senior Account Executive | Northwind Labs",
                "Mobile: +1 202-555-0117",
                "https://www.northwind-labs.example",
            ),
        ),
        Person(
            "bob",
            "Bob Okafor",
            "bob@northwind-labs.example",
            "America/Chicago",
            signature=_sig(
                "Bob Okafor",
                "Solutions Engineer, Northwind Labs",
                "Direct: +1 202-555-0118",
            ),
        ),
        Person(
            "carol",
            "Carol Nguyen",
            "carol.nguyen@northwind-labs.example",
            "America/New_York",
            signature=_sig("Carol Nguyen", "VP Sales, Northwind Labs", "+1 202-555-0110"),
        ),
        Person(
            "dev",
            "Dev Patel",
            "dev.patel@northwind-labs.example",
            "America/Chicago",
            signature=_sig("Dev", "Support Lead | Northwind Labs"),
        ),
        # --- Acme Robotics: pilot customer ---
        Person(
            "priya",
            "Priya Shah",
            "priya.shah@acme-robotics.example",
            "America/New_York",
            signature=_sig(
                "Priya Shah",
                "VP Operations",
                "Acme Robotics",
                "Office: +1 202-555-0143 | Mobile: +1 202-555-0144",
            ),
        ),
        Person(
            "tom",
            "Tom Becker",
            "tom.becker@acme-robotics.example",
            "America/New_York",
            header_name="Becker, Tom",  # the Exchange address book's "Last, First"
            signature=_sig(
                "Tom Becker | CTO | Acme Robotics",
                "T +1 202-555-0146",
            ),
            client="outlook",
        ),
        Person(
            "ben",
            "Ben Carter",
            "ben.carter@acme-robotics.example",
            "America/New_York",
            signature=_sig("Ben Carter", "Procurement Analyst, Acme Robotics"),
        ),
        Person(
            "acme_sales", "Acme Robotics Sales", "sales@acme-robotics.example", "America/New_York"
        ),
        # --- Globex: European customer, Outlook shop ---
        Person(
            "renee",
            "Renée Dubois",
            "renee.dubois@globex.example",
            "Europe/London",
            signature=_sig(
                "Renée Dubois",
                "Head of Procurement",
                "Globex Europe Ltd",
                "Tel: +44 20 7946 0321",
            ),
            client="outlook",
        ),
        Person(
            "marcus",
            "Marcus Lindqvist",
            "marcus.lindqvist@globex.example",
            "Europe/London",
            signature=_sig(
                "Marcus Lindqvist",
                "IT Director | Globex",
                "Phone: +44 20 7946 0388",
            ),
            client="outlook",
        ),
        Person(
            "globex_support",
            "Globex IT Support",
            "support@globex.example",
            "Europe/London",
            signature=_sig("Globex IT Support", "Ticket desk hours: 08:00-18:00 UK"),
        ),
        Person("yusuf", "Yusuf Demir", "yusuf.demir@globex.example", "Europe/London"),
        # --- Initech ---
        Person(
            "samir",
            "Samir Haddad",
            "samir.haddad@initech.example",
            "America/Chicago",
            signature=_sig(
                "Samir Haddad",
                "Engineering Manager, Platform",
                "Initech",
                "Cell: (202) 555-0161",
            ),
        ),
        Person("lena", "Lena Fischer", "lena.fischer@initech.example", "Europe/London"),
        # --- Umbrella Health ---
        Person(
            "grace",
            "Grace Liu",
            "grace.liu@umbrella-health.example",
            "America/Chicago",
            signature=_sig(
                "Grace Liu",
                "Director of Clinical IT",
                "Umbrella Health",
                "+1 202-555-0172",
            ),
        ),
        Person("aisha", "Aisha Rahman", "aisha.rahman@umbrella-health.example", "America/Chicago"),
        Person(
            "omar",
            "Omar Farouk",
            "omar.farouk@umbrella-health.example",
            "America/Chicago",
        ),
        # --- outside any deal ---
        Person(
            "daniel",
            "Daniel Osei",
            "daniel.osei@bluefin-analytics.example",
            "America/New_York",
            signature=_sig(
                "Daniel Osei",
                "Business Development Representative",
                "Bluefin Analytics",
                "+1 202-555-0190",
            ),
        ),
        Person(
            "victor",
            "Victor Crane",
            "victor.crane@competitor.example",
            "America/New_York",
            signature=_sig("Victor Crane", "Partnerships, Competitor Inc."),
        ),
        Person(
            "hannah",
            "Hannah Berg",
            "hannah.berg@fleetcore.example",
            "Europe/London",
            signature=_sig("Hannah Berg", "Integration Architect, FleetCore", "+44 20 7946 0555"),
        ),
        Person("kenji", "Kenji Watanabe", "kenji@watanabe-consulting.example", "America/Chicago"),
        Person("mateo", "Mateo Ruiz", "mateo@ruiz-dev.example", "America/New_York"),
    )
}


def person(key: str) -> Person:
    return PEOPLE[key]
