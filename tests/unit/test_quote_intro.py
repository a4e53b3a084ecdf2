"""Quoted text whose introduction is no known attribution, or is missing."""

from __future__ import annotations

import pytest

from connectors.records import Address
from matcher.signatures import observations_by_author
from matcher.zones import split_zones
from tests.unit.test_html_quotes import SAM

JAN = Address.of("jan.hoydahl@cominvent.example", "Jan Hoydahl")


@pytest.mark.parametrize(
    ("intro", "email", "name"),
    [
        # Gmail in several locales, before it wrote "On ... wrote:" everywhere
        ("2017-03-16 21:51 GMT+01:00 Mikhail Khludnev <mkhl@apache.org>:", "mkhl@apache.org",
         "Mikhail Khludnev"),
        # Italian Gmail and Thunderbird
        ("Il giorno gio 16 mar 2017 alle ore 21:51 Mikhail Khludnev <mkhl@apache.org> ha"
         " scritto:", "mkhl@apache.org", "Mikhail Khludnev"),
        # Polish Thunderbird
        ("W dniu 16.03.2017 o 21:51, Mikhail Khludnev pisze <mkhl@apache.org>:",
         "mkhl@apache.org", None),
    ],
)  # fmt: skip
def test_an_unknown_introduction_above_a_quote_opens_the_quoted_zone(
    intro: str, email: str, name: str | None
) -> None:
    text = (
        "Thanks, the block join fixed it.\n\nJan\n\n\n"
        f"{intro}\n\n"
        "> Did you try the block join parser?\n>\n> --\n> Sincerely yours\n> Mikhail Khludnev\n"
    )
    zones = split_zones(text, JAN)
    assert [(z.kind, z.author.email if z.author else None) for z in zones] == [
        ("own", JAN.email),
        ("reply", email),
    ]
    assert zones[0].text == "Thanks, the block join fixed it.\n\nJan"
    if name is not None:
        assert zones[1].author_name == name
    found = observations_by_author(text, False, JAN, "US")
    assert not any(o.field == "email" for o in found[0].observations)


def test_a_line_ending_in_a_colon_above_a_quote_without_an_address_is_the_senders() -> None:
    """The sender introducing a pasted log: not an attribution."""
    text = (
        "The error at 21:51 was:\n\n> java.lang.OutOfMemoryError: Java heap space\n"
        ">   at org.apache.solr.search.SolrIndexSearcher.search(SolrIndexSearcher.java:412)\n"
        "\nSam\n"
    )
    zones = split_zones(text, SAM)
    assert [(z.kind, z.author) for z in zones] == [("own", SAM), ("reply", None), ("own", SAM)]
    assert zones[0].text == "The error at 21:51 was:"
