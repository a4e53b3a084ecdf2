"""Values shared by the calendar API parsers' tests: attendees as the iCal path reads
them, and hostile JSON for property tests."""

from __future__ import annotations

from hypothesis import strategies as st

from connectors.records import Address, Attendee


def attendee(
    email: str, name: str | None, partstat: str, role: str = "REQ-PARTICIPANT"
) -> Attendee:
    address = Address.of(email, name, raw=f"mailto:{email}")
    assert address is not None
    return Attendee(address, role=role, partstat=partstat)


# Any JSON value, nested a little: what a hostile or broken API response may hold.
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=25),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=15,
)
