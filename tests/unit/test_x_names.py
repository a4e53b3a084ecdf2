"""Names from the Enron corpus's X-From, X-To and X-cc fields, in the shapes the corpus has."""

from __future__ import annotations

import pytest

from connectors.mail.mime import parse_message_and_errors
from connectors.records import Limits, SourceRef
from matcher import extract
from matcher.plan import AccountPolicy
from matcher.x_names import x_names
from tests.builders import mail

POLICY = AccountPolicy("enron", frozenset({"phillip.allen@enron.com"}))


@pytest.mark.parametrize(
    ("value", "count", "names"),
    [
        ("Tim Belden", 1, ["Tim Belden"]),
        ("Francisco deJesus, Hector McLoughlin", 2, ["Francisco deJesus", "Hector McLoughlin"]),
        (
            "John J Lavorato <John J Lavorato/ENRON@enronXgate@ENRON>, Jeff Richter",
            2,
            ["John J Lavorato", "Jeff Richter"],
        ),
        (
            "Lavorato, John </O=ENRON/OU=NA/CN=RECIPIENTS/CN=Jlavora>, "
            "Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=Pallen>",
            2,
            ["Lavorato, John", "Allen, Phillip K."],
        ),
        ("Allen, Phillip K. </O=ENRON/OU=NA/CN=RECIPIENTS/CN=PALLEN>", 1, ["Allen, Phillip K."]),
        # Two commas' worth of pieces, but one route: one name, never "Lavorato" and "John".
        ("Lavorato, John </O=ENRON/OU=NA/CN=RECIPIENTS/CN=Jlavora>", 2, []),
        ("'pallen70@hotmail.com', Ina Rangel", 2, [None, "Ina Rangel"]),
        ('"Jeff Dasovich" <Jeff Dasovich/NA/Enron@Enron>', 1, ["Jeff Dasovich"]),
        (
            '"\\"Vavrek, Carolyn (US - San Francisco)\\" " <cvavrek@deloitte.com>, '
            '"\\"Jeff.Dasovich@enron.com\\" " <Jeff.Dasovich@enron.com>',
            2,
            ["Vavrek, Carolyn (US - San Francisco)", None],
        ),
        (
            "\"'Amirault, Paul@AEC'\" <paulamirault@aec.ca>, \"'Beach, Thomas@Crossborder'\" "
            "<tomb@crossborderenergy.com>",
            2,
            ["Amirault, Paul", "Beach, Thomas"],
        ),
        ("", 1, []),
        # Two entries or one "Last, First" name: the address count tells, else nobody.
        ("Allen, Phillip K.", 2, ["Allen", "Phillip K."]),
        ("Allen, Phillip K.", 1, []),
        ("Tim Belden, Kate Symes", 3, []),
    ],
)
def test_x_field_names_in_order(value: str, count: int, names: list[str | None]) -> None:
    assert x_names(value, count) == names


def named(*headers: tuple[str, str]) -> list[tuple[str, str, str | None]]:
    (found,) = extract([mail(*headers)], POLICY)
    return [(p.role, p.email, p.address.name) for p in found.participants]


def test_bare_addresses_take_the_names_of_their_x_fields() -> None:
    assert named(
        ("From", "tim.belden@enron.com"),
        ("To", "phillip.allen@enron.com, john.lavorato@enron.com, Jeff <jeff.richter@enron.com>"),
        ("Cc", "ina.rangel@enron.com"),
        ("X-From", "Belden, Tim </O=ENRON/OU=NA/CN=RECIPIENTS/CN=TBELDEN>"),
        ("X-To", "Phillip K Allen, John J Lavorato <John J Lavorato/ENRON@enronXgate@ENRON>, Jeff"),
        ("X-cc", "Ina Rangel"),
    ) == [
        ("from", "tim.belden@enron.com", "Belden, Tim"),
        ("to", "phillip.allen@enron.com", "Phillip K Allen"),
        ("to", "john.lavorato@enron.com", "John J Lavorato"),
        ("to", "jeff.richter@enron.com", "Jeff"),  # the field's own name stays
        ("cc", "ina.rangel@enron.com", "Ina Rangel"),
    ]


def test_an_x_field_that_does_not_line_up_names_only_whom_it_spells() -> None:
    # The corpus cut long X-To fields short: entries then count only where the
    # name is in the mailbox, and the last (maybe cut) entry not at all.
    assert named(
        ("From", "tim.belden@enron.com"),
        (
            "To",
            "laurel.adams@enron.com, kbennick@enron.com, amelia.alland@enron.com, "
            "sylvia.campos@enron.com, j.kaminski@enron.com, jdasovic@enron.com, "
            "fred.boas@enron.com, bob.bowen@enron.com",
        ),
        (
            "X-To",
            "Laurel Adams, Kimberlee A Bennick, Anne Bike, Anthony Campos, Vince J Kaminski, "
            "Jeff Dasovich, Fr",
        ),
        ("X-From", "Allen, Phillip K."),
    ) == [
        ("from", "tim.belden@enron.com", None),  # "Allen" is half a name, and not his
        ("to", "laurel.adams@enron.com", "Laurel Adams"),
        ("to", "kbennick@enron.com", "Kimberlee A Bennick"),
        ("to", "amelia.alland@enron.com", None),  # a shifted entry: "Anne Bike" is not hers
        ("to", "sylvia.campos@enron.com", None),  # a neighbour with her surname
        ("to", "j.kaminski@enron.com", "Vince J Kaminski"),
        ("to", "jdasovic@enron.com", "Jeff Dasovich"),  # a Notes id: initial and six letters
        ("to", "fred.boas@enron.com", None),  # "Fr" is where the corpus cut the field
        ("to", "bob.bowen@enron.com", None),
    ]


def test_a_dropped_address_shifts_no_surname_first_name_onto_a_neighbour() -> None:
    # "e-mail <.tom@enron.com>" is no address, so its X-To entry has no address
    # left and every later entry stands one place off.
    assert named(
        ("From", "nancy.hernandez@enron.com"),
        ("To", "e-mail <.tom@enron.com>, w..white@enron.com, shona.wilson@enron.com"),
        (
            "X-To",
            "Tom, E-Mail </O=ENRON/CN=Etom>, White, Stacey W. </O=ENRON/CN=Swhite>, "
            "Wilson, Shona </O=ENRON/CN=Swilson5>, Wood, Shelly </O=ENRON/CN=Swood6>",
        ),
    ) == [
        ("from", "nancy.hernandez@enron.com", None),
        ("to", "w..white@enron.com", None),  # "Tom, E-Mail" is not hers
        ("to", "shona.wilson@enron.com", None),  # nor "White, Stacey W." (surname first)
    ]


def test_an_entry_that_holds_its_address_names_that_address_wherever_it_stands() -> None:
    assert named(
        ("From", "beverly.gibson@enron.com"),
        ("To", "sally.beck@enron.com, jima@jatent.com, eda311@aol.com"),
        (
            "X-To",
            "Terri Agold <jima@jatent.com>, Estella Alvarado <Eda311@aol.com>, "
            "Pam Stone <RStone9522@aol.com>, Sally Beck <sally.beck@enron.com>",
        ),
    ) == [
        ("from", "beverly.gibson@enron.com", None),
        ("to", "sally.beck@enron.com", "Sally Beck"),
        ("to", "jima@jatent.com", "Terri Agold"),
        ("to", "eda311@aol.com", "Estella Alvarado"),
    ]


def test_a_stored_enron_message_keeps_its_x_fields_for_the_names() -> None:
    raw = (
        b"Message-ID: <18782981.1075855378110.JavaMail.evans@thyme>\r\n"
        b"Date: Mon, 14 May 2001 16:39:00 -0700 (PDT)\r\n"
        b"From: tim.belden@enron.com\r\nTo: phillip.allen@enron.com\r\nSubject: Re: forecast\r\n"
        b"X-From: Tim Belden\r\nX-To: Phillip K Allen\r\nX-cc: \r\nX-bcc: \r\n"
        b"X-Folder: \\Phillip_Allen_Jan2002_1\\Allen, Phillip K.\\'Sent Mail\r\n\r\n"
        b"Here is our forecast\r\n"
    )
    message, errors = parse_message_and_errors(raw, SourceRef("enron", "inbox", "1."), Limits())
    assert list(errors) == []
    (found,) = extract([message], POLICY)
    assert [(p.email, p.address.name) for p in found.participants] == [
        ("tim.belden@enron.com", "Tim Belden"),
        ("phillip.allen@enron.com", "Phillip K Allen"),
    ]
