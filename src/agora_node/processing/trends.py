"""What is trending, and over which days.

Trending links: the web addresses recent public posts share, by how many
different accounts shared each. Mentions and hashtags are links too in a
post's HTML; they are not what people share, so they are left out. Tags
trend over the last ``TAG_DAYS``, posts over the last ``STATUS_DAYS``; every
surface that shows trends uses these windows."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass

from agora_node.errors import NotFound
from agora_node.protocol.hosts import host_of
from agora_node.store import hashtags

DAY = 86400.0
TAG_DAYS = 7
STATUS_DAYS = 2
# What a hashtag's name may be, once normalised (``hashtags.normal_name``).
TAG_NAME = re.compile(r"[\w·]{1,100}")


def tag_name(raw: str) -> str:
    """A hashtag named in a path or a query, as stored (404 when it cannot be one)."""
    name = hashtags.normal_name(raw)
    if not TAG_NAME.fullmatch(name) or name.isdigit():
        raise NotFound("Record not found")
    return name


_LINK = re.compile(r"<a\s+([^>]*)>", re.IGNORECASE)
_HREF = re.compile(r'href="([^"]+)"')
_CLASS = re.compile(r'class="([^"]*)"')


def links_in(content: str) -> list[str]:
    """The http(s) addresses a post's sanitised HTML links to, hashtags and mentions aside."""
    found: list[str] = []
    for attributes in _LINK.findall(content):
        kinds = _CLASS.search(attributes)
        if kinds and {"mention", "hashtag", "u-url"} & set(kinds.group(1).split()):
            continue
        href = _HREF.search(attributes)
        if href is None:
            continue
        url = html.unescape(href.group(1))
        if not url.startswith(("https://", "http://")) or url in found:
            continue
        try:
            host_of(url)
        except ValueError:
            continue  # no host to show
        found.append(url)
    return found


@dataclass(frozen=True)
class LinkTrend:
    url: str
    host: str
    accounts: int
    uses: int
    # Per day, newest first: (day start, uses, accounts).
    days: tuple[tuple[float, int, int], ...]


def trending_links(
    posts: Iterable[tuple[str, str, float]],
    hidden: set[str],
    now: float,
    days: int = 7,
) -> list[LinkTrend]:
    """Rank the links of ``posts`` (author, content, published): shared by the most
    accounts first, then by the most posts."""
    today = (now // DAY) * DAY
    shares: dict[str, list[tuple[str, float]]] = {}
    for author, content, published in posts:
        for url in links_in(content):
            if url not in hidden:
                shares.setdefault(url, []).append((author, published))
    out = []
    for url, uses in shares.items():
        per_day = []
        for i in range(days):
            start = today - i * DAY
            that_day = [a for a, when in uses if start <= when < start + DAY]
            per_day.append((start, len(that_day), len(set(that_day))))
        out.append(
            LinkTrend(url, host_of(url), len({a for a, _ in uses}), len(uses), tuple(per_day))
        )
    out.sort(key=lambda t: (-t.accounts, -t.uses, t.url))
    return out
