"""Signature blocks and their fields, attributed to each zone's author."""

from __future__ import annotations

import pytest

from connectors.records import Address
from matcher.body.html import html_to_text
from matcher.body.signature_lines import closing_rest, has_phone, is_company
from matcher.body.signatures import (
    AuthorSignature,
    SignatureBlock,
    find_signature,
    observations_by_author,
    signature_fields,
)
from matcher.body.zones import split_zones
from matcher.plan import Observation
from tests.watchdog import terminates

ANN = Address.of("ann.lee@example.org", "Ann Lee")
JANE = Address.of("jane.doe@acme-energy.com", "Jane Doe")


def fields(found: AuthorSignature) -> list[tuple[str, str]]:
    return [(o.field, o.value) for o in found.observations]


def only(text: str, sender: Address | None, region: str | None = "US") -> AuthorSignature:
    [found] = observations_by_author(text, False, sender, region)
    return found


def test_delimited_signature_with_labelled_phones_and_links() -> None:
    text = (
        "Hi Bob,\n\nthe contract is signed; I will send a copy tomorrow.\n\n"
        "-- \n"
        "Jane Doe\n"
        "Head of Sales | Acme Energy Inc.\n"
        "Office: (713) 555-0142  Mobile: 713.555.0199\n"
        "Fax: 713-555-0100\n"
        "www.acme-energy.com | https://www.linkedin.com/in/janedoe | twitter.com/janedoe\n"
        "github.com/janedoe\n"
    )
    found = only(text, JANE)
    assert found.author == JANE and found.kind == "own" and found.zone_index == 0
    assert found.block is not None
    assert found.block.text.startswith("Jane Doe\n") and found.block.text.endswith("janedoe")
    assert text[found.block.start : found.block.end] == found.block.text
    assert fields(found) == [
        ("name", "Jane Doe"),
        ("title", "Head of Sales"),
        ("company", "Acme Energy Inc."),
        ("phone:office", "+17135550142"),
        ("phone:mobile", "+17135550199"),
        ("phone:fax", "+17135550100"),
        ("website", "https://www.acme-energy.com"),
        ("linkedin", "https://www.linkedin.com/in/janedoe"),
        ("x", "https://x.com/janedoe"),
        ("github", "https://github.com/janedoe"),
    ]
    assert all(0.0 < o.confidence <= 1.0 for o in found.observations)


def test_signature_without_delimiter_after_closing_phrase_with_address() -> None:
    text = (
        "Please let me know whether the revised schedule works for your team.\n\n"
        "Best regards,\n\n"
        "Jane Doe\n"
        "Senior Legal Specialist\n"
        "Acme Energy Corp.\n"
        "1400 Main Street, Suite 3803\n"
        "Houston, Texas 77002\n"
        "(713) 555-0188 (phone)\n"
        "(713) 555-0190 (fax)\n"
        "jane.doe@acme-energy.com\n"
    )
    found = only(text, JANE)
    assert fields(found) == [
        ("name", "Jane Doe"),
        ("title", "Senior Legal Specialist"),
        ("company", "Acme Energy Corp."),
        ("address", "1400 Main Street, Suite 3803, Houston, Texas 77002"),
        ("phone", "+17135550188"),
        ("phone:fax", "+17135550190"),
        ("email", "jane.doe@acme-energy.com"),
    ]
    email = next(o for o in found.observations if o.field == "email")
    assert email.confidence == 0.95  # the author's own address


def test_disclaimer_is_not_part_of_the_signature() -> None:
    text = (
        "Attached is the signed agreement.\n\n"
        "Thanks,\n"
        "Jane Doe\n"
        "Acme Energy Corp.\n"
        "Tel: 713 555 0142\n\n"
        "This e-mail and any attachments are confidential and intended solely for the\n"
        "addressee. If you are not the intended recipient, please delete it and notify\n"
        "the sender immediately.\n"
    )
    found = only(text, JANE)
    assert found.block is not None
    assert found.block.text == "Jane Doe\nAcme Energy Corp.\nTel: 713 555 0142"
    assert fields(found) == [
        ("name", "Jane Doe"),
        ("company", "Acme Energy Corp."),
        ("phone", "+17135550142"),
    ]


def test_mobile_footer_is_skipped_and_bare_sign_off_is_no_signature() -> None:
    found = only("Running late, start without me.\n\nJane\n\nSent from my iPhone\n", JANE)
    assert found.block is None and found.observations == ()
    text = "Running late.\n\n--\nJane Doe\nCell +1 713 555 0199\n\nSent from my iPhone\n"
    found = only(text, JANE)
    assert found.block is not None and found.block.text == "Jane Doe\nCell +1 713 555 0199"
    assert fields(found) == [("name", "Jane Doe"), ("phone:mobile", "+17135550199")]


def test_prose_only_body_has_no_signature() -> None:
    text = (
        "I looked at the numbers again and they still do not add up.\n"
        "Can we go through them on Thursday after the team meeting?\n"
    )
    assert only(text, JANE).block is None


def test_three_forwards_three_signatures_each_attributed() -> None:
    text = (
        "Bob, see the thread below.\n\n"
        "Ann Lee\nAccount Manager\nExample Org Ltd\n+44 20 7946 0321\n\n"
        "---------- Forwarded message ---------\n"
        "From: Hans Müller <hans.mueller@firma.de>\n"
        "Date: Mon, Mar 2, 2026 at 10:15 AM\n"
        "Subject: Angebot\n"
        "To: Ann Lee <ann.lee@example.org>\n\n"
        "Anbei das Angebot wie besprochen, gültig bis Ende des Monats.\n\n"
        "Mit freundlichen Grüßen\n"
        "Hans Müller\n"
        "Geschäftsführer\n"
        "Firma Technik GmbH\n"
        "Hauptstraße 5\n"
        "10115 Berlin\n"
        "Tel. 030 1234567\n"
        "Mobil 0171 2345678\n\n"
        "-----Original Message-----\n"
        "From: Marie Dupont [mailto:marie.dupont@societe.fr]\n"
        "Sent: Friday, February 27, 2026 9:00 AM\n"
        "To: Hans Müller\n"
        "Cc: Ann Lee <ann.lee@example.org>\n"
        "Subject: Demande de prix\n\n"
        "Pourriez-vous nous envoyer votre meilleur prix pour cent unités ?\n\n"
        "Cordialement,\n"
        "Marie Dupont\n"
        "Directrice des achats\n"
        "Société Générale Industrie SA\n"
        "Tél. : 01 42 68 53 00\n"
    )
    found = observations_by_author(text, False, ANN, None)
    assert [(f.kind, f.author.email if f.author else None, f.author_name) for f in found] == [
        ("own", "ann.lee@example.org", "Ann Lee"),
        ("forward", "hans.mueller@firma.de", "Hans Müller"),
        ("reply", "marie.dupont@societe.fr", "Marie Dupont"),
    ]
    assert fields(found[0]) == [
        ("name", "Ann Lee"),
        ("title", "Account Manager"),
        ("company", "Example Org Ltd"),
        ("phone", "+442079460321"),
    ]
    # The region for Hans's national numbers comes from his .de domain.
    assert fields(found[1]) == [
        ("name", "Hans Müller"),
        ("title", "Geschäftsführer"),
        ("company", "Firma Technik GmbH"),
        ("address", "Hauptstraße 5, 10115 Berlin"),
        ("phone", "+49301234567"),
        ("phone:mobile", "+491712345678"),
    ]
    assert fields(found[2]) == [
        ("name", "Marie Dupont"),
        ("title", "Directrice des achats"),
        ("company", "Société Générale Industrie SA"),
        ("phone", "+33142685300"),
    ]
    assert [(r, a.email) for r, a in found[2].people] == [
        ("from", "marie.dupont@societe.fr"),
        ("cc", "ann.lee@example.org"),
    ]


@pytest.mark.parametrize(
    ("closing", "title", "company", "phone", "sender"),
    [
        ("Saludos cordiales,", "Gerente de ventas", "Empresa Ejemplo S.L.", "+34 912 345 678",
         Address.of("carlos@empresa.es", "Carlos García")),
        ("Met vriendelijke groet,", "Adviseur inkoop", "Voorbeeld Handel B.V.", "+31 20 123 4567",
         Address.of("jan@bedrijf.nl", "Jan de Vries")),
    ],
)  # fmt: skip
def test_spanish_and_dutch_signatures(
    closing: str, title: str, company: str, phone: str, sender: Address | None
) -> None:
    assert sender is not None and sender.name is not None
    text = f"Gracias por la información, lo revisamos mañana.\n\n{closing}\n{sender.name}\n"
    text += f"{title}\n{company}\n{phone}\n"
    digits = "+" + "".join(ch for ch in phone if ch.isdigit())
    assert fields(only(text, sender, None)) == [
        ("name", sender.name),
        ("title", title),
        ("company", company),
        ("phone", digits),
    ]


def test_html_only_mail_is_converted_first() -> None:
    html = (
        "<html><head><style>p {color: red}</style><script>alert('x')</script></head><body>"
        "<p>Hi Bob,</p><p>the offer stands until Friday.</p>"
        "<p>Kind regards,<br>Jane Doe<br>VP Business Development<br>Acme Energy Inc.<br>"
        "M: +1 713 555 0199<br><a href='https://acme-energy.com'>www.acme-energy.com</a></p>"
        "</body></html>"
    )
    text = html_to_text(html, 10_000)
    assert "alert" not in text and "color" not in text
    [found] = observations_by_author(html, True, JANE, "US")
    assert fields(found) == [
        ("name", "Jane Doe"),
        ("title", "VP Business Development"),
        ("company", "Acme Energy Inc."),
        ("phone:mobile", "+17135550199"),
        ("website", "https://www.acme-energy.com"),
    ]


def test_html_is_cut_at_the_limit() -> None:
    assert html_to_text("<p>" + "x" * 50_000 + "</p>", 1000) == "x" * 997
    assert html_to_text("", 1000) == ""


def test_signature_fields_on_a_block_and_region_fallbacks() -> None:
    block = SignatureBlock("Jane Doe\nT +44 20 7946 0321\nF 020 7946 0322", 0, 40, 0.9)
    assert signature_fields(block, JANE, "GB") == (
        Observation("name", "Jane Doe", 0.9),
        Observation("phone", "+442079460321", 0.8),
        Observation("phone:fax", "+442079460322", 0.9),
    )
    # No configured region and a .com sender: only international numbers parse.
    assert [o.value for o in signature_fields(block, JANE, None)] == ["Jane Doe", "+442079460321"]


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ("(503) 464-3820", "+15034643820"),
        ("Phone: 713-853-3989", "+17138533989"),
        ("713/853-3989 (office)", "+17138533989"),
        ("Tel 212.555.0142", "+12125550142"),
        # Other plans' national numbers start with a trunk 0: still unknown without a region.
        ("(02) 9374 4000", None),
        ("020 7946 0958", None),
        ("(011) 2345-6789", None),
        # Digits without the plan's grouping are no sign of it.
        ("Ref 2034567890", None),
        ("Order 503-4643-820", None),
    ],
)
def test_a_north_american_number_is_read_without_a_region(line: str, found: str | None) -> None:
    """A .com sender's US number, with no phone_region configured."""
    block = SignatureBlock(f"Jane Doe\nVice President\n{line}", 0, 60, 0.9)
    phones = [o.value for o in signature_fields(block, JANE, None) if o.field.startswith("phone")]
    assert phones == ([found] if found else [])


def test_find_signature_on_a_zone_maps_offsets_through_quote_prefixes() -> None:
    text = (
        "Fine by me.\n\n"
        "On Mon, Mar 2, 2026 at 10:15 AM Jane Doe <jane.doe@acme-energy.com> wrote:\n"
        "> We can ship on Monday if the order is confirmed today.\n"
        ">\n"
        "> Jane Doe\n"
        "> Acme Energy Inc.\n"
        "> +1 713 555 0142\n"
    )
    zones = split_zones(text, ANN)
    block = find_signature(zones[1])
    assert block is not None
    assert block.text == "Jane Doe\nAcme Energy Inc.\n+1 713 555 0142"
    assert text[block.start : block.end] == "Jane Doe\n> Acme Energy Inc.\n> +1 713 555 0142"
    assert find_signature(zones[0]) is None


def test_quoted_people_come_back_without_signature() -> None:
    text = (
        "Noted.\n\n-----Original Message-----\nFrom: Jane Doe <jane.doe@acme-energy.com>\n"
        "Sent: Monday, March 2, 2026 10:15\nTo: Ann Lee <ann.lee@example.org>\n"
        "Cc: Bob Stone <bob@stone.net>\nSubject: RE: order\n\nShipped today.\n"
    )
    found = observations_by_author(text, False, ANN, "US")
    assert [(f.author.email if f.author else None, f.observations) for f in found] == [
        ("ann.lee@example.org", ()),
        ("jane.doe@acme-energy.com", ()),
    ]
    assert [(r, a.email) for r, a in found[1].people] == [
        ("from", "jane.doe@acme-energy.com"),
        ("to", "ann.lee@example.org"),
        ("cc", "bob@stone.net"),
    ]


@pytest.mark.parametrize(
    "hostile",
    [
        "x" * 65536,
        "1" * 65536,
        ("+1 (713) 555-0142 " * 4000),
        "-- \n" + "Jane Doe\n" * 8000,
        "Regards,\n" + ("a@b.co " * 9000),
        "-- \n" + ("www." + "a" * 300 + " ") * 200,
        ("Hauptstraße " + "5 " * 30000),
    ],
)
def test_hostile_bodies_are_bounded(hostile: str) -> None:
    with terminates():
        found = observations_by_author(hostile, False, JANE, "US")
    assert all(len(f.observations) <= 60 for f in found)


def test_deeply_nested_html_is_bounded() -> None:
    with terminates():
        text = html_to_text("<div>" * 200_000 + "deep" + "</div>" * 200_000, 2_000_000)
    assert len(text) <= 2_000_000


def test_forms_phone_lists_and_sentences_with_numbers_are_not_signatures() -> None:
    form = (
        "Your request was approved.\n\n"
        "Request ID          : 000000000009797\n"
        "Requested For       : jane.doe@acme-energy.com\n"
        "Resource Name       : Backoffice Reports\n"
    )
    assert only(form, JANE).block is None
    sentence = "Any questions?\n\nPlease call me at (713) 555-0142 or Bob at (713) 555-0199.\n"
    assert only(sentence, JANE).block is None
    directory = "Desk numbers:\n\n" + "".join(
        f"Trader {n}:  713-555-01{n:02d}\n" for n in range(10, 16)
    )
    assert only(directory, JANE).block is None


def test_a_signature_above_a_postscript_is_found() -> None:
    # A letter's P.S. follows its signature: the block ends above it.
    text = (
        "I will send the volumes once the rate is locked in.  Thanks,\n"
        "-Jane\n"
        "(713) 555-0142\n\n"
        "PS:  the workbook links to other files.  Before opening it in Excel, set\n"
        "calculation to manual (Tools, then Options)\n"
    )
    found = only(text, JANE)
    assert found.block is not None and found.block.text == "-Jane\n(713) 555-0142"
    assert fields(found) == [("phone", "+17135550142")]  # "-Jane" signs off: no full name
    unsigned = "See the sheet attached.\n\nP.S. The second tab has last year's figures.\n"
    assert only(unsigned, JANE).block is None


@pytest.mark.parametrize(
    ("line", "company"),
    [
        ("It's Analytica, Inc.", False),  # answers "does the firm have a name?"
        ("We're Contoso Holdings", False),
        ("CERA Knowledge Area(s): North American Gas", False),  # a field, not a name
        ("Moody's Analytics Inc.", True),
        ("CERA Advisory Services", True),
    ],
)
def test_a_sentence_or_a_field_is_no_company(line: str, company: bool) -> None:
    assert is_company(line, Address.of("webmaster@cera.com")) is company


def test_a_one_line_answer_naming_a_company_is_no_signature() -> None:
    found = only("It's Analytica, Inc.\n\nJane\n", JANE)
    assert found.block is None and fields(found) == []


def test_bilingual_notice_after_a_company_line_is_cut() -> None:
    text = (
        "The product list is attached.\n\n"
        "Thank You,\n\n"
        "Acme Commodity Futures, Inc.\n\n\n"
        'This message and any attachments (the "message") is\n'
        "intended solely for the addressees and is confidential. If you receive\n"
        "this message in error, please delete it and notify the sender.\n\n"
        "            ---------------------------------------------\n\n"
        "Ce message et toutes les pieces jointes sont etablis a l'intention\n"
        "exclusive de ses destinataires et sont confidentiels. Si vous recevez ce\n"
        "message par erreur, merci de le detruire.\n"
    )
    found = only(text, JANE)
    assert found.block is not None and found.block.text == "Acme Commodity Futures, Inc."
    assert fields(found) == [("company", "Acme Commodity Futures, Inc.")]


def test_name_only_header_takes_the_address_its_signature_gives() -> None:
    text = (
        "FYI\n\n"
        "----- Forwarded by Ann Lee/HOU/EXA on 05/24/2001 03:42 PM -----\n\n"
        "\tJohn Smith@ACME\n"
        "\tSent by: Mary Jones@ACME\n"
        "\t04/12/2001 03:44 PM\n"
        "\t\t To: Ann Lee/HOU/EXA@EXA\n"
        "\t\t Subject: Re: broker agreement\n\n"
        "The agreement went out for signature today.\n\n"
        "John Smith\n"
        "Senior Counsel\n"
        "(713) 555-4693\n"
        "john.smith@acme.com\n"
    )
    found = observations_by_author(text, False, ANN, "US")
    assert [(f.kind, f.author_name) for f in found] == [
        ("own", "Ann Lee"),
        ("forward", "John Smith"),
    ]
    assert found[1].author == Address.of("john.smith@acme.com", "John Smith")
    assert fields(found[1]) == [
        ("name", "John Smith"),
        ("title", "Senior Counsel"),
        ("phone", "+17135554693"),
        ("email", "john.smith@acme.com"),
    ]


def test_layout_rules_for_organisations_titles_and_wrapped_numbers() -> None:
    text = (
        "The well logs are attached; the interpretation follows next week.\n\n"
        "Ryan F. Ruppert\n"
        "Senior Geologist\n"
        "West Texas Geoscience\n"
        "ExxonMobil Production Co.\n"
        "P.O. Box 4697, Houston, Texas 77067\n"
        "Tel: (713)\n"
        "431-1839\n\n"
        " - Well logs April.pdf\n"
        " - Interpretation notes for the\n"
        "North field.doc\n"
    )
    sender = Address.of("ryan.ruppert@exxonmobil.com")
    found = only(text, sender)
    assert found.block is not None and found.block.text.endswith("431-1839")
    assert fields(found) == [
        ("name", "Ryan F. Ruppert"),
        ("title", "Senior Geologist"),
        ("company", "West Texas Geoscience, ExxonMobil Production Co."),
        ("address", "P.O. Box 4697, Houston, Texas 77067"),
        ("phone", "+17134311839"),
    ]


def test_title_of_an_organisation_is_split_but_of_a_subject_is_not() -> None:
    text = "See you there.\n\n-- \nMichael Rochman\nManaging Director of SPURR and CUB\n"
    assert fields(only(text, Address.of("rochmanm@spurr.org", "Michael Rochman"))) == [
        ("name", "Michael Rochman"),
        ("title", "Managing Director"),
        ("company", "SPURR and CUB"),
    ]
    text = "See you there.\n\n-- \nAnna Berg\nProfessor of Economics\nanna@uni.example\n"
    assert fields(only(text, Address.of("anna@uni.example", "Anna Berg"))) == [
        ("name", "Anna Berg"),
        ("title", "Professor of Economics"),
        ("email", "anna@uni.example"),
    ]


def test_html_gmail_reply_keeps_the_quoted_author() -> None:
    html = (
        "<div dir='ltr'>Works for me.<br><br>Ann</div><br>"
        "<div class='gmail_quote'><div class='gmail_attr'>On Mon, Mar 2, 2026 at 10:15 AM "
        "Jane Doe &lt;<a href='mailto:jane.doe@acme-energy.com'>jane.doe@acme-energy.com</a>"
        "&gt; wrote:<br></div>"
        "<blockquote class='gmail_quote'><div>Shall we sign on Friday?<br><br>Jane Doe<br>"
        "Acme Energy Inc.<br>+1 713 555 0142</div></blockquote></div>"
    )
    found = observations_by_author(html, True, ANN, "US")
    assert [(f.kind, f.author.email if f.author else None) for f in found] == [
        ("own", "ann.lee@example.org"),
        ("reply", "jane.doe@acme-energy.com"),
    ]
    assert found[0].observations == ()
    assert fields(found[1]) == [
        ("name", "Jane Doe"),
        ("company", "Acme Energy Inc."),
        ("phone", "+17135550142"),
    ]


def test_signature_above_a_pasted_article_is_found() -> None:
    text = (
        "Below is the story that ran this morning; please alert me if you hear more.\n\n"
        "Thanks,\nJean\n\n\n"
        "-- \n"
        "Jean Munoz\n"
        "McNally Temple Associates, Inc.\n"
        "916-447-8186\n"
        "916-447-6326 (fx)\n\n\n\n"
        "Governor To Make Energy Announcement Thursday\n\n"
        "The governor intends to hold a press conference on Thursday evening to deliver\n"
        "an important address on energy, his office said in a statement on Wednesday.\n"
    )
    found = only(text, Address.of("jmunoz@mcnallytemple.com", "Jean Munoz"))
    assert found.block is not None
    assert found.block.text.startswith("Jean Munoz\n") and found.block.text.endswith("(fx)")
    assert fields(found) == [
        ("name", "Jean Munoz"),
        ("company", "McNally Temple Associates, Inc."),
        ("phone", "+19164478186"),
        ("phone:fax", "+19164476326"),
    ]
    # A closing over a bare first name above an article is no signature.
    plain = text.replace("-- \nJean Munoz\nMcNally Temple Associates, Inc.\n916-447-8186\n"
                         "916-447-6326 (fx)\n", "")  # fmt: skip
    assert only(plain, Address.of("jmunoz@mcnallytemple.com", "Jean Munoz")).block is None


def test_thread_of_three_forwards_each_signature_to_its_author() -> None:
    text = (
        "FYI, the whole chain is below.\n\n"
        "---------- Forwarded message ---------\n"
        "From: Bob Stone <bob@stone-logistics.com>\n"
        "Date: Tue, Mar 3, 2026 at 9:00 AM\n"
        "Subject: Fwd: FW: delivery dates\n"
        "To: Ann Lee <ann.lee@example.org>\n\n"
        "Ann, passing this on as promised.\n\n"
        "Best,\n"
        "Bob Stone\n"
        "Operations Manager\n"
        "Stone Logistics LLC\n"
        "Mobile: +1 312 555 0117\n\n"
        "________________________________\n"
        "From: Carla Reyes <carla.reyes@harbor-freight.example>\n"
        "Sent: Monday, March 2, 2026 4:12 PM\n"
        "To: Bob Stone <bob@stone-logistics.com>\n"
        "Subject: FW: delivery dates\n\n"
        "Bob, see the carrier's dates below.\n\n"
        "Regards,\n"
        "Carla Reyes | Shipping Coordinator | Harbor Freight Partners\n"
        "T +1 206 555 0190 | F +1 206 555 0191\n\n"
        "Begin forwarded message:\n\n"
        "From: Dirk Visser <dirk.visser@vervoer.nl>\n"
        "Subject: delivery dates\n"
        "Date: 2 March 2026 at 10:05:00 CET\n"
        "To: Carla Reyes <carla.reyes@harbor-freight.example>\n\n"
        "Leveringen zijn gepland voor 9 en 16 maart.\n\n"
        "Met vriendelijke groet,\n"
        "Dirk Visser\n"
        "Vervoer Nederland B.V.\n"
        "Havenstraat 12\n"
        "3011 AB Rotterdam\n"
        "Tel. 010 123 4567\n"
    )
    found = observations_by_author(text, False, ANN, None)
    assert [(f.kind, f.author.email if f.author else None) for f in found] == [
        ("own", "ann.lee@example.org"),
        ("forward", "bob@stone-logistics.com"),
        ("forward", "carla.reyes@harbor-freight.example"),
        ("forward", "dirk.visser@vervoer.nl"),
    ]
    assert [fields(f) for f in found] == [
        [],
        [
            ("name", "Bob Stone"),
            ("title", "Operations Manager"),
            ("company", "Stone Logistics LLC"),
            ("phone:mobile", "+13125550117"),
        ],
        [
            ("name", "Carla Reyes"),
            ("title", "Shipping Coordinator"),
            ("company", "Harbor Freight Partners"),
            ("phone", "+12065550190"),
            ("phone:fax", "+12065550191"),
        ],
        [
            ("name", "Dirk Visser"),
            ("company", "Vervoer Nederland B.V."),
            ("address", "Havenstraat 12, 3011 AB Rotterdam"),
            ("phone", "+31101234567"),
        ],
    ]


def title_and_company(text: str, sender: Address | None) -> list[tuple[str, str]]:
    name = sender.name if sender else None
    block = SignatureBlock(text, 0, len(text), 0.9, name)
    found = signature_fields(block, sender, "US")
    return [(o.field, o.value) for o in found if o.field in ("title", "company")]


@pytest.mark.parametrize(
    ("text", "sender", "expected"),
    [
        # A team after the comma narrows the title; the employer is the next line.
        (
            "Priya Natarajan\nEngineering Manager, Platform\nHexaloop\n+1 312 555 0148",
            Address.of("priya.natarajan@hexaloop.example", "Priya Natarajan"),
            [("title", "Engineering Manager, Platform"), ("company", "Hexaloop")],
        ),
        (
            "Tomás Ortega\nAccount Manager, Sales EMEA\nBrightwave Analytics Ltd\n",
            Address.of("tomas.ortega@brightwave.example", "Tomás Ortega"),
            [("title", "Account Manager, Sales EMEA"), ("company", "Brightwave Analytics Ltd")],
        ),
        (
            "Dr. Helen Kraus\nSenior Director, Clinical Operations\nMeridian Trials\n",
            Address.of("hkraus@meridian-trials.example", "Helen Kraus"),
            [("title", "Senior Director, Clinical Operations"), ("company", "Meridian Trials")],
        ),
        (
            "Kofi Mensah\nPrincipal Engineer, Infrastructure\nTallgrass Cloud Inc.\n",
            Address.of("kofi@tallgrass.example", "Kofi Mensah"),
            [("title", "Principal Engineer, Infrastructure"), ("company", "Tallgrass Cloud Inc.")],
        ),
        # "<title> of <unit>" is one title, even with an acronym in the unit.
        (
            "Marta Silva\nDirector of Enterprise IT\nNovacare Hospitals\n",
            Address.of("marta.silva@novacare.example", "Marta Silva"),
            [("title", "Director of Enterprise IT"), ("company", "Novacare Hospitals")],
        ),
        (
            "Leo Brandt\nVP of HR\nFeldmann Logistik GmbH\n",
            Address.of("leo.brandt@feldmann.example", "Leo Brandt"),
            [("title", "VP of HR"), ("company", "Feldmann Logistik GmbH")],
        ),
        # A legal form after the comma names the employer.
        (
            "Jo Park\nSales Director, Acme Corp\n+1 202 555 0190\n",
            Address.of("jo.park@gmail.com", "Jo Park"),
            [("title", "Sales Director"), ("company", "Acme Corp")],
        ),
        # So does the author's domain, after a comma or after "of".
        (
            "Bill Lumbergh\nCEO, Initech\n",
            Address.of("bill@initech.example", "Bill Lumbergh"),
            [("title", "CEO"), ("company", "Initech")],
        ),
        (
            "Bill Lumbergh\nVice President of Initech\n",
            Address.of("bill@initech.example", "Bill Lumbergh"),
            [("title", "Vice President"), ("company", "Initech")],
        ),
        # After "at" a team-like name is the employer all the same.
        (
            "Ravi Shah\nSoftware Engineer at Data Dynamics\n",
            Address.of("ravi.shah@outlook.com", "Ravi Shah"),
            [("title", "Software Engineer"), ("company", "Data Dynamics")],
        ),
        # A tail that is neither: the employer when no other line names one...
        (
            "Sara Quinn\nSenior Counsel, NWP\nPhone: 713-555-0142\n",
            Address.of("sara.quinn@example.com", "Sara Quinn"),
            [("title", "Senior Counsel"), ("company", "NWP")],
        ),
        # ...and part of the title when one does, above or below it.
        (
            "Sara Quinn\nProgram Lead, Apollo\nOrbital Dynamics Ltd\n",
            Address.of("sara.quinn@example.com", "Sara Quinn"),
            [("title", "Program Lead, Apollo"), ("company", "Orbital Dynamics Ltd")],
        ),
        (
            "Sara Quinn\nOrbital Dynamics Ltd\nProgram Lead, Apollo\n",
            Address.of("sara.quinn@example.com", "Sara Quinn"),
            [("company", "Orbital Dynamics Ltd"), ("title", "Program Lead, Apollo")],
        ),
    ],
)
def test_a_team_after_a_title_stays_in_it_and_an_employer_is_split_off(
    text: str, sender: Address | None, expected: list[tuple[str, str]]
) -> None:
    assert title_and_company(text, sender) == expected


def test_a_line_naming_the_authors_domain_counts_for_that_author_only() -> None:
    # Lines are weighed once and remembered: the company-by-domain test must
    # still answer per author, whichever author's mail comes first.
    text = "See you on Monday.\n\nThanks,\nPat Kelly\nWatson Wyatt\n"
    pat = Address.of("pat.kelly@watsonwyatt.com", "Pat Kelly")
    other = Address.of("pat.kelly@example.org", "Pat Kelly")
    assert only(text, other).block is None
    found = only(text, pat)
    assert found.block is not None
    assert found.block.text == "Pat Kelly\nWatson Wyatt"
    assert fields(found) == [("name", "Pat Kelly"), ("company", "Watson Wyatt")]
    assert only(text, other).block is None


JULIA = Address.of("julia.novak@contoso-mfg.example", "Julia Novak")
JNOVAK = Address.of("jnovak@contoso-mfg.example")  # no display name at all


@pytest.mark.parametrize("sender", [JULIA, JNOVAK])
@pytest.mark.parametrize(
    "text",
    [
        "Hi Sam,\n\nLooks good.\n\nJulia Novak\nHead of Procurement\n",
        "Hi Sam,\nLooks good.\nJulia Novak\nHead of Procurement\n",
        "Hi Sam,\n\nJulia Novak\nHead of Procurement\n",
        "Dear Mr. Reed,\n\nAgreed.\n\nJulia Novak\nHead of Procurement\n",
        "Hello Sam Reed,\n\nJulia Novak\nHead of Procurement\n",
        "Bonjour Sam,\n\nC'est bon.\n\nJulia Novak\nHead of Procurement\n",
    ],
)
def test_a_greeting_is_never_the_signature_name(text: str, sender: Address) -> None:
    assert fields(only(text, sender)) == [
        ("name", "Julia Novak"),
        ("title", "Head of Procurement"),
    ]


def test_a_block_signed_with_someone_elses_name_gives_the_sender_nothing() -> None:
    # Julia sends, Peter signs: an assistant mailing for the boss, a colleague's
    # block pasted in. The title and phone are Peter's as much as the name is,
    # and Peter has no address here to carry them.
    text = "Sam,\n\nAttached as promised.\n\nPeter Brandt\nHead of Procurement\n+1 202 555 0166\n"
    found = only(text, JULIA)
    assert found.block is not None and fields(found) == []
    # An address without a name to compare with takes the signature's name.
    assert fields(only(text, Address.of("p7@contoso-mfg.example"))) == [
        ("name", "Peter Brandt"),
        ("title", "Head of Procurement"),
        ("phone", "+12025550166"),
    ]
    # A first name, a surname or the mailbox is enough to agree: the fields stay.
    for signed in ("Julia", "J. Novak", "Jules Novak"):
        mine = text.replace("Peter Brandt", signed)
        assert ("title", "Head of Procurement") in fields(only(mine, JULIA)), signed


def test_a_footer_that_opens_with_a_name_like_company_keeps_its_contact_lines() -> None:
    # "Blue Harbor Logistics" reads like a name that is not Jane's, but a block
    # with no title and no address of its own describes no other person.
    jane = Address.of("jane.doe@northwind.example", "Jane Doe")
    text = (
        "Hi Ann,\n\nthe offer is attached as discussed.\n\nBlue Harbor Logistics\n"
        "100 Main Street, Springfield\nTel +1 212 555 0100\nwww.blueharbor.example\n"
    )
    assert fields(only(text, jane)) == [
        ("address", "100 Main Street, Springfield"),
        ("phone", "+12125550100"),
        ("website", "https://www.blueharbor.example"),
    ]
    # The company's own mailbox ("info@") does not make it a person's block ...
    shared = text.replace("www.blueharbor.example", "info@blueharbor.example")
    assert ("email", "info@blueharbor.example") in fields(only(shared, jane))
    # ... but a person's name over an address of theirs does.
    theirs = shared.replace("Blue Harbor Logistics", "Judy Paul").replace("info@", "judy.paul@")
    assert fields(only(theirs, jane)) == []


def test_an_assistant_sending_for_the_boss_gives_the_boss_nothing_of_theirs() -> None:
    # Sent from the boss's mailbox by a delegate (Outlook's "on behalf of"),
    # signed with the delegate's block, as Enron's and every firm's mail has it.
    carl = Address.of("carl.boss@globex.example", "Carl Boss")
    text = (
        "Hi Ann,\n\nCarl asked me to send the agenda.\n\nBest regards,\n"
        "Amy Chen\nExecutive Assistant to Carl Boss\nGlobex Corp.\n+1 312 555 0199\n"
    )
    found = only(text, carl)
    assert found.block is not None and fields(found) == []


def test_the_authors_own_name_is_never_taken_for_a_recipients() -> None:
    # Julia writing to a list of people that includes herself (another address).
    text = "Sam, confirmed for Tuesday.\n\nJulia Novak\nHead of Procurement\n"
    [found] = observations_by_author(text, False, JULIA, None, frozenset({"julianovak", "samreed"}))
    assert fields(found) == [("name", "Julia Novak"), ("title", "Head of Procurement")]


@pytest.mark.parametrize(
    ("sender", "block", "expected"),
    [
        (Address.of("hans.mueller@maschinenbau.example", "Hans Müller"),
         "Hans Müller\nVertriebsleiter\nMüller Maschinenbau GmbH & Co. KG\n"
         "Tel.: +49 711 123456-0\nMobil: +49 171 2345678",
         [("title", "Vertriebsleiter"), ("company", "Müller Maschinenbau GmbH & Co. KG"),
          ("phone", "+497111234560"), ("phone:mobile", "+491712345678")]),
        (Address.of("giulia.rossi@azienda.example", "Giulia Rossi"),
         "Giulia Rossi\nDirettore Commerciale\nAzienda Srl\nTel. +39 02 1234 5678\n"
         "Cell. +39 333 123 4567",
         [("title", "Direttore Commerciale"), ("company", "Azienda Srl"),
          ("phone", "+390212345678"), ("phone:mobile", "+393331234567")]),
        (Address.of("erik.berg@foretaget.example", "Erik Berg"),
         "Erik Berg\nFörsäljningschef\nFöretaget AB\nTel: +46 8 123 456 78\n"
         "Mobil: +46 70 123 45 67",
         [("title", "Försäljningschef"), ("company", "Företaget AB"),
          ("phone", "+46812345678"), ("phone:mobile", "+46701234567")]),
        (Address.of("joao.silva@empresa.example", "João Silva"),
         "João Silva\nDiretor Comercial\nEmpresa Ltda.\nTel.: +55 11 3456-7890\n"
         "Cel.: +55 11 91234-5678",
         [("title", "Diretor Comercial"), ("company", "Empresa Ltda."),
          ("phone", "+551134567890"), ("phone:mobile", "+5511912345678")]),
        (Address.of("anna.nowak@firma.example", "Anna Nowak"),
         "Anna Nowak\nDyrektor Sprzedaży\nFirma Sp. z o.o.\ntel. +48 22 123 45 67\n"
         "kom. +48 601 234 567",
         [("title", "Dyrektor Sprzedaży"), ("company", "Firma Sp. z o.o."),
          ("phone", "+48221234567"), ("phone:mobile", "+48601234567")]),
        (Address.of("mette.hansen@firma.example", "Mette Hansen"),
         "Mette Hansen\nSalgschef\nFirma ApS\nTlf.: +45 33 12 34 56\nMobil: +45 20 12 34 56",
         [("title", "Salgschef"), ("company", "Firma ApS"),
          ("phone", "+4533123456"), ("phone:mobile", "+4520123456")]),
        (Address.of("aino.virtanen@yritys.example", "Aino Virtanen"),
         "Aino Virtanen\nMyyntipäällikkö\nYritys Oy\npuh. +358 9 123 4567",
         [("title", "Myyntipäällikkö"), ("company", "Yritys Oy"), ("phone", "+35891234567")]),
    ],
    ids=["de-compound", "it", "sv-compound", "pt-br", "pl", "da-compound", "fi-compound"],
)  # fmt: skip
def test_titles_legal_forms_and_mobile_labels_of_european_signatures(
    sender: Address, block: str, expected: list[tuple[str, str]]
) -> None:
    # Titles Outlook users abroad sign with, German and Nordic compounds
    # ("Vertriebsleiter", "Försäljningschef") and their countries' legal forms.
    found = only(f"Hi Ann,\n\nthe offer is attached.\n\n{block}\n", sender, region=None)
    assert [f for f in fields(found) if f[0] != "name"] == expected
    assert ("name", sender.name) in fields(found)


@pytest.mark.parametrize(
    ("line", "rest"),
    [
        ("Cordiali saluti,", ""), ("Atenciosamente,", ""), ("Med vänlig hälsning", ""),
        ("Med venlig hilsen", ""), ("Med vennlig hilsen", ""), ("Z poważaniem", ""),
        ("Ystävällisin terveisin", ""), ("S pozdravem", ""),
        ("Pozdrawiam, Anna", "Anna"), ("MVH Erik", "Erik"),
        ("Saluti da Roma e a presto per il contratto", None),  # prose that opens alike
    ],
)  # fmt: skip
def test_closing_phrases_of_more_languages(line: str, rest: str | None) -> None:
    # A closing marks where the author's prose ends, for the block and for the
    # per-sender model's "mark" (matcher.body.sender_signature).
    assert closing_rest(line) == rest


SALLY = Address.of("sally.beck@enron.com", "Sally Beck")
PATTI = Address.of("patti.thompson@enron.com", "Patti Thompson")


@pytest.mark.parametrize(
    ("text", "author", "found"),
    [
        # The assistant signs for the author: nothing in the block is the author's.
        ("Thanks,\nPatti (Sally's assistant)", SALLY, []),
        ("Patti Thompson\nExecutive Assistant to Sally Beck\n713-853-5123", SALLY, []),
        ("Patti\nSecretary to Ms. Beck", SALLY, []),
        # From the assistant's own mailbox the same block is hers.
        (
            "Patti Thompson\nExecutive Assistant to Sally Beck\n713-853-5123",
            PATTI,
            [
                ("name", "Patti Thompson"),
                ("title", "Executive Assistant to Sally Beck"),
                ("phone", "+17138535123"),
            ],
        ),
        # An assistant's contact line in the author's block is left out, not taken.
        (
            "Sally Beck\nVP Operations\nAssistant: Patti Thompson 713-853-5123\nT 713-853-5926",
            SALLY,
            [("name", "Sally Beck"), ("title", "VP Operations"), ("phone", "+17138535926")],
        ),
        # An assistant is a title like any other.
        (
            "Sally Beck\nAdministrative Assistant\n713-853-5123",
            SALLY,
            [
                ("name", "Sally Beck"),
                ("title", "Administrative Assistant"),
                ("phone", "+17138535123"),
            ],
        ),
    ],
)
def test_an_assistants_block_is_not_the_authors(
    text: str, author: Address, found: list[tuple[str, str]]
) -> None:
    block = SignatureBlock(text, 0, len(text), 0.9)
    assert [(o.field, o.value) for o in signature_fields(block, author, "US")] == found


def test_a_desk_over_a_company_footer_is_no_persons_name() -> None:
    text = "DYNEGYdirect e- care\nCustomer Support\nDynegy, Inc.\nPh: (877) 396.3493"
    author = Address.of("vernesia.a.gipson@dynegy.com")
    block = SignatureBlock(text, 0, len(text), 0.9)
    found = {o.field: o.value for o in signature_fields(block, author, "US")}
    assert "name" not in found
    assert found["phone"] == "+18773963493"


@pytest.mark.parametrize(
    ("line", "phone"),
    [
        ("800.713.8600 code: 80435", False),
        ("Dial-in: 1-877-555-0100 Passcode 4411#", False),
        ("Meeting ID: 845 1234 5678", False),
        ("Conference code 7134410, leader PIN: 1234", False),
        ("Post code: EC2A 4NE  Tel: 020 7946 0958", True),
        ("Zip code: 77002, phone 713-853-3989", True),
        ("Cambridge, MA 02139  617-555-0142", True),
    ],
)
def test_a_conference_dial_in_is_no_phone(line: str, phone: bool) -> None:
    """A call's bridge number in a meeting mail reaches no person."""
    assert has_phone(line) is phone


def test_a_dial_in_alone_is_no_signature() -> None:
    text = "Let's talk tomorrow at 10 to go over the tariff.\n\n800.713.8600 code: 80435\n"
    assert observations_by_author(text, False, JANE, "US")[0].block is None


@pytest.mark.parametrize(
    ("text", "company"),
    [
        # A desk or product line over the legal entity: the entity is the employer.
        (
            "Vernesia Gipson\nDYNEGYdirect e- care\nCustomer Support\nDynegy, Inc.\n"
            "Ph: (877) 396.3493",
            "Dynegy, Inc.",
        ),
        # A company that has its legal form keeps it against a later one.
        ("Vernesia Gipson\nDynegy, Inc.\nDynegy Holdings Ltd\nPh: (877) 396.3493", "Dynegy, Inc."),
    ],
)
def test_the_legal_entity_is_the_company(text: str, company: str) -> None:
    author = Address.of("vernesia.gipson@dynegy.com", "Vernesia Gipson")
    block = SignatureBlock(text, 0, len(text), 0.9)
    found = [o.value for o in signature_fields(block, author, "US") if o.field == "company"]
    assert found == [company]
