"""Rich text of articles, sanitised with nh3 (issue #8 bad input: "script in an article").

A small safe set only: paragraphs, two heading levels, lists, emphasis, quotations, line breaks
and links (http, https, mailto, tel; ``rel="noopener noreferrer"`` added). Scripts and styles
are removed with their content; ``on*`` attributes and ``javascript:`` URLs never survive.
"""

from __future__ import annotations

import nh3

ALLOWED_TAGS = frozenset(
    {"p", "h2", "h3", "ul", "ol", "li", "strong", "em", "a", "blockquote", "br"}
)
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
# Removed together with what they contain (nh3 keeps the text of other unknown tags).
DROP_WITH_CONTENT = frozenset({"script", "style", "iframe", "object", "embed", "template"})


_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(DROP_WITH_CONTENT),
    attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(URL_SCHEMES),
    link_rel="noopener noreferrer",
    # Links are absolute (http, https, mailto, tel): a relative one could point anywhere.
    url_relative="deny",
)


def clean_html(html: str) -> str:
    """``html`` reduced to the safe set (idempotent)."""
    if not html:
        return ""
    return str(_CLEANER.clean(html)).strip()


def plain_text(html: str) -> str:
    """The text of ``html`` without any tag (for lengths and summaries)."""
    return str(nh3.clean(html or "", tags=set())).strip()
