"""Quoted text whose introduction is no known attribution, or is missing."""

from __future__ import annotations

import pytest

from matcher.body.signatures import observations_by_author
from matcher.body.zones import split_zones
from tests.builders import SAM, address

JAN = address("jan.hoydahl@cominvent.example", "Jan Hoydahl")


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
        # Thunderbird in Finnish and Hungarian: the date after the verb
        ("Mikhail Khludnev <mkhl@apache.org> kirjoitti 16.3.2017 klo 21.51:",
         "mkhl@apache.org", "Mikhail Khludnev"),
        ("Mikhail Khludnev <mkhl@apache.org> ezt írta (időpont: 2017. márc. 16., Cs, 21:51):",
         "mkhl@apache.org", "Mikhail Khludnev"),
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


def test_a_quoted_attribution_rewrapped_by_a_later_reply_keeps_its_author() -> None:
    """The second reply re-wrapped "> > On ... wrote:" and quoted its tail once."""
    text = (
        "Agreed.\n\n"
        "> Make -Xms equal to -Xmx.\n>\n> wunder\n>\n"
        "> > On Feb 21, 2017, at 5:18 PM, Erick Erickson <erickerickson@gmail.example>\n"
        "> wrote:\n> >\n> > Solr is very memory-intensive. 1g is still a very small heap.\n"
        "> > For any sizeable data store people often run with at least 4G.\n"
    )
    zones = split_zones(text, JAN)
    assert [(z.kind, z.author.email if z.author else None) for z in zones] == [
        ("own", JAN.email),
        ("reply", None),
        ("reply", "erickerickson@gmail.example"),
    ]
    assert zones[2].text.startswith("Solr is very memory-intensive.")
