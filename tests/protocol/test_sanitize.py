"""HTML sanitising of remote content and plain-text clean-up."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from agora_node.protocol.sanitize import (
    LINK_REL,
    html_to_text,
    plain_text,
    sanitize_display_name,
    sanitize_html,
    text_to_html,
)

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"

# Anything that can run script or load a resource once rendered.
DANGEROUS = re.compile(
    r"<script|<style|<iframe|<img|<svg|<math|<object|<embed|<form|<input|<meta|<link|<base"
    r"|\son\w+\s*=|javascript:|vbscript:|data:|style=|srcdoc|formaction",
    re.IGNORECASE,
)

XSS_VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<p onmouseover="alert(1)">hover</p>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="  javascript:alert(1)">click</a>',
    '<a href="java&#x09;script:alert(1)">click</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">click</a>',
    '<a href="vbscript:msgbox(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">click</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<style>body{display:none}</style>visible",
    '<iframe src="https://evil.example/" srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="x.swf">',
    "<svg><g onload=alert(1)></g></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<form action="https://evil.example"><input name=password></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<a href="https://ok.example" formaction="javascript:alert(1)">x</a>',
    "<div><p>nested<span><img src=x onerror=alert(1)></span></p></div>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
]


@pytest.mark.parametrize("vector", XSS_VECTORS)
def test_xss_vectors_are_neutralised(vector: str) -> None:
    cleaned = sanitize_html(vector)
    assert not DANGEROUS.search(cleaned), cleaned


def test_script_and_style_contents_are_removed_entirely() -> None:
    assert sanitize_html("<p>a<script>var secret = 1;</script>b</p>") == "<p>ab</p>"
    assert sanitize_html("<style>.x{color:red}</style><p>x</p>") == "<p>x</p>"


def test_unknown_tags_are_stripped_but_their_text_is_kept() -> None:
    assert sanitize_html("<h1>Title</h1><div>body</div>") == "Titlebody"


def test_allowed_formatting_survives() -> None:
    html = (
        "<p>a<br><em>b</em><strong>c</strong><i>d</i><b>e</b><u>f</u><del>g</del><s>h</s>"
        "<code>i</code></p><pre>j</pre><blockquote>k</blockquote><ul><li>l</li></ul>"
        "<ol><li>m</li></ol>"
    )
    assert sanitize_html(html) == html


def test_links_keep_safe_href_and_get_forced_rel() -> None:
    cleaned = sanitize_html(
        '<a href="https://ok.example/x?a=1&amp;b=2" rel="me" target="_blank" title="t" lang="en"'
        ' id="x">x</a>'
    )
    assert cleaned == f'<a href="https://ok.example/x?a=1&amp;b=2" rel="{LINK_REL}">x</a>'
    assert 'href="mailto:ada@agora.example"' in sanitize_html(
        '<a href="mailto:ada@agora.example">mail</a>'
    )
    assert 'href="http://plain.example/"' in sanitize_html('<a href="http://plain.example/">x</a>')


def test_relative_links_are_dropped() -> None:
    # A relative href in a remote post would point into our own site.
    for href in ("/settings/delete", "//evil.example/", "#top", "?page=2", "x.html"):
        assert "href" not in sanitize_html(f'<a href="{href}">x</a>'), href


def test_mention_and_hashtag_markup_survives() -> None:
    content = json.loads((PAYLOADS / "mastodon_create_note.json").read_text("utf-8"))["object"][
        "content"
    ]
    cleaned = sanitize_html(content)
    assert '<span class="h-card">' in cleaned
    assert 'class="u-url mention"' in cleaned
    assert 'class="mention hashtag"' in cleaned
    assert "@<span>ada</span>" in cleaned
    assert "#<span>gardening</span>" in cleaned
    assert "translate" not in cleaned


def test_only_known_classes_survive() -> None:
    cleaned = sanitize_html(
        '<span class="invisible evil">https://</span><span class="ellipsis x">long</span>'
        '<span class="tag">t</span><p class="mention">p</p>'
    )
    assert cleaned == (
        '<span class="invisible">https://</span><span class="ellipsis">long</span>'
        '<span class="tag">t</span><p>p</p>'
    )


def test_comments_are_removed() -> None:
    assert sanitize_html("<p>a<!-- hidden -->b</p>") == "<p>ab</p>"


def test_plain_text_removes_control_characters_and_trims() -> None:
    assert plain_text("  a\x00b\x07c\x1b[31md\x7f  ") == "abc[31md"
    assert plain_text("line1\r\nline2\rline3\tend") == "line1\nline2\nline3\tend"
    assert plain_text("\n\n  ") == ""


def test_display_name_is_one_safe_line() -> None:
    assert sanitize_display_name("  Alice \n\t Liddell  ") == "Alice Liddell"
    assert sanitize_display_name("<b>Alice</b><script>x()</script>") == "Alice"
    assert sanitize_display_name("Tom &amp; Jerry") == "Tom & Jerry"
    assert sanitize_display_name("I <3 tomatoes") == "I <3 tomatoes"
    assert sanitize_display_name("nul\x00bell\x07") == "nulbell"


def test_display_name_loses_bidi_overrides() -> None:
    # "admin\u202egnp.exe" would render reversed after the override.
    assert sanitize_display_name("admin\u202egnp.exe") == "admingnp.exe"
    assert sanitize_display_name("\u2066a\u2069\u200fb\u061c") == "ab"


def test_display_name_keeps_emoji_sequences_and_is_cut() -> None:
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    assert sanitize_display_name(f"Fern {family}") == f"Fern {family}"
    assert sanitize_display_name("x" * 300) == "x" * 100
    assert sanitize_display_name("abc def", max_len=4) == "abc"


def test_text_to_html_escapes_and_keeps_line_structure() -> None:
    assert text_to_html("") == ""
    assert text_to_html("a <b> & 'c'") == "<p>a &lt;b&gt; &amp; &#x27;c&#x27;</p>"
    assert text_to_html("one\ntwo\n\n\nthree") == "<p>one<br>two</p><p>three</p>"
    assert text_to_html("https://x.example/") == "<p>https://x.example/</p>"


def test_text_to_html_output_is_stable_under_sanitising() -> None:
    html = text_to_html("first line\nsecond\n\nnext paragraph <i>not markup</i>")
    assert sanitize_html(html) == html


def test_html_to_text() -> None:
    html = (
        "<p>Hello &amp; <b>welcome</b><br>to the garden</p><p>second</p>"
        "<ul><li>one</li><li>two</li></ul><script>alert(1)</script>"
        '<p><a href="https://x.example"><span class="invisible">https://</span>x.example</a></p>'
    )
    assert html_to_text(html) == (
        "Hello & welcome\nto the garden\n\nsecond\n\none\ntwo\n\nhttps://x.example"
    )


def test_html_to_text_does_not_turn_escaped_text_into_tags() -> None:
    # Escaped markup becomes literal text; it is plain text, escaped again on output.
    assert html_to_text("<p>&lt;script&gt;x&lt;/script&gt;</p>") == "<script>x</script>"
    assert html_to_text("") == ""
