"""Signatures as modern clients and mailing-list regulars write them."""

from __future__ import annotations

from connectors.records import Address
from matcher.body.signature_lines import has_phone, is_form_line, is_legal_particular
from matcher.body.signatures import observations_by_author

JOEL = Address.of("joelsolr@gmail.com", "Joel Bernstein")


def fields_of(text: str, author: Address | None, region: str | None) -> list[tuple[str, str]]:
    """(field, value) of a one-zone message's signature, in reading order."""
    [found] = observations_by_author(text, False, author, region)
    return [(o.field, o.value) for o in found.observations]


def test_a_web_address_with_its_scheme_is_no_form_line() -> None:
    """ "https://..." has a colon after a word, like "Request ID: 42", but is contact data."""
    assert not is_form_line("http://joelsolr.blogspot.com/")
    assert not is_form_line("https://www.linkedin.com/in/jbernstein")
    assert is_form_line("Request ID: 4711")


def test_name_over_blog_address_is_a_signature() -> None:
    text = (
        "If you decide to work on a patch for fetch I'll review the patch.\n\n"
        "Joel Bernstein\nhttp://joelsolr.blogspot.com/\n"
    )
    [found] = observations_by_author(text, False, JOEL, "US")
    assert found.block is not None
    assert found.block.text == "Joel Bernstein\nhttp://joelsolr.blogspot.com/"
    assert [(o.field, o.value) for o in found.observations] == [
        ("name", "Joel Bernstein"),
        ("website", "http://joelsolr.blogspot.com/"),
    ]


def test_digits_in_a_link_are_no_phone() -> None:
    assert not has_phone("http://itcapps.example.com/srrs/emailLink.asp?ID=000000000034916&Page=")
    assert has_phone("www.acme-energy.com | +1 713 555 0142")


def test_a_wrapped_link_at_the_end_of_a_notification_is_no_signature() -> None:
    robot = Address.of("arsystem@mailman.example.com", "ARSystem")
    text = (
        "The request has been completed with all resources requested either completed\n"
        "or rejected. You can view the details of the request by clicking\n"
        "http://itcapps.example.com/srrs/auth/emailLink.asp?ID=000000000034916&Page=\n"
        "MyReq.\n"
    )
    [found] = observations_by_author(text, False, robot, "US")
    assert found.block is None and found.observations == ()


def test_uk_signature_with_single_letter_labels_and_company_registration() -> None:
    """UK business mail must name the company's registered number and office:
    those lines belong to the signature, and the number is no phone."""
    tom = Address.of("tc@extravision.example", "Tom Chiverton")
    text = (
        "> Example query and results (content omitted) :\n"
        "> managed-schema http://pastebin.com/mdraWQWE\n\n"
        "Here is what we see.\n\n"
        "--\n"
        "*Tom Chiverton*\n"
        "Lead Developer\n"
        "e:  tc@extravision.example\n"
        "p:  0161 817 2922\n"
        "w:  www.extravision.example\n"
        "Registered in the UK at: 107 Timber Wharf, 33 Worsley Street, Manchester,\n"
        "M15 4LD.\n"
        "Company Reg No: 05017214 VAT: GB 824 5386 19\n"
    )
    found = observations_by_author(text, False, tom, "GB")[-1]
    assert found.block is not None and found.block.text.startswith("*Tom Chiverton*\n")
    assert found.block.text.endswith("VAT: GB 824 5386 19")
    values = [(o.field, o.value) for o in found.observations]
    assert ("title", "Lead Developer") in values
    assert ("email", "tc@extravision.example") in values
    assert [v for f, v in values if f.startswith("phone")] == ["+441618172922"]


def test_signature_above_a_mailing_list_archive_footer() -> None:
    """Nabble appends its own "--" footer below the poster's signature."""
    alessandro = Address.of("a.benedetti@sease.example", "Alessandro Benedetti")
    text = (
        "Both limits apply: Lucene flushes on whichever is hit first.\n\n"
        "-----\n---------------\n"
        "Alessandro Benedetti\n"
        "Search Consultant, R&D Software Engineer, Director\n"
        "Sease Ltd. - www.sease.example\n"
        "--\n"
        "View this message in context: http://lucene.472066.n3.nabble.com/High-disk-write-usage-"
        "tp4344356p4344386.html\n"
        "Sent from the Solr - User mailing list archive at Nabble.com.\n"
    )
    [found] = observations_by_author(text, False, alessandro, "US")
    assert found.block is not None
    # The rules above the name come with it, as for any boxed signature.
    assert found.block.text.endswith(
        "Alessandro Benedetti\nSearch Consultant, R&D Software Engineer, Director\n"
        "Sease Ltd. - www.sease.example"
    )
    assert ("website", "https://www.sease.example") in [
        (o.field, o.value) for o in found.observations
    ]


def test_a_list_of_references_is_no_signature() -> None:
    """Links to pages (a ticket, a wiki page, a video) point to no person."""
    furkan = Address.of("furkankamaci@gmail.example", "Furkan KAMACI")
    text = (
        "You can use schemaless mode [1] and watch the talk [2], see also the ticket.\n\n"
        "[1] https://cwiki.apache.org/confluence/display/solr/Schemaless+Mode\n"
        "[2] https://www.youtube.com/watch?v=pNe1wWeaHOU&list=PLYI8318YYdkCsZ7dsYV01n6TZhXA6Wf9i\n"
        "https://issues.apache.org/jira/browse/SOLR-10524\n"
    )
    [found] = observations_by_author(text, False, furkan, "US")
    assert found.block is None and found.observations == ()


def test_a_german_companys_legal_particulars_are_not_the_authors() -> None:
    """German business mail must name the managing directors, the register
    court and number (HGB section 37a): another person's title, no address."""
    katrin = Address.of("k.mueller@hansa-technik.example", "Müller, Katrin")
    text = (
        "Hallo Herr One,\n\nvielen Dank, wir melden uns nächste Woche.\n\n"
        "Mit freundlichen Grüßen\n\n"
        "Katrin Müller\n"
        "Leiterin Einkauf\n\n"
        "Hansa Technik GmbH\n"
        "Hafenstraße 12\n"
        "20457 Hamburg\n"
        "Tel.: +49 40 123456-78\n"
        "E-Mail: k.mueller@hansa-technik.example\n\n"
        "Geschäftsführer: Dr. Peter Hansen, Jens Ole Brandt\n"
        "Sitz der Gesellschaft: Hamburg | Registergericht: Amtsgericht Hamburg, HRB 12345\n"
        "USt-IdNr.: DE123456789\n"
    )
    [found] = observations_by_author(text, False, katrin, None)
    assert found.block is not None and found.block.text.endswith("USt-IdNr.: DE123456789")
    assert [(o.field, o.value) for o in found.observations] == [
        ("name", "Katrin Müller"),
        ("title", "Leiterin Einkauf"),
        ("company", "Hansa Technik GmbH"),
        ("address", "Hafenstraße 12, 20457 Hamburg"),
        ("phone", "+494012345678"),
        ("email", "k.mueller@hansa-technik.example"),
    ]


def test_french_and_dutch_registrations_are_legal_particulars() -> None:
    for line in (
        "SAS au capital de 10 000 € - RCS Paris B 123 456 789",
        "SIRET 123 456 789 00012",
        "KvK 12345678 | BTW-nummer NL123456789B01",
        "Vorstand: Anna Berg (Vorsitzende), Tim Koch",
        "FN 123456a, Firmenbuchgericht Wien",
    ):
        assert is_legal_particular(line), line
    for line in ("RCS Product Manager", "BTW, I am out on Friday", "Director of Sales"):
        assert not is_legal_particular(line), line


def test_pronouns_an_inline_image_and_a_hyphenated_domain() -> None:
    """Outlook's plain text of a modern block: pronouns after the name, the
    logo as "[cid:...]", the employer named like the hyphenated domain."""
    priya = Address.of("priya.raman@northwind-health.example", "Priya Raman")
    text = (
        "Works for me - see you Thursday.\n\n"
        "Priya Raman (she/her)\n"
        "Director, IT Security | Northwind Health\n"
        "O: 617.555.0143 | M: 617.555.0199\n"
        "priya.raman@northwind-health.example\n"
        "[cid:image001.png@01DA1234.56789ABC]\n"
    )
    assert fields_of(text, priya, "US") == [
        ("name", "Priya Raman"),
        ("title", "Director, IT Security"),
        ("company", "Northwind Health"),
        ("phone:office", "+16175550143"),
        ("phone:mobile", "+16175550199"),
        ("email", "priya.raman@northwind-health.example"),
    ]


def test_a_french_portable_is_a_mobile() -> None:
    jean = Address.of("jean.dupont@sgl-logistique.example", "Jean Dupont")
    text = (
        "Merci pour votre retour.\n\nCordialement,\n\n"
        "Jean Dupont\nDirecteur Commercial\nSGL Logistique SAS\n"
        "Tél : 01 23 45 67 89\nPort : 06 12 34 56 78\n"
    )
    phones = [(f, v) for f, v in fields_of(text, jean, "FR") if f.startswith("phone")]
    assert phones == [("phone", "+33123456789"), ("phone:mobile", "+33612345678")]


def test_gmail_image_placeholders_booking_links_and_an_italian_vat_number() -> None:
    marco = Address.of("marco@vela-studio.example", "Marco Bianchi")
    text = (
        "Perfect, talk soon!\n\n--\n"
        "Founder & Creative Director\n"
        "[image: Vela Studio]\n"
        "Vela Studio S.r.l. | Via Roma 10, 20121 Milano\n"
        "Cell. +39 333 123 4567\n"
        "Book a call: https://calendly.com/marco-vela\n"
        "LinkedIn <https://www.linkedin.com/in/marcobianchi> | "
        "Instagram <https://instagram.com/velastudio>\n"
        "P.IVA 01234567890\n"
    )
    assert fields_of(text, marco, None) == [
        ("title", "Founder & Creative Director"),
        ("company", "Vela Studio S.r.l."),
        ("address", "Via Roma 10, 20121 Milano"),
        ("phone:mobile", "+393331234567"),
        ("linkedin", "https://www.linkedin.com/in/marcobianchi"),
    ]


def test_titles_reps_meet_in_modern_signatures() -> None:
    """Functions joined by "&" are no firm, sales abbreviations are titles."""
    sam = Address.of("sam.lee@brightpath-ai.example", "Sam Lee")
    cases = {
        "Head of Growth & Partnerships": "Head of Growth & Partnerships",
        "VP of Sales & Marketing": "VP of Sales & Marketing",
        "SDR": "SDR",
        "Senior Buyer": "Senior Buyer",
        "Talent Acquisition": "Talent Acquisition",
        "Inkoper": "Inkoper",
    }
    for line, title in cases.items():
        text = f"Thanks.\n\nSam Lee\n{line}\nBrightPath AI\n+1 415 555 0101\n"
        fields = set(fields_of(text, sam, "US"))
        assert {("title", title), ("company", "BrightPath AI")} <= fields, line
    text = "Thanks.\n\nSam Lee\nPartner, Ernst & Young\n+1 415 555 0101\n"
    assert {("title", "Partner"), ("company", "Ernst & Young")} <= set(fields_of(text, sam, "US"))


def test_an_address_line_opened_by_the_firm_gives_the_address_alone() -> None:
    oliver = Address.of("oliver.grant@brightline.example", "Oliver Grant")
    text = (
        "Thanks, that works for us.\n\nKind regards,\n\nOliver Grant\nHead of Procurement\n"
        "T: +44 (0)20 7946 0958\n"
        "Brightline Logistics Ltd, 12 Harbour Street, London EC2A 4NE\n"
    )
    assert fields_of(text, oliver, "GB") == [
        ("name", "Oliver Grant"),
        ("title", "Head of Procurement"),
        ("phone", "+442079460958"),
        ("company", "Brightline Logistics Ltd"),
        ("address", "12 Harbour Street, London EC2A 4NE"),
    ]


def test_a_firm_named_like_a_register_is_no_registration() -> None:
    assert not is_legal_particular("Siren Technologies Ltd")
    assert is_legal_particular("SIREN : 512 345 678")


def test_spanish_and_australian_addresses_and_an_abn() -> None:
    lucia = Address.of("lucia@logistica-iberia.example", "Lucía Fernández")
    text = (
        "OK.\n\nUn saludo,\n\nLucía Fernández\nDirectora de Compras\nLogística Iberia S.L.\n"
        "C/ Mayor 12, 28013 Madrid\nTel.: +34 91 123 45 67\nCIF: B12345678\n"
    )
    assert ("address", "C/ Mayor 12, 28013 Madrid") in fields_of(text, lucia, None)
    liam = Address.of("liam.walsh@harbourline.example", "Liam Walsh")
    text = (
        "Cheers,\n\nLiam Walsh\nNational Sales Manager\nHarbourline Pty Ltd\n"
        "Ph: (02) 9876 5432 | Mob: 0412 345 678\n"
        "Level 5, 100 George Street, Sydney NSW 2000\nABN 12 345 678 901\n"
    )
    assert fields_of(text, liam, "AU")[-3:] == [
        ("phone", "+61298765432"),
        ("phone:mobile", "+61412345678"),
        ("address", "Level 5, 100 George Street, Sydney NSW 2000"),
    ]
    assert is_legal_particular("ABN 12 345 678 901")
