"""matcher.departures: which automatic replies say their writer left, and where they went."""

from __future__ import annotations

import pytest

from matcher.departures import Departure, departure_of


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "I have left Acme. You can reach me at Jane.Doe@globex.com.",
            Departure("jane.doe@globex.com"),
        ),
        ("Jane Doe is no longer with Acme Corp. Please contact sales@acme.com.", Departure(None)),
        (
            "Friday was my last day at Initech. My new email is: ann@hooli.com",
            Departure("ann@hooli.com"),
        ),
        ("This mailbox is no longer monitored.", Departure(None)),
        (
            "Ich bin im Urlaub. I have moved on from Globex; email me at <ms@umbrella.io>",
            Departure("ms@umbrella.io"),
        ),
        ("I am out of the office until Monday with limited access to email.", None),
        ("Thanks! I left the file on your desk.", None),  # "left" alone is no departure
    ],
)
def test_departure_notices(text: str, expected: Departure | None) -> None:
    assert departure_of(text) == expected
