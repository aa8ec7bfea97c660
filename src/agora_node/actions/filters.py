"""A person's keyword filters: made, changed and removed, for the client API
(v2 and v1) and the pages. The rule of what a filter does to a post is in
``processing/filters.py``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing import filters as rules
from agora_node.store import filters as store
from agora_node.store.db import Database
from agora_node.store.filters import FilterRow


@dataclass(frozen=True)
class KeywordChange:
    """One of ``keywords_attributes``: a new keyword (no id), a change, a removal."""

    keyword_id: int | None
    keyword: str | None
    whole_word: bool | None
    destroy: bool = False


def _expiry(expires_in: int | None, now: float) -> float | None:
    if expires_in is None:
        return None
    if expires_in <= 0:
        raise UnprocessableEntity("Validation failed: expires_in must be a positive number")
    return now + expires_in


async def own(db: Database, account_id: int, filter_id: int) -> FilterRow:
    found = await db.read(lambda c: store.get_filter(c, account_id, filter_id))
    if found is None:
        raise NotFound("Record not found")
    return found


async def create(
    db: Database,
    account_id: int,
    *,
    title: str,
    contexts: Sequence[str],
    action: str,
    expires_in: int | None,
    keywords: Sequence[tuple[str, bool]],
    now: float,
) -> FilterRow:
    name = rules.checked_title(title)
    wanted = rules.checked_contexts(contexts)
    kind = rules.checked_action(action)
    words = [(rules.checked_keyword(k), w) for k, w in keywords]
    if len(words) > rules.MAX_KEYWORDS:
        raise UnprocessableEntity(f"Validation failed: at most {rules.MAX_KEYWORDS} keywords")
    until = _expiry(expires_in, now)

    def write(c: sqlite_utils.Database) -> FilterRow:
        if store.count_of(c, account_id) >= rules.MAX_FILTERS:
            raise UnprocessableEntity(f"Validation failed: at most {rules.MAX_FILTERS} filters")
        filter_id = store.add_filter(
            c, account_id, title=name, contexts=wanted, action=kind, expires_at=until, now=now
        )
        for word, whole in words:
            store.add_keyword(c, filter_id, word, whole)
        found = store.get_filter(c, account_id, filter_id)
        assert found is not None
        return found

    return await db.write(write)


async def change(
    db: Database,
    account_id: int,
    filter_id: int,
    *,
    title: str | None,
    contexts: Sequence[str] | None,
    action: str | None,
    expires_in: int | str | None,
    keywords: Sequence[KeywordChange],
    now: float,
) -> FilterRow:
    """Change what is given; ``expires_in`` "keep" leaves the end as it is,
    None makes the filter last for ever."""
    current = await own(db, account_id, filter_id)
    name = rules.checked_title(title) if title is not None else current.title
    wanted = rules.checked_contexts(contexts) if contexts is not None else list(current.contexts)
    kind = rules.checked_action(action) if action is not None else current.action
    until = current.expires_at if expires_in == "keep" else _expiry(expires_in, now)  # type: ignore[arg-type]
    mine = {k.id: k for k in current.keywords}
    for ch in keywords:
        if ch.keyword_id is not None and ch.keyword_id not in mine:
            raise UnprocessableEntity(f"Validation failed: no keyword {ch.keyword_id} here")
        if not ch.destroy and ch.keyword is not None:
            rules.checked_keyword(ch.keyword)

    def write(c: sqlite_utils.Database) -> FilterRow:
        store.change_filter(
            c, filter_id, title=name, contexts=wanted, action=kind, expires_at=until
        )
        for ch in keywords:
            if ch.keyword_id is None:
                if not ch.destroy and ch.keyword is not None:
                    store.add_keyword(
                        c, filter_id, rules.checked_keyword(ch.keyword), ch.whole_word is not False
                    )
            elif ch.destroy:
                store.delete_keyword(c, ch.keyword_id)
            else:
                old = mine[ch.keyword_id]
                word = rules.checked_keyword(ch.keyword) if ch.keyword is not None else old.keyword
                whole = ch.whole_word if ch.whole_word is not None else old.whole_word
                store.change_keyword(c, ch.keyword_id, word, whole)
        found = store.get_filter(c, account_id, filter_id)
        assert found is not None
        return found

    return await db.write(write)


async def change_keywords(
    db: Database, account_id: int, filter_id: int, keywords: Sequence[KeywordChange], now: float
) -> FilterRow:
    """Change, add or remove some of a filter's keywords; the rest stays."""
    return await change(
        db, account_id, filter_id, title=None, contexts=None, action=None,
        expires_in="keep", keywords=keywords, now=now,
    )  # fmt: skip


async def remove(db: Database, account_id: int, filter_id: int) -> None:
    await own(db, account_id, filter_id)
    await db.write(lambda c: store.delete_filter(c, filter_id))


async def add_keyword(
    db: Database, account_id: int, filter_id: int, keyword: str, whole_word: bool
) -> int:
    await own(db, account_id, filter_id)
    word = rules.checked_keyword(keyword)
    return await db.write(lambda c: store.add_keyword(c, filter_id, word, whole_word))


async def keyword_filter(db: Database, account_id: int, keyword_id: int) -> FilterRow:
    """The filter (of ``account_id``) a keyword belongs to."""
    owner = await db.read(lambda c: store.keyword_owner(c, keyword_id))
    if owner is None or owner[0] != account_id:
        raise NotFound("Record not found")
    return await own(db, account_id, owner[1])


async def add_status(db: Database, account_id: int, filter_id: int, object_uri: str) -> int:
    await own(db, account_id, filter_id)
    made = await db.write(lambda c: store.add_status(c, filter_id, object_uri))
    if made is None:
        raise UnprocessableEntity("Validation failed: this post is already in the filter")
    return made


async def status_filter(db: Database, account_id: int, row_id: int) -> FilterRow:
    owner = await db.read(lambda c: store.status_owner(c, row_id))
    if owner is None or owner[0] != account_id:
        raise NotFound("Record not found")
    return await own(db, account_id, owner[1])
