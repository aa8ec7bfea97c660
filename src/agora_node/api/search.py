"""``/api/v2/search``: accounts, statuses and hashtags in one answer.

- accounts: by name or handle; with ``resolve=true`` a ``user@host`` handle
  (or an actor's address) is looked up over WebFinger and fetched;
- statuses: a post's address (its id or its page, as people copy it) finds
  that post, fetched and kept with ``resolve=true``; plain words search the
  posts one wrote, favourited, boosted, bookmarked or was addressed by;
- hashtags: known hashtags starting with the words (``#`` optional).

Resolving reaches other servers, so it is for signed-in callers only, as on
Mastodon; anonymous searches see what the node already holds.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import posts
from agora_node.api import serialize
from agora_node.api.accounts import accounts_json, found_accounts
from agora_node.api.requests import (
    SignedIn,
    base_url,
    caller_of,
    flag,
    int_query,
    maybe_signed_in,
)
from agora_node.api.tags import tags_json
from agora_node.context import DB
from agora_node.errors import AgoraError, BadRequest
from agora_node.store import accounts as accounts_store
from agora_node.store import hashtags
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import ActorRow
from agora_node.store.objects import ObjectRow

_TYPES = ("accounts", "statuses", "hashtags")
_LIMIT = 40
_MAX_QUERY = 500


def _is_address(query: str) -> bool:
    return query.startswith(("https://", "http://")) and " " not in query


async def _accounts(
    request: web.Request, who: SignedIn | None, query: str, limit: int, offset: int
) -> list[ActorRow]:
    if _is_address(query):
        if who is None or not flag(request, "resolve") or offset:
            return []
        try:
            return [await caller_of(request, who).resolver.actor_by_uri(query)]
        except AgoraError:
            return []  # not an account, or its server would not say: nothing found
    if who is None:
        name = query.removeprefix("@").split("@")[0]
        return await request.app[DB].read(
            lambda c: accounts_store.search_actors(c, name, limit, offset)
        )
    resolve = flag(request, "resolve")
    return await found_accounts(request, who, query, limit=limit, offset=offset, resolve=resolve)


async def _statuses(
    request: web.Request, who: SignedIn | None, query: str, limit: int, offset: int
) -> list[ObjectRow]:
    if who is None:
        return []  # Mastodon searches statuses for signed-in callers only
    caller = caller_of(request, who)
    if _is_address(query):
        if offset:
            return []
        try:
            found = await posts.find_post(caller, query, resolve=flag(request, "resolve"))
        except AgoraError:
            return []  # not a post, or its server would not say: nothing found
        return [found] if found is not None else []
    return await request.app[DB].read(
        lambda c: statuses_store.search_statuses(c, who.actor_uri, query, limit, offset)
    )


async def search(request: web.Request) -> web.Response:
    who = await maybe_signed_in(request, "read:search")
    query = request.query.get("q", "").strip()
    if len(query) > _MAX_QUERY:
        raise BadRequest(f"q is longer than {_MAX_QUERY} characters")
    kind = request.query.get("type", "")
    if kind and kind not in _TYPES:
        raise BadRequest(f"type must be one of {', '.join(_TYPES)}")
    limit = max(1, int_query(request, "limit", 20, _LIMIT))
    offset = int_query(request, "offset", 0, 10_000)
    if offset and who is None:
        raise BadRequest("offset needs a signed-in caller")
    wanted = [kind] if kind else list(_TYPES)
    actors: list[ActorRow] = []
    rows: list[ObjectRow] = []
    names: list[str] = []
    if query and "accounts" in wanted:
        actors = await _accounts(request, who, query, limit, offset)
    if query and "statuses" in wanted:
        rows = await _statuses(request, who, query, limit, offset)
    if query and "hashtags" in wanted and not _is_address(query):
        names = await request.app[DB].read(
            lambda c: hashtags.search_hashtags(c, query, limit, offset)
        )
    base = base_url(request)
    viewer_uri = who.actor_uri if who else None

    def render(c: sqlite_utils.Database) -> dict[str, Any]:
        ctx = serialize.load_statuses(c, rows, viewer_uri, base)
        return {
            "accounts": accounts_json(c, base, actors),
            "statuses": serialize.statuses_json(ctx, rows),
            "hashtags": tags_json(c, base, names, viewer_uri),
        }

    return web.json_response(await request.app[DB].read(render))


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v2/search", search)]
