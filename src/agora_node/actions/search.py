"""Searching: accounts, posts and hashtags, for the client API and the pages.

- accounts: by name or handle; with ``resolve`` a ``user@host`` handle (or
  an actor's address) is looked up over WebFinger and fetched;
- posts: a post's address (its id or its page, as people copy it) finds
  that post, fetched and kept with ``resolve``; plain words search the posts
  one wrote, favourited, boosted, bookmarked or was addressed by;
- hashtags: known hashtags starting with the words (``#`` optional).

Resolving reaches other servers, so it is for signed-in callers only, as on
Mastodon; an anonymous search sees what the node already holds, and no posts.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from agora_node.actions import posts
from agora_node.actions.caller import Caller
from agora_node.actions.social import account_named
from agora_node.errors import AgoraError
from agora_node.store import accounts as accounts_store
from agora_node.store import hashtags
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import ActorRow
from agora_node.store.db import Database
from agora_node.store.objects import ObjectRow

KINDS = ("accounts", "statuses", "hashtags")


@dataclass(frozen=True)
class Found:
    accounts: list[ActorRow] = field(default_factory=list)
    posts: list[ObjectRow] = field(default_factory=list)
    hashtags: list[str] = field(default_factory=list)


def is_address(query: str) -> bool:
    return query.startswith(("https://", "http://")) and " " not in query


async def accounts(
    db: Database, caller: Caller | None, query: str, *, limit: int, offset: int, resolve: bool
) -> list[ActorRow]:
    """Accounts by name or handle; with ``resolve`` (signed in), looked up remotely first."""
    query = query.strip()
    if is_address(query):
        if caller is None or not resolve or offset:
            return []
        try:
            return [await caller.resolver.actor_by_uri(query)]
        except AgoraError:
            return []  # not an account, or its server would not say: nothing found
    query = query.removeprefix("@")
    if not query:
        return []
    found: list[ActorRow] = []
    if caller is not None and resolve and "@" in query and offset == 0:
        try:
            found.append(await account_named(caller, query))
        except AgoraError:
            pass  # not found over there: the local matches still answer
    name = query.split("@")[0]
    known = await db.read(lambda c: accounts_store.search_actors(c, name, limit, offset))
    found += [a for a in known if all(a.uri != f.uri for f in found)]
    return found[:limit]


async def statuses(
    caller: Caller | None, query: str, *, limit: int, offset: int, resolve: bool
) -> list[ObjectRow]:
    if caller is None:
        return []  # Mastodon searches statuses for signed-in callers only
    if is_address(query):
        if offset:
            return []
        try:
            found = await posts.find_post(caller, query, resolve=resolve)
        except AgoraError:
            return []  # not a post, or its server would not say: nothing found
        return [found] if found is not None else []
    me = caller.actor_uri
    return await caller.db.read(
        lambda c: statuses_store.search_statuses(c, me, query, limit, offset)
    )


async def search(
    db: Database,
    caller: Caller | None,
    query: str,
    *,
    kinds: Collection[str] = KINDS,
    limit: int,
    offset: int = 0,
    resolve: bool = False,
) -> Found:
    """Everything ``query`` finds of ``kinds``, as ``caller`` (None: anonymous) may see."""
    query = query.strip()
    if not query:
        return Found()
    found_accounts = (
        await accounts(db, caller, query, limit=limit, offset=offset, resolve=resolve)
        if "accounts" in kinds
        else []
    )
    found_posts = (
        await statuses(caller, query, limit=limit, offset=offset, resolve=resolve)
        if "statuses" in kinds
        else []
    )
    names = (
        await db.read(lambda c: hashtags.search_hashtags(c, query, limit, offset))
        if "hashtags" in kinds and not is_address(query)
        else []
    )
    return Found(found_accounts, found_posts, names)
