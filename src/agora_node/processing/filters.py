"""Keyword filters: the one rule for what a person's filters do to a post.

A filter applies in some contexts (``home`` also covers lists,
``notifications``, ``public`` also covers hashtags, ``thread``, ``account``),
until it expires. It matches a post when one of its keywords is in the
post's text (its content warning, text, media descriptions and poll
options), case-insensitive, as a whole word unless told otherwise, or when
it names the post itself. ``hide`` removes a matching post from timelines,
notifications and streams; ``warn`` and ``blur`` keep it with the matches
attached (the Status entity's ``filtered``), for the app to cover it.
Every surface (the client API, the streams, the web pages) asks here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from agora_node.errors import UnprocessableEntity
from agora_node.processing.polls import poll_of
from agora_node.protocol.sanitize import html_to_text
from agora_node.store.filters import FilterRow
from agora_node.store.objects import ObjectRow

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide", "blur")
MAX_FILTERS = 100
MAX_KEYWORDS = 100
MAX_KEYWORD = 200
MAX_TITLE = 200


@dataclass(frozen=True)
class Match:
    filter: FilterRow
    keywords: tuple[str, ...]
    status_matches: tuple[str, ...]


def _pattern(keyword: str, whole_word: bool) -> str:
    escaped = re.escape(keyword)
    if not whole_word:
        return escaped
    start = r"\b" if re.match(r"\w", keyword) else ""
    end = r"\b" if re.search(r"\w$", keyword) else ""
    return f"{start}{escaped}{end}"


@dataclass(frozen=True)
class _Compiled:
    row: FilterRow
    keywords: tuple[tuple[str, re.Pattern[str]], ...]
    statuses: frozenset[str]


class Filters:
    """One person's filters in force, compiled once for a page or a stream."""

    def __init__(self, rows: Sequence[FilterRow], context: str) -> None:
        self.context = context
        self._filters = [
            _Compiled(
                row,
                tuple(
                    (k.keyword, re.compile(_pattern(k.keyword, k.whole_word), re.IGNORECASE))
                    for k in row.keywords
                ),
                frozenset(s.object_uri for s in row.statuses),
            )
            for row in rows
            if context in row.contexts or (context == "list" and "home" in row.contexts)
        ]

    def __bool__(self) -> bool:
        return bool(self._filters)

    def matches(self, obj: ObjectRow) -> list[Match]:
        if not self._filters:
            return []
        text: str | None = None
        found = []
        for f in self._filters:
            status = (obj.uri,) if obj.uri in f.statuses else ()
            words: list[str] = []
            if f.keywords:
                text = text if text is not None else searchable_text(obj)
                words = [k for k, pattern in f.keywords if pattern.search(text)]
            if words or status:
                found.append(Match(f.row, tuple(words), status))
        return found

    @staticmethod
    def hides(found: Sequence[Match]) -> bool:
        return any(m.filter.action == "hide" for m in found)


def searchable_text(obj: ObjectRow) -> str:
    """What keywords are looked for in: content warning, text, media
    descriptions, poll options (one line each)."""
    parts = [obj.summary, html_to_text(obj.content) if obj.content else ""]
    for att in obj.data.get("attachments") or obj.data.get("attachment") or []:
        if isinstance(att, dict) and isinstance(att.get("name"), str):
            parts.append(att["name"])
    poll = poll_of(obj)
    if poll is not None:
        parts.extend(poll.options)
    return "\n".join(p for p in parts if p)


def checked_contexts(contexts: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(c.strip() for c in contexts if c.strip()))
    if not wanted:
        raise UnprocessableEntity("Validation failed: context can't be blank")
    unknown = [c for c in wanted if c not in CONTEXTS]
    if unknown:
        raise UnprocessableEntity(
            f"Validation failed: context {unknown[0]!r} is not one of {', '.join(CONTEXTS)}"
        )
    return wanted


def checked_keyword(keyword: str) -> str:
    word = keyword.strip()
    if not word:
        raise UnprocessableEntity("Validation failed: keyword can't be blank")
    if len(word) > MAX_KEYWORD:
        raise UnprocessableEntity(f"Validation failed: keyword is over {MAX_KEYWORD} characters")
    return word


def checked_title(title: str) -> str:
    name = title.strip()
    if not name:
        raise UnprocessableEntity("Validation failed: title can't be blank")
    if len(name) > MAX_TITLE:
        raise UnprocessableEntity(f"Validation failed: title is over {MAX_TITLE} characters")
    return name


def checked_action(action: str) -> str:
    if action not in ACTIONS:
        raise UnprocessableEntity(
            f"Validation failed: filter_action must be one of {', '.join(ACTIONS)}"
        )
    return action
