"""matcher.names and matcher.companies: what is a name, what is a company."""

from __future__ import annotations

import pytest

from connectors.records import Address
from matcher.companies import Company, company_name, company_of, is_free_mail, registrable_domain
from matcher.names import display_name, name_observations
from matcher.plan import Observation


def of(email: str, name: str | None = None) -> Address:
    address = Address.of(email, name)
    assert address is not None
    return address


@pytest.mark.parametrize(
    ("email", "name", "company", "expected"),
    [
        ("ann@acme.com", "Ann Lee", None, "Ann Lee"),
        ("ann@acme.com", "Ann Lee | Acme Robotics", None, "Ann Lee"),
        ("ann@acme.com", None, None, None),
        ("ann@acme.com", "ann@acme.com", None, None),
        ("ann@acme.com", "'ann@acme.com'", None, None),
        ("ann.lee@acme.com", "ann.lee", None, None),
        ("ann.lee@acme.com", "Ann.Lee", None, None),
        ("ann.lee@acme.com", "Ann Lee", None, "Ann Lee"),  # the commonest real name
        ("al@acme.com", "ACME", "Acme", None),
        ("al@acme-robotics.com", "Acme Robotics", "Acme Robotics", None),
        ("al@acme.com", "Acme Sales Team", None, None),
        ("announcements.enron@enron.com", "Enron General Announcements", None, None),
        ("al@acme.com", "Acme Inc.", None, None),
        ("al@acme.com", "Ann Lee via LinkedIn", None, None),
        ("al@acme.com", "1234 5678", None, None),
        ("al@acme.com", "x" * 101, None, None),
        ("t@example.jp", "田中 太郎", None, "田中 太郎"),
        ("al@acme.com", "[EXT] Ann Lee (Acme)", None, "Ann Lee"),
        ("al@acme.com", "Ann Lee {contractor}", None, "Ann Lee"),
        ("al@acme.com", "Ann Lee - Acme Robotics", None, "Ann Lee"),
        ("al@acme.com", "Ann Lee \u2013 Acme", None, "Ann Lee"),
        ("al@acme.com", "Ann Lee / Acme", None, "Ann Lee"),
        ("al@acme.com", "Ann Lee \U0001f680", None, "Ann Lee"),
        ("jl@x.fr", "Jean-Luc Picard", None, "Jean-Luc Picard"),
        ("al@acme.com", "Ann's Office", None, None),
        ("al@acme.com", "+1 555 0100", None, None),
        ("al@acme.com", "(Acme)", None, None),
    ],
)
def test_display_name(
    email: str, name: str | None, company: str | None, expected: str | None
) -> None:
    assert display_name(of(email, name), company) == expected


def obs(
    full: str, given: str | None, family: str | None, confidence: float
) -> tuple[Observation, ...]:
    found = [Observation("name", full, confidence)]
    found += [Observation("given_name", given, confidence)] if given else []
    found += [Observation("family_name", family, confidence)] if family else []
    return tuple(found)


@pytest.mark.parametrize(
    ("email", "name", "klass", "expected"),
    [
        ("ann@acme.com", "Ann Lee", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "Lee, Ann", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "LEE, ANN MARIE", "person", obs("Ann Marie Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "ann lee", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "Dr. Ann Lee", "person", obs("Dr. Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "Mrs. Ann Lee", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.de", "Frau Anna Berg", "person", obs("Anna Berg", "Anna", "Berg", 0.6)),
        ("ann@acme.com", "Miss", "person", ()),  # a form of address alone names nobody
        # Outlook's quotes around a typed name, in mail and in iCalendar CNs
        (
            "pk@acme.com",
            "'Piotr Kowalski'",
            "person",
            obs("Piotr Kowalski", "Piotr", "Kowalski", 0.6),
        ),
        (
            "pk@acme.com",
            "'Kowalski, Piotr'",
            "person",
            obs("Piotr Kowalski", "Piotr", "Kowalski", 0.6),
        ),
        ("ann@acme.com", "Lee, Ann, PhD", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "Ann Lee, PhD", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        (
            "jan@x.nl",
            "van der Berg, Jan",
            "person",
            obs("Jan van der Berg", "Jan", "van der Berg", 0.6),
        ),
        ("t@example.jp", "田中 太郎", "person", obs("田中 太郎", "太郎", "田中", 0.6)),
        ("a.lee@acme.com", "Ann", "person", obs("Ann", "Ann", None, 0.6)),
        ("ann@acme.com", "Ann", "person", ()),  # the local part again
        ("kim@ourco.com", "Kim Park", "internal", obs("Kim Park", "Kim", "Park", 0.6)),
        ("ann.lee@acme.com", None, "person", obs("Ann Lee", "Ann", "Lee", 0.3)),
        ("ann.lee@acme.com", "Ann Lee", "person", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann_lee@acme.com", "ann_lee", "person", obs("Ann Lee", "Ann", "Lee", 0.3)),
        ("a.lee@acme.com", None, "person", ()),
        ("ann.b.lee@acme.com", None, "person", ()),
        ("ann2.lee@acme.com", None, "person", ()),
        # never a name from a machine or a function
        ("sales@acme.com", "Ann Lee", "role", ()),
        ("noreply@acme.com", "Ann Lee", "automated", ()),
        ("room@acme.com", "Ann Lee", "room", ()),
        ("ann.lee@acme.com", None, "role", ()),
    ],
)
def test_name_observations(
    email: str, name: str | None, klass: str, expected: tuple[Observation, ...]
) -> None:
    assert name_observations(of(email, name), klass) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("domain", "company"),
    [
        ("acme.com", Company("acme.com", "Acme")),
        ("mail.eu.acme.com", Company("acme.com", "Acme")),
        ("acme-robotics.co.uk", Company("acme-robotics.co.uk", "Acme Robotics")),
        ("acme_labs.io", None),  # "_" is no hostname character
        ("xn--bcher-kva.de", Company("xn--bcher-kva.de", "Bücher")),
        ("3m.com", Company("3m.com", "3m")),
        ("gmail.com", None),
        ("googlemail.com", None),
        ("yahoo.co.uk", None),
        ("mail.yahoo.fr", None),
        ("hotmail.de", None),
        ("outlook.com", None),
        ("icloud.com", None),
        ("bigpond.net.au", None),
        ("co.uk", None),
        ("localhost", None),
        ("[192.0.2.1]", None),
        ("192.0.2.1", None),
        ("-acme.com", None),
    ],
)
def test_company_of(domain: str, company: Company | None) -> None:
    assert company_of(domain) == company


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("GMAIL.COM", True),
        ("yahoo.com", True),
        ("yahoo.co.jp", True),
        ("ymail.com", True),
        ("gmx.de", True),
        ("gmx.net", True),
        ("proton.me", True),
        # Consumer providers, with the city subdomains old archives are full of.
        ("austin.rr.com", True),
        ("houston.rr.com", True),
        ("swbell.net", True),
        ("ix.netcom.com", True),
        ("worldnet.att.net", True),
        ("wanadoo.es", True),
        ("rrd.com", False),  # R.R. Donnelley is a company, not Road Runner
        ("yahoo-inc.com", False),
        ("notgmail.com", False),
        ("gmail.com.evil.io", False),
        ("acme.com", False),
    ],
)
def test_free_mail(domain: str, free: bool) -> None:
    assert is_free_mail(domain) is free


def test_registrable_domain_and_name() -> None:
    assert registrable_domain("a.b.acme.com.au") == "acme.com.au"
    assert registrable_domain("com.au") is None
    assert company_name("xn--caf-dma.fr") == "Café"
    assert company_name("big-blue_labs.com") == "Big Blue Labs"


@pytest.mark.parametrize(
    ("email", "name", "expected"),
    [
        # French and Belgian directories write the surname first, in capitals.
        ("p.deniel@bretagne-ag.fr", "DENIEL Philippe", obs("Philippe Deniel", "Philippe", "Deniel", 0.6)),
        ("y.legall@bzh.example", "LE GALL Yann", obs("Yann Le Gall", "Yann", "Le Gall", 0.6)),
        ("p.deniel@bretagne-ag.fr", "Philippe DENIEL", obs("Philippe Deniel", "Philippe", "Deniel", 0.6)),
        ("jm@x.fr", "DUPONT-MARTIN Jean-Marc", obs("Jean-Marc Dupont-Martin", "Jean-Marc", "Dupont-Martin", 0.6)),
        # Two capitals are as often initials as a surname: left as written.
        ("jp@x.com", "JP Morgan", obs("JP Morgan", "JP", "Morgan", 0.6)),
        # A title after a comma is not the given name ("Last, First").
        ("m.campbell@x.fr", "Mathieu Campbell, Directeur", obs("Mathieu Campbell", "Mathieu", "Campbell", 0.6)),
        ("ann@acme.com", "Ann Lee, Head of Procurement", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("ann@acme.com", "Lee, Ann", obs("Ann Lee", "Ann", "Lee", 0.6)),
        ("mg@x.es", "García López, María", obs("María García López", "María", "García López", 0.6)),
    ],
)  # fmt: skip
def test_names_written_surname_first_or_with_a_title(
    email: str, name: str, expected: tuple[Observation, ...]
) -> None:
    assert name_observations(of(email, name), "person") == expected


def test_a_surname_in_capitals_before_a_comma_is_recased() -> None:
    assert name_observations(of("p.deniel@x.fr", "DENIEL, Philippe"), "person") == obs(
        "Philippe Deniel", "Philippe", "Deniel", 0.6
    )


@pytest.mark.parametrize(
    ("name", "given", "family"),
    [
        ("王小明", "小明", "王"),
        ("张三", "三", "张"),
        ("欧阳娜娜", "娜娜", "欧阳"),  # a compound surname
        ("司马光", "光", "司马"),
        ("山田太郎", "太郎", "山田"),  # Japanese written without its space
        ("山田 太郎", "太郎", "山田"),
        ("김민수", "민수", "김"),
    ],
)
def test_east_asian_names_put_the_family_name_first(name: str, given: str, family: str) -> None:
    found = {o.field: o.value for o in name_observations(of("x@example.cn", name), "person")}
    assert found == {"name": name, "given_name": given, "family_name": family}
