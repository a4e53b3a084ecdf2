"""Quoted mail in HTML bodies, marked with ">" from the markup before it is lost.

Rendered to text, an HTML reply's quote is indistinguishable from the
sender's own lines: a quote with no attribution line, or the sender's answer
and signature below a quote, would be read as one author's text. The markup
still says which part is quoted, so each quoted line gets one ">" per level
and ``matcher.body.zones`` splits the text as it splits plain-text replies.

What marks a quote:

* ``<blockquote>``: Gmail's ``gmail_quote``, Apple Mail's and Thunderbird's
  ``type="cite"``, Outlook Express's bordered one. Gmail's "indent" button
  writes a blockquote too, styled ``border:none``: that is the sender's text.
* Outlook's reply header, after which every line is the earlier message:
  on the web ``<div id="divRplyFwdMsg">``, on the desktop (Word HTML) a
  ``<div style="border:none;border-top:solid ...">`` around "From:/Sent:".
  The quote runs to the end of the enclosing quote, or of the document.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from inscriptis import Inscriptis
from inscriptis.model.config import ParserConfig
from lxml.etree import ParserError
from lxml.html import HtmlElement, document_fromstring

_MARK = "data-autocapture-quote"
_CITE, _REST = "cite", "rest"
# Any of these in the source may mark a quote; most mail has none, and is
# rendered without the annotation pass.
HINTS = ("<blockquote", "divrplyfwdmsg", "border-top")


def has_quote_markup(html: str) -> bool:
    lowered = html.lower()
    return any(hint in lowered for hint in HINTS)


def config_with_quotes(config: ParserConfig) -> ParserConfig:
    return ParserConfig(
        display_links=config.display_links,
        display_images=config.display_images,
        display_anchors=config.display_anchors,
        annotation_rules={f"#{_MARK}={_CITE}": [_CITE], f"#{_MARK}={_REST}": [_REST]},
    )


def render_with_quotes(html: str, config: ParserConfig) -> str:
    """``html`` as text, each quoted line prefixed by ">" per quote level.

    ``config`` must come from ``config_with_quotes``.
    """
    html = html.strip()
    if not html:
        return ""
    try:
        tree = document_fromstring(html)
    except ParserError:
        return ""  # nothing but whitespace or comments: no text
    _mark(tree)
    engine = Inscriptis(tree, config)
    text = engine.get_text()
    spans = [(a.start, a.end, str(a.metadata)) for a in engine.get_annotations()]
    return _prefixed(text, spans)


def _mark(tree: HtmlElement) -> None:
    for element in tree.iter("blockquote"):
        if _is_quote(element):
            element.set(_MARK, _CITE)
    for element in tree.iter("div"):
        if element.get("id") == "divRplyFwdMsg" or _is_outlook_header(element):
            element.set(_MARK, _REST)


def _style(element: HtmlElement) -> str:
    return "".join((element.get("style") or "").lower().split())


def _is_quote(blockquote: HtmlElement) -> bool:
    cited = blockquote.get("type") == "cite" or "gmail_quote" in (blockquote.get("class") or "")
    return cited or "border:none" not in _style(blockquote)


# Outlook's header block starts with its first field label: "From:", "Von:",
# "De :", "Da:", "Van:"... A bordered div in a newsletter does not.
_FIELD_LABEL = re.compile(r"\s*[^\W\d]{2,12}\s?:")


def _is_outlook_header(div: HtmlElement) -> bool:
    style = _style(div)
    return (
        "border:none" in style
        and "border-top:solid" in style
        and _FIELD_LABEL.match(div.text_content()[:40]) is not None
    )


def _prefixed(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Each non-blank line of ``text`` with its quote depth in ">"."""
    cites = [(s, e) for s, e, kind in spans if kind == _CITE]
    rests = sorted((s, _rest_end(s, cites, len(text))) for s, _, kind in spans if kind == _REST)
    if not cites and not rests:
        return text
    rest_starts = [s for s, _ in rests]
    out: list[str] = []
    offset = 0
    for line in text.split("\n"):
        content = line.lstrip()
        at = offset + len(line) - len(content)
        offset += len(line) + 1
        if not content:
            out.append(line)
            continue
        depth = sum(1 for s, e in cites if s <= at < e)
        depth += sum(1 for s, e in rests[: bisect_right(rest_starts, at)] if at < e)
        out.append(f"{'>' * depth} {content}" if depth else line)
    return "\n".join(out)


def _rest_end(start: int, cites: list[tuple[int, int]], end: int) -> int:
    """Where an Outlook quote starting at ``start`` ends: with the innermost
    blockquote around it, else at the end of the text."""
    return min((e for s, e in cites if s <= start < e), default=end)
