"""CRM exports as Google Contacts, Outlook and CRMs write them: cards, and bad rows by line."""

from __future__ import annotations

from connectors.contact_files import Card, CardError, read_csv, read_vcards

GOOGLE = (
    "Name,Given Name,Family Name,E-mail 1 - Type,E-mail 1 - Value,E-mail 2 - Type,"
    "E-mail 2 - Value,Organization 1 - Name,Organization 1 - Title\n"
    "Renée Dubois,Renée,Dubois,* Work,Renee.Dubois@Globex.example,Home,"
    "r.dubois@gmail.com,Globex,VP Sales\n"
    'Tom Ng,Tom,Ng,* Work,"tom@initech.example ::: tng@initech.example",,,Initech,\n'
)

OUTLOOK = (
    "Title,First Name,Middle Name,Last Name,Company,Job Title,E-mail Address,E-mail 2 Address\n"
    "Dr.,Ann,,Lee,Acme,CFO,ann.lee@acme.com,\n"
    ',Bob,,"Smith\nJr.",Acme,,,\n'  # a quoted cell over two lines; no address
    ",Cy,,Park,Acme,Engineer,cy@@acme,\n"
    "\n"
    ",Dee,,Ray,Acme,,dee@acme.com,dee.ray@gmail.com\n"
)


def test_google_contacts_csv() -> None:
    cards = list(
        read_csv(GOOGLE, {"company": "Organization 1 - Name", "title": "Organization 1 - Title"})
    )
    assert cards == [
        Card(
            2,
            ("renee.dubois@globex.example", "r.dubois@gmail.com"),
            (
                ("name", "Renée Dubois"),
                ("given_name", "Renée"),
                ("family_name", "Dubois"),
                ("title", "VP Sales"),
                ("company", "Globex"),
            ),
        ),
        Card(
            3,
            ("tom@initech.example", "tng@initech.example"),
            (
                ("name", "Tom Ng"),
                ("given_name", "Tom"),
                ("family_name", "Ng"),
                ("company", "Initech"),
            ),
        ),
    ]


def test_outlook_csv_bad_rows_are_reported_at_their_lines() -> None:
    cards = list(read_csv(OUTLOOK))
    assert cards == [
        Card(
            2,
            ("ann.lee@acme.com",),
            (("given_name", "Ann"), ("family_name", "Lee"), ("title", "CFO"), ("company", "Acme")),
        ),
        CardError(3, "no-email", "no email address"),
        CardError(5, "bad-email", "not an email address: 'cy@@acme'"),
        Card(
            7,
            ("dee@acme.com", "dee.ray@gmail.com"),
            (("given_name", "Dee"), ("family_name", "Ray"), ("company", "Acme")),
        ),
    ]


def test_csv_without_an_email_column() -> None:
    assert list(read_csv("Name,Phone\nAnn,123\n")) == [
        CardError(1, "no-email-column", "no column holds email addresses")
    ]
    assert list(read_csv("Name,Work address\nAnn,a@x.com\n", {"email": "work address"})) == [
        Card(2, ("a@x.com",), (("name", "Ann"),))
    ]


VCARDS = """BEGIN:VCARD\r
VERSION:3.0\r
FN:Renée Dubois\r
N:Dubois;Renée;;;\r
ORG:Globex;Sales EMEA\r
TITLE:VP Sales\r
EMAIL;TYPE=INTERNET,WORK:renee.dubois@globex.example\r
EMAIL;TYPE=INTERNET,HOME:r.dubois@gmail.com\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Broken\r
EMAIL:x@y.example\r
this line is no property\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:Tom Ng\r
N:Ng;Tom;;;\r
EMAIL;TYPE=work;PREF=1:tom@initech.example\r
ORG:Initech\r
END:VCARD\r
BEGIN:VCARD\r
VERSION:4.0\r
FN:No Mail\r
END:VCARD\r
"""


def test_vcards_three_and_four_one_broken_card_costs_only_itself() -> None:
    assert list(read_vcards(VCARDS)) == [
        Card(
            1,
            ("renee.dubois@globex.example", "r.dubois@gmail.com"),
            (
                ("name", "Renée Dubois"),
                ("title", "VP Sales"),
                ("company", "Globex"),
                ("given_name", "Renée"),
                ("family_name", "Dubois"),
            ),
        ),
        CardError(10, "bad-vcard", "ParseError"),
        Card(
            16,
            ("tom@initech.example",),
            (
                ("name", "Tom Ng"),
                ("company", "Initech"),
                ("given_name", "Tom"),
                ("family_name", "Ng"),
            ),
        ),
        CardError(23, "no-email", "no email address"),
    ]
    assert list(read_vcards("nothing here")) == [
        CardError(1, "no-vcard", "no BEGIN:VCARD in the file")
    ]
