"""What a local user typed, as the HTML we publish: links, mentions, hashtags.

The text is escaped first (``text_to_html``) and links are added on the
escaped form, so nothing typed can become markup; the result goes through
the same sanitiser as remote HTML all the same. Mentions are linked only
when they were resolved to an actor beforehand (resolution is network I/O
and happens before the transaction); an unresolved ``@name@host`` stays text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from agora_node.protocol.sanitize import sanitize_html, text_to_html

# How many handles one post may mention (and so make us resolve).
MAX_MENTIONS = 20
MAX_HASHTAGS = 50

_USER = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?"
_HOST = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?::[0-9]{1,5})?"
# One scan finds all three, links first, so a mention inside a URL stays part of it.
# ``&`` and ``#`` before a hashtag would be an HTML entity of the escaped text.
_TOKEN = re.compile(
    r"(?P<url>https?://[^\s<>]+)"
    rf"|(?<![\w@/&])@(?P<user>{_USER})(?:@(?P<host>{_HOST}))?"
    r"|(?<![\w&#/])#(?P<tag>\w*[^\W\d_]\w*)"
)
_URL_TRAILERS = ".,;:!?'\""


@dataclass(frozen=True)
class MentionTarget:
    """An actor a handle resolved to."""

    acct: str  # user@host, lowercased: the key handles are looked up by
    actor_uri: str
    profile_url: str

    @property
    def name(self) -> str:
        return "@" + self.acct


@dataclass(frozen=True)
class RenderedText:
    html: str
    mentions: tuple[MentionTarget, ...]
    hashtags: tuple[str, ...]  # lowercased, without '#'


def acct_key(user: str, host: str | None, local_domain: str) -> str:
    return f"{user}@{host or local_domain}".lower()


def handles_in(text: str, local_domain: str) -> list[str]:
    """The ``user@host`` handles mentioned in plain text (a bare ``@user`` is local)."""
    found: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        if match.group("user"):
            found[acct_key(match.group("user"), match.group("host"), local_domain)] = None
            if len(found) >= MAX_MENTIONS:
                break
    return list(found)


def _split_url(raw: str) -> tuple[str, str]:
    """The URL and what follows it that is punctuation of the sentence."""
    url = raw
    while url and (
        url[-1] in _URL_TRAILERS or (url[-1] == ")" and url.count("(") < url.count(")"))
    ):
        url = url[:-1]
    return url, raw[len(url) :]


def _link(url: str) -> str:
    shown = re.sub(r"^https?://", "", url)
    if len(shown) > 40:
        shown = shown[:40] + "…"
    return f'<a href="{html.escape(url)}">{html.escape(shown)}</a>'


def render(
    text: str, mentions: Mapping[str, MentionTarget], local_domain: str, tag_base: str
) -> RenderedText:
    """HTML for plain text; ``mentions`` maps ``acct_key`` to the resolved actor."""
    linked: dict[str, MentionTarget] = {}
    tags: dict[str, None] = {}

    def replace(match: re.Match[str]) -> str:
        if match.group("url"):
            url, rest = _split_url(html.unescape(match.group("url")))
            if not url.partition("://")[2]:
                return match.group(0)
            return _link(url) + html.escape(rest)
        if match.group("user"):
            target = mentions.get(acct_key(match.group("user"), match.group("host"), local_domain))
            if target is None:
                return match.group(0)
            linked.setdefault(target.actor_uri, target)
            user = html.escape(match.group("user"))
            return (
                f'<span class="h-card"><a href="{html.escape(target.profile_url)}" '
                f'class="u-url mention">@<span>{user}</span></a></span>'
            )
        tag = match.group("tag")
        if len(tags) >= MAX_HASHTAGS and tag.lower() not in tags:
            return match.group(0)
        tags.setdefault(tag.lower(), None)
        href = html.escape(f"{tag_base}/{tag.lower()}")
        return f'<a href="{href}" class="mention hashtag">#<span>{html.escape(tag)}</span></a>'

    body = _TOKEN.sub(replace, text_to_html(text))
    return RenderedText(sanitize_html(body), tuple(linked.values()), tuple(tags))
