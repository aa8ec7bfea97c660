"""Making remote text safe to store and show.

Remote HTML is untrusted. It is cleaned with ``nh3`` (ammonia): an allowlist
parser, so anything it does not know is dropped rather than guessed about.
What survives is the small formatting subset fediverse servers produce, plus
the microformat classes clients use to render mentions and hashtags.
Plain-text fields (display names, alt text) are stripped of the invisible
characters that let one name impersonate another.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3

# Mastodon's own allowlist puts these on <a> ("u-url mention", "mention
# hashtag") and on <span> ("h-card", "invisible", "ellipsis"); clients style
# and rewrite links by them. Any other class is dropped.
ALLOWED_CLASSES = frozenset(
    {"mention", "hashtag", "h-card", "u-url", "invisible", "ellipsis", "tag"}
)
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "a", "span", "em", "strong", "i", "b", "u", "del", "s",
        "code", "pre", "blockquote", "ul", "ol", "li",
    }
)  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"
# Removed with everything inside them: their text is code or markup, never
# prose a reader should see.
_DROP_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math"}
)

# Directional formatting characters: they reorder the text around them, so
# "evil\u202egro.elpmaxe" displays as another name.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_BLANK_LINES = re.compile(r"\n{3,}")
_SPACES = re.compile(r"[^\S\n]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={"*": set(), "a": {"href"}},
    allowed_classes={"a": set(ALLOWED_CLASSES), "span": set(ALLOWED_CLASSES)},
    link_rel=LINK_REL,
    url_schemes=set(URL_SCHEMES),
    # A relative link in a remote post would point into *our* site.
    url_relative="deny",
)
_text_cleaner = nh3.Cleaner(
    tags={"p", "br", "li", "ul", "ol", "blockquote", "pre"},
    clean_content_tags=set(_DROP_WITH_CONTENT),
    attributes={},
    link_rel=None,
)
_tag_only = nh3.Cleaner(
    tags=set(), clean_content_tags=set(_DROP_WITH_CONTENT), attributes={}, link_rel=None
)


def sanitize_html(value: str) -> str:
    """Clean remote post/bio HTML down to the allowlist; links get a forced ``rel``."""
    return _cleaner.clean(value)


def plain_text(text: str) -> str:
    """Drop control characters (keeping newlines and tabs) and trim.

    ``\\r\\n`` and lone ``\\r`` become ``\\n`` first, so line structure survives.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = (c for c in text if c in "\n\t" or unicodedata.category(c) != "Cc")
    return "".join(kept).strip()


def sanitize_display_name(name: str, max_len: int = 100) -> str:
    """One line of plain text, safe to show next to an avatar.

    Markup is removed (the text of it is kept), entities are decoded, control
    and bidirectional-override characters are removed, runs of whitespace
    become one space, and the result is cut to ``max_len`` characters.
    """
    text = html.unescape(_tag_only.clean(name))
    text = "".join(
        " " if c.isspace() else c
        for c in text
        if c not in _BIDI_CONTROLS and (c.isspace() or unicodedata.category(c) != "Cc")
    )
    return " ".join(text.split())[:max_len].rstrip()


def text_to_html(text: str) -> str:
    """Render local plain text as HTML: escaped, blank lines split paragraphs."""
    text = plain_text(text)
    if not text:
        return ""
    paragraphs = (p.strip("\n") for p in _PARAGRAPH_BREAK.split(text))
    return "".join(
        "<p>" + html.escape(p, quote=True).replace("\n", "<br>") + "</p>" for p in paragraphs if p
    )


def html_to_text(value: str) -> str:
    """Readable plain text of remote HTML, for summaries, notifications and search.

    Line breaks and paragraph ends become newlines; all other markup goes.
    The input is first reduced to a few block tags by nh3, so the tag
    stripping below only ever sees tags nh3 itself wrote.
    """
    cleaned = _text_cleaner.clean(value)
    cleaned = re.sub(r"<br\s*/?>", "\n", cleaned)
    cleaned = re.sub(r"</(?:p|ul|ol|blockquote|pre)>", "\n\n", cleaned)
    cleaned = re.sub(r"</li>", "\n", cleaned)
    cleaned = re.sub(r"<[^>]*>", "", cleaned)
    text = plain_text(html.unescape(cleaned))
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()
