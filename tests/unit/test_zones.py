"""Zones: each reply and forward style, each language, quotes, offsets, limits."""

from __future__ import annotations

import pytest

from connectors.records import Address
from matcher.body.zones import MAX_ZONES, Zone, split_zones
from tests.watchdog import terminates

SENDER = Address.of("ann.lee@example.org", "Ann Lee")
JOHN = Address.of("john.smith@acme.com", "John Smith")


def summary(zones: list[Zone]) -> list[tuple[str, str | None, str | None, str]]:
    return [(z.kind, z.author.email if z.author else None, z.author_name, z.text) for z in zones]


def test_plain_body_is_one_own_zone_with_exact_offsets() -> None:
    text = "\n\nHi Bob,\n\nworks for me.\n\n"
    [zone] = split_zones(text, SENDER)
    assert (zone.kind, zone.author, zone.author_name) == ("own", SENDER, "Ann Lee")
    assert zone.text == "Hi Bob,\n\nworks for me."
    assert text[zone.start : zone.end] == "Hi Bob,\n\nworks for me."
    assert zone.people == ()


def test_gmail_reply_with_quoted_lines() -> None:
    text = (
        "Sounds good.\n\n"
        "On Mon, Mar 2, 2026 at 10:15 AM John Smith <john.smith@acme.com> wrote:\n"
        "> Can we meet on Tuesday?\n"
        ">\n"
        "> John\n"
    )
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Sounds good."),
        ("reply", "john.smith@acme.com", "John Smith", "Can we meet on Tuesday?\n\nJohn"),
    ]
    assert zones[1].people == (("from", JOHN),)
    assert text[zones[1].start : zones[1].end] == "Can we meet on Tuesday?\n>\n> John"
    assert zones[1].input_offset(zones[1].text.index("John")) == text.rindex("John")


def test_wrote_line_wrapped_over_two_lines() -> None:
    text = (
        "Yes.\n\nOn Mon, Mar 2, 2026 at 10:15 AM John Smith <\njohn.smith@acme.com> wrote:\n"
        "> Lunch?\n"
    )
    assert summary(split_zones(text, SENDER))[1] == (
        "reply",
        "john.smith@acme.com",
        "John Smith",
        "Lunch?",
    )


def test_outlook_original_message_block() -> None:
    text = (
        "Please see below.\n\n"
        "-----Original Message-----\n"
        "From: Smith, John [mailto:john.smith@acme.com]\n"
        "Sent: Thursday, November 30, 2000 6:49 PM\n"
        "To: Lee, Ann; Bob Stone <bob@stone.net>\n"
        "Cc: carol@acme.com\n"
        "Subject: RE: contract\n\n"
        "The draft is attached.\n"
    )
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Please see below."),
        ("reply", "john.smith@acme.com", "John Smith", "The draft is attached."),
    ]
    assert [(role, a.email) for role, a in zones[1].people] == [
        ("from", "john.smith@acme.com"),
        ("to", "bob@stone.net"),
        ("cc", "carol@acme.com"),
    ]


def test_outlook_rule_and_field_block_with_forward_subject() -> None:
    text = (
        "FYI\n\n"
        "________________________________\n"
        "From: John Smith <john.smith@acme.com>\n"
        "Sent: Monday, March 2, 2026 10:15\n"
        "To: Ann Lee <ann.lee@example.org>\n"
        "Subject: FW: pricing\n\n"
        "Prices go up in April.\n"
    )
    assert summary(split_zones(text, SENDER))[1] == (
        "forward",
        "john.smith@acme.com",
        "John Smith",
        "Prices go up in April.",
    )


@pytest.mark.parametrize(
    "header",
    [
        # Gmail
        "---------- Forwarded message ---------\nFrom: John Smith <john.smith@acme.com>\n"
        "Date: Mon, Mar 2, 2026 at 10:15 AM\nSubject: pricing\nTo: <ann.lee@example.org>\n",
        # Thunderbird
        "-------- Forwarded Message --------\nSubject: pricing\nDate: Mon, 2 Mar 2026 10:15\n"
        "From: John Smith <john.smith@acme.com>\nTo: Ann Lee <ann.lee@example.org>\n",
        # Apple Mail
        "Begin forwarded message:\n\nFrom: John Smith <john.smith@acme.com>\nSubject: pricing\n"
        "Date: 2 March 2026 at 10:15:00 GMT\nTo: Ann Lee <ann.lee@example.org>\n",
        # German Outlook / Gmail
        "-------- Weitergeleitete Nachricht --------\nVon: John Smith <john.smith@acme.com>\n"
        "Datum: 2. März 2026\nBetreff: pricing\nAn: Ann Lee <ann.lee@example.org>\n",
        # French
        "---------- Message transféré ---------\nDe : John Smith <john.smith@acme.com>\n"
        "Date : lun. 2 mars 2026\nObjet : pricing\nÀ : Ann Lee <ann.lee@example.org>\n",
        # Spanish
        "---------- Mensaje reenviado ---------\nDe: John Smith <john.smith@acme.com>\n"
        "Fecha: lun, 2 mar 2026\nAsunto: pricing\nPara: Ann Lee <ann.lee@example.org>\n",
        # Dutch
        "---------- Doorgestuurd bericht ---------\nVan: John Smith <john.smith@acme.com>\n"
        "Datum: ma 2 mrt. 2026\nOnderwerp: pricing\nAan: Ann Lee <ann.lee@example.org>\n",
    ],
)
def test_forward_headers_in_five_languages(header: str) -> None:
    text = f"See below.\n\n{header}\nPrices go up in April.\n"
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "See below."),
        ("forward", "john.smith@acme.com", "John Smith", "Prices go up in April."),
    ]
    assert [(r, a.email) for r, a in zones[1].people] == [
        ("from", "john.smith@acme.com"),
        ("to", "ann.lee@example.org"),
    ]


@pytest.mark.parametrize(
    ("attribution", "name", "email"),
    [
        ("On Mar 2, 2026, at 10:15, John Smith <john.smith@acme.com> wrote:", "John Smith",
         "john.smith@acme.com"),  # Apple Mail and iOS
        ("Am 02.03.2026 um 10:15 schrieb Hans Müller <hans@firma.de>:", "Hans Müller",
         "hans@firma.de"),
        ("Le lun. 2 mars 2026 à 10:15, Marie Dupont <marie@societe.fr> a écrit :",
         "Marie Dupont", "marie@societe.fr"),
        ("El lun, 2 mar 2026 a las 10:15, Carlos García (<carlos@empresa.es>) escribió:",
         "Carlos García", "carlos@empresa.es"),
        ("Op ma 2 mrt. 2026 om 10:15 schreef Jan de Vries <jan@bedrijf.nl>:", "Jan de Vries",
         "jan@bedrijf.nl"),
        ("Op 2 mrt. 2026 om 10:15 heeft Jan de Vries <jan@bedrijf.nl> het volgende geschreven:",
         "Jan de Vries", "jan@bedrijf.nl"),
        ("Il giorno lun 2 mar 2026 alle ore 10:15 Giulia Rossi <giulia@azienda.it> ha scritto:",
         "Giulia Rossi", "giulia@azienda.it"),
        ("Em seg., 2 de mar. de 2026 às 10:15, João Silva <joao@empresa.pt> escreveu:",
         "João Silva", "joao@empresa.pt"),
        ("Den mån 2 mars 2026 kl 10:15 skrev Erik Berg <erik@foretag.se>:", "Erik Berg",
         "erik@foretag.se"),
        ("Den man. 2. mar. 2026 kl. 10.15 skrev Mette Hansen <mette@firma.dk>:", "Mette Hansen",
         "mette@firma.dk"),
        ("pon., 2 mar 2026 o 10:15 Anna Nowak <anna@firma.pl> napisał(a):", "Anna Nowak",
         "anna@firma.pl"),
    ],
)  # fmt: skip
def test_attribution_lines_in_ten_languages(attribution: str, name: str, email: str) -> None:
    text = f"Ok.\n\nSent from my iPhone\n\n{attribution}\n\n> Morgen?\n"
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Ok.\n\nSent from my iPhone"),
        ("reply", email, name, "Morgen?"),
    ]


@pytest.mark.parametrize(
    ("block", "name", "email"),
    [
        ("Von: Hans Müller <hans@firma.de>\nGesendet: Montag, 2. März 2026 10:15\n"
         "An: Ann Lee\nBetreff: AW: Angebot", "Hans Müller", "hans@firma.de"),
        ("De : Marie Dupont <marie@societe.fr>\nEnvoyé : lundi 2 mars 2026 10:15\n"
         "À : Ann Lee\nObjet : RE: offre", "Marie Dupont", "marie@societe.fr"),
        ("De: Carlos García <carlos@empresa.es>\nEnviado el: lunes, 2 de marzo de 2026 10:15\n"
         "Para: Ann Lee\nAsunto: RE: oferta", "Carlos García", "carlos@empresa.es"),
        ("Van: Jan de Vries <jan@bedrijf.nl>\nVerzonden: maandag 2 maart 2026 10:15\n"
         "Aan: Ann Lee\nOnderwerp: RE: offerte", "Jan de Vries", "jan@bedrijf.nl"),
        ("Da: Giulia Rossi <giulia@azienda.it>\nInviato: lunedì 2 marzo 2026 10:15\n"
         "A: Ann Lee\nOggetto: R: offerta", "Giulia Rossi", "giulia@azienda.it"),
        ("De: João Silva <joao@empresa.pt>\nEnviada: segunda-feira, 2 de março de 2026 10:15\n"
         "Para: Ann Lee\nAssunto: RE: proposta", "João Silva", "joao@empresa.pt"),
        ("Från: Erik Berg <erik@foretag.se>\nSkickat: den 2 mars 2026 10:15\n"
         "Till: Ann Lee\nÄmne: SV: offert", "Erik Berg", "erik@foretag.se"),
        ("Fra: Mette Hansen <mette@firma.dk>\nSendt: 2. marts 2026 10:15\n"
         "Til: Ann Lee\nEmne: SV: tilbud", "Mette Hansen", "mette@firma.dk"),
        ("Lähettäjä: Aino Virtanen <aino@yritys.fi>\nLähetetty: maanantai 2. maaliskuuta 2026 10.15\n"
         "Vastaanottaja: Ann Lee\nAihe: VS: tarjous", "Aino Virtanen", "aino@yritys.fi"),
        ("Od: Anna Nowak <anna@firma.pl>\nWysłano: poniedziałek, 2 marca 2026 10:15\n"
         "Do: Ann Lee\nDW: Piotr Zieliński <piotr@firma.pl>\nTemat: RE: oferta",
         "Anna Nowak", "anna@firma.pl"),
        ("Od: Petr Novák <petr@firma.cz>\nOdesláno: pondělí 2. března 2026 10:15\n"
         "Komu: Ann Lee\nPředmět: RE: nabídka", "Petr Novák", "petr@firma.cz"),
        ("-----Messaggio originale-----\nDa: Giulia Rossi [mailto:giulia@azienda.it]\n"
         "Inviato: lunedì 2 marzo 2026 10:15\nA: Ann Lee\nOggetto: R: offerta",
         "Giulia Rossi", "giulia@azienda.it"),
        ("De: Ana Souza <ana@empresa.com.br>\nEnviada em: segunda-feira, 2 de março de 2026 10:15\n"
         "Para: Ann Lee\nAssunto: RE: proposta", "Ana Souza", "ana@empresa.com.br"),
        ("Kimden: Ayşe Yılmaz <ayse@firma.com.tr>\nGönderildi: 2 Mart 2026 Pazartesi 10:15\n"
         "Kime: Ann Lee\nKonu: RE: teklif", "Ayşe Yılmaz", "ayse@firma.com.tr"),
        ("От: Иван Петров <ivan@kompania.ru>\nОтправлено: 2 марта 2026 г. 10:15\n"
         "Кому: Ann Lee\nТема: RE: предложение", "Иван Петров", "ivan@kompania.ru"),
        ("Feladó: Kovács Péter <peter@ceg.hu>\nElküldve: 2026. március 2. 10:15\n"
         "Címzett: Ann Lee\nTárgy: RE: ajánlat", "Kovács Péter", "peter@ceg.hu"),
        ("差出人: 山田 太郎 <taro@kaisha.co.jp>\n送信日時: 2026年3月2日 10:15\n"
         "宛先: Ann Lee\n件名: RE: 見積もり", "山田 太郎", "taro@kaisha.co.jp"),
        ("发件人： 王小明 <wang@gongsi.cn>\n发送时间： 2026年3月2日 10:15\n"
         "收件人： Ann Lee\n主题： 回复: 报价", "王小明", "wang@gongsi.cn"),
    ],
)  # fmt: skip
def test_outlook_field_blocks_in_other_languages(block: str, name: str, email: str) -> None:
    zones = split_zones(f"Danke.\n\n{block}\n\nText.\n", SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Danke."),
        ("reply", email, name, "Text."),
    ]


def test_lotus_notes_forwarded_by_with_author_on_date_line() -> None:
    text = (
        "Thoughts?\n"
        "---------------------- Forwarded by Ann Lee/HOU/EXA on 03/06/2001 09:11 AM \n"
        "---------------------------\n\n\n"
        '"John Smith" <john.smith@acme.com> on 03/05/2001 04:13:20 PM\n'
        "To: Ann Lee/HOU/EXA@EXA\n"
        "cc: Bob Stone <bob@stone.net>\n"
        "Subject: pricing\n\n\n"
        "Prices go up in April.\n"
    )
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Thoughts?"),
        ("forward", "john.smith@acme.com", "John Smith", "Prices go up in April."),
    ]
    assert [(r, a.email) for r, a in zones[1].people] == [
        ("from", "john.smith@acme.com"),
        ("cc", "bob@stone.net"),
    ]


def test_lotus_notes_name_over_date_without_address() -> None:
    text = (
        "See below.\n\n"
        "Bob Bowen\n"
        "07/13/2000 03:11 PM\n"
        "To: Ann Lee/HOU/EXA@EXA\n"
        "cc: Kim Theriot/HOU/EXA@EXA\n"
        "Subject: Update\n\n"
        "The system is live.\n"
    )
    assert summary(split_zones(text, SENDER)) == [
        ("own", "ann.lee@example.org", "Ann Lee", "See below."),
        ("reply", None, "Bob Bowen", "The system is live."),
    ]


def test_lotus_from_line_with_org_path_and_date() -> None:
    text = (
        "Good memo.\n\n"
        "\tFrom:  Shona Wilson @ EXA                           12/07/2000 10:45 AM\n\t\n\n"
        "To: Bob Hall/NA/Exa@Exa, Leslie Reeves/HOU/EXA@EXA\n"
        "cc: Sally Beck/HOU/EXA@EXA \n"
        "Subject: timing\n\n"
        "Deadlines are below.\n"
    )
    assert summary(split_zones(text, SENDER))[1] == (
        "reply",
        None,
        "Shona Wilson",
        "Deadlines are below.",
    )


def test_nested_quotes_and_a_rewrapped_quoted_line() -> None:
    text = (
        "Agreed.\n\n"
        "On Tue, Mar 3, 2026 at 9:00 AM John Smith <john.smith@acme.com> wrote:\n"
        "> I think we should wait until the numbers from the April\n"
        "forecast\n"
        "> are in.\n"
        ">\n"
        "> On Mon, Mar 2, 2026 at 8:00 AM Ann Lee <ann.lee@example.org> wrote:\n"
        ">> Shall we sign?\n"
    )
    assert summary(split_zones(text, SENDER)) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Agreed."),
        (
            "reply",
            "john.smith@acme.com",
            "John Smith",
            "I think we should wait until the numbers from the April\nforecast\nare in.",
        ),
        ("reply", "ann.lee@example.org", "Ann Lee", "Shall we sign?"),
    ]


def test_bottom_post_after_quote_returns_to_the_sender() -> None:
    text = "> Can you send the file?\n> second line\n\nHere it is.\n\n-- \nAnn Lee\n"
    assert summary(split_zones(text, SENDER)) == [
        ("reply", None, None, "Can you send the file?\nsecond line"),
        ("own", "ann.lee@example.org", "Ann Lee", "Here it is.\n\n-- \nAnn Lee"),
    ]


def test_prose_mentioning_from_and_to_is_not_a_header() -> None:
    text = "Trip plan\nFrom: Houston\nflights are cheap this week.\n"
    assert summary(split_zones(text, None)) == [
        ("own", None, None, "Trip plan\nFrom: Houston\nflights are cheap this week.")
    ]


def test_zone_count_is_capped() -> None:
    block = (
        "-----Original Message-----\nFrom: a{0}@acme.com\nTo: b@acme.com\nSubject: x\n\nline {0}\n"
    )
    text = "top\n" + "".join(block.format(i) for i in range(MAX_ZONES * 3))
    zones = split_zones(text, SENDER)
    assert len(zones) == MAX_ZONES
    assert zones[-1].author is not None and zones[-1].author.email == f"a{MAX_ZONES - 2}@acme.com"


@pytest.mark.parametrize(
    "hostile",
    [
        "a" * 65536,
        ">" * 65536,
        "On " + "x, " * 20000 + " wrote:",
        ("From: " + "<" * 30000 + "@" * 30000),
        "To: x,\n" * 8000,
        "----- Forwarded by " + "-" * 65000,
        "12/12/2000 10:00 AM\n" * 3000 + "To: a\nSubject: b\n",
    ],
)
def test_hostile_input_is_linear(hostile: str) -> None:
    with terminates():
        zones = split_zones(hostile, SENDER)
    assert len(zones) <= MAX_ZONES
    assert all(0 <= z.start <= z.end <= len(hostile) for z in zones)


def test_lotus_notes_header_on_one_line() -> None:
    text = (
        "Please review.\n\n"
        "\tBrent Hendry@ACME 05/30/2001 05:02 PM \t   To: Ann Lee/HOU/EXA@EXA  cc:   "
        "Subject: RE: Confidentiality Agreement\t\n\n"
        "Draft attached.\n"
    )
    assert summary(split_zones(text, SENDER)) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Please review."),
        ("reply", None, "Brent Hendry", "Draft attached."),
    ]


def test_cc_mail_reply_separator_with_author_field() -> None:
    text = (
        "Count me in.\n\n"
        "____________________Reply Separator____________________\n"
        "Subject:    Meeting for Group Project\n"
        'Author: "Vavrek; Carolyn (US - San Francisco)" <SMTP:cvavrek@deloitte.com>\n'
        "Date:       03/23/2001 2:40 PM\n\n"
        "When would everyone like to meet?\n"
    )
    assert summary(split_zones(text, SENDER))[1] == (
        "reply",
        "cvavrek@deloitte.com",
        "Carolyn Vavrek",
        "When would everyone like to meet?",
    )


def test_crlf_input_and_android_attribution_keep_exact_offsets() -> None:
    text = (
        "Thanks!\r\n\r\n"
        "On Mon, 2 Mar 2026, 10:15 John Smith, <john.smith@acme.com> wrote:\r\n"
        "> Shipped.\r\n"
    )
    zones = split_zones(text, SENDER)
    assert summary(zones) == [
        ("own", "ann.lee@example.org", "Ann Lee", "Thanks!"),
        ("reply", "john.smith@acme.com", "John Smith", "Shipped."),
    ]
    assert text[zones[1].start : zones[1].end] == "Shipped."
    assert text[zones[0].start : zones[0].end] == "Thanks!"
