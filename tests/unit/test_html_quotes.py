"""HTML replies: quoted mail is found from the markup, not from rendered text.

The markup below is shaped as each client writes it (Gmail's gmail_quote and
gmail_signature, Outlook desktop's Word HTML with a border-top header block,
Outlook on the web's divRplyFwdMsg, Apple Mail's blockquote type=cite).
"""

from __future__ import annotations

import pytest

from matcher.body.html import html_to_text
from matcher.body.signatures import AuthorSignature, observations_by_author
from tests.builders import SAM, address

JANE = address("jane.roe@acme-widgets.com", "Jane Roe")


def fields(found: AuthorSignature) -> list[tuple[str, str]]:
    return [(o.field, o.value) for o in found.observations]


SAM_FIELDS = [
    ("name", "Sam Carter"),
    ("title", "Head of Procurement"),
    ("company", "Northwind Traders Ltd."),
    ("phone", "+14155550134"),
]
JANE_FIELDS = [
    ("name", "Jane Roe"),
    ("title", "Account Director"),
    ("company", "Acme Widgets Inc."),
    ("phone:mobile", "+12125550199"),
]


def assert_sam_then_jane(found: list[AuthorSignature], html: str) -> None:
    """Sam's own text and signature are Sam's; the quoted request and signature are Jane's."""
    own, quoted = found[0], found[1]
    assert (own.kind, own.author) == ("own", SAM)
    assert fields(own) == SAM_FIELDS
    assert quoted.author is not None and quoted.author.email == JANE.email
    assert quoted.kind == "reply"
    assert fields(quoted) == JANE_FIELDS
    assert all(f.author == JANE or f.author is None for f in found[1:])


GMAIL_TOP = (
    '<div dir="ltr">Hi Jane,<div><br></div><div>Thursday works for us. I will send the'
    " revised quote tomorrow.</div><div><br></div><div>Best,</div><div>"
    '<div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">'
    '<div dir="ltr"><div>Sam Carter</div><div>Head of Procurement</div>'
    "<div>Northwind Traders Ltd.</div><div>Tel: +1 415 555 0134</div></div></div></div></div>"
    '<br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
    "On Mon, Mar 4, 2024 at 10:12\u202fAM Jane Roe &lt;"
    '<a href="mailto:jane.roe@acme-widgets.com">jane.roe@acme-widgets.com</a>&gt; wrote:<br>'
    '</div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
    'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">Hi Sam,'
    "<div><br></div><div>Could we move the supplier review to Thursday afternoon?</div>"
    "<div><br></div><div>Jane Roe</div><div>Account Director</div>"
    "<div>Acme Widgets Inc.</div><div>Mobile: +1 212 555 0199</div></div></blockquote></div>"
)


def test_gmail_reply_quote_and_signature_go_to_their_authors() -> None:
    found = observations_by_author(GMAIL_TOP, True, SAM, "US")
    assert_sam_then_jane(found, GMAIL_TOP)
    assert len(found) == 2


def test_gmail_inline_reply_below_the_quote_is_the_senders() -> None:
    """Sam answers under Jane's quoted question: the text after the blockquote
    is Sam's again, and so is the signature at the bottom."""
    html = (
        '<div dir="ltr"><div class="gmail_quote gmail_quote_container">'
        '<div dir="ltr" class="gmail_attr">On Mon, Mar 4, 2024 at 10:12\u202fAM Jane Roe &lt;'
        '<a href="mailto:jane.roe@acme-widgets.com">jane.roe@acme-widgets.com</a>&gt; wrote:'
        '<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;'
        'border-left:1px solid rgb(204,204,204);padding-left:1ex"><div dir="ltr">'
        "Could we move the supplier review to Thursday afternoon?<div><br></div>"
        "<div>Jane Roe</div><div>Account Director</div><div>Acme Widgets Inc.</div>"
        "<div>Mobile: +1 212 555 0199</div></div></blockquote></div>"
        "<div><br></div><div>Thursday works for us.</div><div><br></div>"
        '<div><div dir="ltr" class="gmail_signature" data-smartmail="gmail_signature">'
        "<div>Sam Carter</div><div>Head of Procurement</div>"
        "<div>Northwind Traders Ltd.</div><div>Tel: +1 415 555 0134</div></div></div></div>"
    )
    found = observations_by_author(html, True, SAM, "US")
    by_kind = {(f.kind, f.author.email if f.author else None): fields(f) for f in found}
    assert by_kind[("reply", JANE.email)] == JANE_FIELDS
    assert by_kind[("own", SAM.email)] == SAM_FIELDS
    assert [f.kind for f in found if f.observations] == ["reply", "own"]


OUTLOOK_DESKTOP = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>'
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    "<style><!-- p.MsoNormal {margin:0cm; font-size:11.0pt;} --></style></head>"
    '<body lang="EN-US" link="#0563C1" vlink="#954F72"><div class="WordSection1">'
    '<p class="MsoNormal">Hi Jane,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<p class="MsoNormal">Thursday works for us. I will send the revised quote tomorrow.'
    '<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<p class="MsoNormal">Best regards,<o:p></o:p></p>'
    '<p class="MsoNormal">Sam Carter<o:p></o:p></p>'
    '<p class="MsoNormal">Head of Procurement<o:p></o:p></p>'
    '<p class="MsoNormal">Northwind Traders Ltd.<o:p></o:p></p>'
    '<p class="MsoNormal">Tel: +1 415 555 0134<o:p></o:p></p>'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<div><div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0cm 0cm 0cm">'
    '<p class="MsoNormal"><b><span lang="EN-US">From:</span></b><span lang="EN-US"> Jane Roe'
    " &lt;jane.roe@acme-widgets.com&gt; <br><b>Sent:</b> Monday, March 4, 2024 10:12 AM<br>"
    "<b>To:</b> Sam Carter &lt;sam.carter@northwind.example&gt;<br>"
    "<b>Subject:</b> Supplier review<o:p></o:p></span></p></div></div>"
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<p class="MsoNormal">Hi Sam,<o:p></o:p></p><p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<p class="MsoNormal">Could we move the supplier review to Thursday afternoon?<o:p></o:p></p>'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<p class="MsoNormal">Jane Roe<o:p></o:p></p>'
    '<p class="MsoNormal">Account Director<o:p></o:p></p>'
    '<p class="MsoNormal">Acme Widgets Inc.<o:p></o:p></p>'
    '<p class="MsoNormal">Mobile: +1 212 555 0199<o:p></o:p></p>'
    "</div></body></html>"
)


def test_outlook_desktop_reply_quote_and_signature_go_to_their_authors() -> None:
    found = observations_by_author(OUTLOOK_DESKTOP, True, SAM, "US")
    assert_sam_then_jane(found, OUTLOOK_DESKTOP)
    assert len(found) == 2


OUTLOOK_WEB = (
    '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>'
    '</head><body dir="ltr"><div class="elementToProof" style="font-family: Aptos, Aptos_'
    'EmbeddedFont, Calibri, Helvetica, sans-serif; font-size: 12pt; color: rgb(0, 0, 0);">'
    "Thursday works for us. I will send the revised quote tomorrow.</div>"
    '<div class="elementToProof"><br></div>'
    '<div id="Signature"><div>Sam Carter<br>Head of Procurement<br>Northwind Traders Ltd.<br>'
    "Tel: +1 415 555 0134</div></div>"
    '<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">'
    '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt"'
    ' color="#000000"><b>From:</b> Jane Roe &lt;jane.roe@acme-widgets.com&gt;<br>'
    "<b>Sent:</b> Monday, March 4, 2024 10:12 AM<br>"
    "<b>To:</b> Sam Carter &lt;sam.carter@northwind.example&gt;<br>"
    "<b>Subject:</b> Supplier review</font><div>&nbsp;</div></div>"
    '<div dir="ltr">Could we move the supplier review to Thursday afternoon?<br><br>'
    "Jane Roe<br>Account Director<br>Acme Widgets Inc.<br>Mobile: +1 212 555 0199</div>"
    "</body></html>"
)


def test_outlook_web_reply_quote_and_signature_go_to_their_authors() -> None:
    found = observations_by_author(OUTLOOK_WEB, True, SAM, "US")
    assert_sam_then_jane(found, OUTLOOK_WEB)
    assert len(found) == 2


APPLE_MAIL = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>'
    '<body style="overflow-wrap: break-word; -webkit-nbsp-mode: space; line-break: '
    'after-white-space;">Thursday works for us. I will send the revised quote tomorrow.'
    "<div><br></div><div><div>Sam Carter</div><div>Head of Procurement</div>"
    "<div>Northwind Traders Ltd.</div><div>Tel: +1 415 555 0134</div></div>"
    '<div><br><blockquote type="cite"><div>On 4 Mar 2024, at 10:12, Jane Roe '
    "&lt;jane.roe@acme-widgets.com&gt; wrote:</div><br "
    'class="Apple-interchange-newline"><div><div>Could we move the supplier review to '
    "Thursday afternoon?</div><div><br></div><div>Jane Roe</div><div>Account Director</div>"
    "<div>Acme Widgets Inc.</div><div>Mobile: +1 212 555 0199</div></div></blockquote></div>"
    "<br></body></html>"
)


def test_apple_mail_reply_quote_and_signature_go_to_their_authors() -> None:
    found = observations_by_author(APPLE_MAIL, True, SAM, "US")
    assert_sam_then_jane(found, APPLE_MAIL)
    assert len(found) == 2


ANONYMOUS_QUOTES = [
    (
        "<div>Thursday works for us.</div><div><br></div>"
        "<div>Sam Carter<br>Head of Procurement<br>Northwind Traders Ltd.<br>"
        "Tel: +1 415 555 0134</div>"
        '<blockquote type="cite"><div>Could we move the supplier review to Thursday?</div>'
        "<div><br></div><div>Jane Roe<br>Account Director<br>Acme Widgets Inc.<br>"
        "Mobile: +1 212 555 0199</div></blockquote>",
        True,
    ),
    (
        "Thursday works for us.\n\nSam Carter\nHead of Procurement\nNorthwind Traders Ltd.\n"
        "Tel: +1 415 555 0134\n\n"
        "> Could we move the supplier review to Thursday?\n>\n> Jane Roe\n> Account Director\n"
        "> Acme Widgets Inc.\n> Mobile: +1 212 555 0199\n",
        False,
    ),
]


@pytest.mark.parametrize(("body", "is_html"), ANONYMOUS_QUOTES, ids=["html", "plain"])
def test_quote_without_attribution_is_not_the_senders(body: str, is_html: bool) -> None:
    """A quote with its attribution cut away: its signature is read for nobody
    in particular (no author is known), and certainly not for the sender."""
    found = observations_by_author(body, is_html, SAM, "US")
    assert [(f.kind, f.author) for f in found] == [("own", SAM), ("reply", None)]
    assert fields(found[0]) == SAM_FIELDS
    assert fields(found[1]) == JANE_FIELDS


def test_gmail_indented_text_stays_the_senders() -> None:
    """Gmail's indent button writes a borderless blockquote: not a quote."""
    html = (
        '<div dir="ltr"><div>Our terms:</div><blockquote style="margin:0 0 0 40px;border:none;'
        'padding:0px"><div>Net 30, delivery within two weeks.</div></blockquote><div><br></div>'
        "<div>Sam Carter<br>Head of Procurement<br>Northwind Traders Ltd.<br>"
        "Tel: +1 415 555 0134</div></div>"
    )
    found = observations_by_author(html, True, SAM, "US")
    assert [(f.kind, f.author) for f in found] == [("own", SAM)]
    assert fields(found[0]) == SAM_FIELDS
    assert "Net 30" in html_to_text(html, 10_000, quotes=True).split("\n")[1]


def test_outlook_header_inside_a_quote_ends_with_that_quote() -> None:
    """An Outlook reply quoted in a Gmail blockquote: its earlier message is one
    level deeper, and Sam's text after the blockquote is his own again."""
    html = (
        '<blockquote class="gmail_quote"><div>Jane wrote this.</div>'
        '<div id="divRplyFwdMsg"><b>From:</b> Lee &lt;lee@x.example&gt;</div>'
        "<div>Lee wrote this.</div></blockquote><div>Sam wrote this.</div>"
    )
    text = html_to_text(html, 10_000, quotes=True)
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    assert lines == [
        "> Jane wrote this.",
        ">> From: Lee <lee@x.example>",
        ">> Lee wrote this.",
        "Sam wrote this.",
    ]


def test_a_bordered_block_in_a_newsletter_is_no_outlook_header() -> None:
    html = (
        "<div>New this week: the spring catalogue.</div>"
        '<div style="border:none;border-top:solid #cccccc 1.0pt;padding:6pt 0 0 0">'
        "<p>You receive this because you subscribed. Unsubscribe.</p></div>"
    )
    text = html_to_text(html, 10_000, quotes=True)
    assert ">" not in text
    assert "Unsubscribe." in text
