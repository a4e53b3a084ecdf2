"""HTML-only mail bodies to plain text, so zones and signatures see lines.

inscriptis renders the layout (block elements become lines, table cells are
separated, ``<br>`` breaks a line), which matters here: a signature is a
stack of short lines, and an HTML signature is usually a table or a run of
``<br>``-separated spans. It never runs scripts and never fetches anything;
``<script>`` and ``<style>`` contents are dropped. ``strip_tags`` is the
crude fallback for markup the renderer refuses.
"""

from __future__ import annotations

import html
import re

from inscriptis import get_text
from inscriptis.model.config import ParserConfig
from lxml.etree import LxmlError

from connectors.base import InvalidInput
from matcher.body.html_quotes import config_with_quotes, has_quote_markup, render_with_quotes

# What snippets render of an HTML-only body (``matcher.participants.snippet_of``).
MAX_HTML_CHARS = 64 * 1024

# Link targets would interleave URLs with the signature lines they belong to
# and images carry no contact data; both are off.
_CONFIG = ParserConfig(display_links=False, display_images=False, display_anchors=False)
_QUOTES_CONFIG = config_with_quotes(_CONFIG)

# Rendering keeps the layout's blank runs and trailing spaces; more than two
# newlines in a row carry no meaning for zones or signatures.
_BLANK_RUN = re.compile(r"[ \t\u00a0]+\n|\n{3,}")


def html_to_text(html: str, limit: int, quotes: bool = False) -> str:
    """The text of ``html``, reading at most ``limit`` characters of it.

    With ``quotes``, quoted mail is marked with ">" per level as the markup
    shows it (``matcher.body.html_quotes``), for splitting into zones; a snippet
    wants the text without.

    Mail is cut at ``limit`` before parsing (a truncated tag is harmless to
    lxml's recovering parser) so a hostile body cannot make the renderer's
    time or memory grow past that. Raises ``InvalidInput("html-unparseable")``
    when the document cannot be rendered at all (e.g. nesting deep enough to
    exhaust the renderer's recursion).
    """
    if limit <= 0 or not html:
        return ""
    source = html[:limit]
    try:
        if quotes and has_quote_markup(source):
            text = render_with_quotes(source, _QUOTES_CONFIG)
        else:
            text = get_text(source, _CONFIG)
    except (LxmlError, RecursionError, ValueError) as exc:
        raise InvalidInput("html-unparseable", type(exc).__name__) from None
    text = _BLANK_RUN.sub(_squeeze, text.replace("\r\n", "\n"))
    return text.strip("\n")[:limit]


def _squeeze(match: re.Match[str]) -> str:
    return "\n\n" if match.group(0).startswith("\n") else "\n"


def _cut_blocks(text: str, tag: str) -> str:
    """Remove <tag>...</tag> blocks with plain finds: linear, unlike a lazy regex."""
    lower = text.lower()
    out: list[str] = []
    pos = 0
    while (start := lower.find(f"<{tag}", pos)) != -1:
        out.append(text[pos:start])
        end = lower.find(f"</{tag}", start)
        if end == -1:
            return "".join(out)
        pos = lower.find(">", end)
        pos = len(text) if pos == -1 else pos + 1
    out.append(text[pos:])
    return "".join(out)


def _drop_tags(text: str) -> str:
    """Replace tags and comments by a space with plain finds.

    A regex such as ``<[^>]*>`` is quadratic on text with many "<" and no
    ">" (64 KiB of "<" took 11 s); an unclosed tag or comment ends the text.
    """
    out: list[str] = []
    pos = 0
    while (start := text.find("<", pos)) != -1:
        out.append(text[pos:start])
        closer = "-->" if text.startswith("<!--", start) else ">"
        end = text.find(closer, start + 1)
        if end == -1:
            return "".join(out)
        out.append(" ")
        pos = end + len(closer)
    out.append(text[pos:])
    return "".join(out)


def strip_tags(markup: str) -> str:
    """Crude HTML to text, for markup the layout-aware renderer refuses."""
    text = markup[:MAX_HTML_CHARS]
    for tag in ("script", "style", "head"):
        text = _cut_blocks(text, tag)
    return html.unescape(_drop_tags(text))
