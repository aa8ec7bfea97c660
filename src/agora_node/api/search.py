"""``/api/v2/search``: accounts, statuses and hashtags in one answer
(``actions.search`` finds them; this translates the query and the answer).

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

from agora_node.actions import search as finding
from agora_node.api.accounts import accounts_json
from agora_node.api.requests import (
    base_url,
    caller_of,
    flag,
    int_query,
    maybe_signed_in,
)
from agora_node.api.tags import tags_json
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import BadRequest

_LIMIT = 40
_MAX_QUERY = 500


async def search(request: web.Request) -> web.Response:
    who = await maybe_signed_in(request, "read:search")
    query = request.query.get("q", "").strip()
    if len(query) > _MAX_QUERY:
        raise BadRequest(f"q is longer than {_MAX_QUERY} characters")
    kind = request.query.get("type", "")
    if kind and kind not in finding.KINDS:
        raise BadRequest(f"type must be one of {', '.join(finding.KINDS)}")
    limit = max(1, int_query(request, "limit", 20, _LIMIT))
    offset = int_query(request, "offset", 0, 10_000)
    if offset and who is None:
        raise BadRequest("offset needs a signed-in caller")
    caller = caller_of(request, who) if who else None
    found = await finding.search(
        request.app[DB], caller, query, kinds=[kind] if kind else finding.KINDS,
        limit=limit, offset=offset, resolve=flag(request, "resolve"),
    )  # fmt: skip
    base = base_url(request)
    viewer_uri = who.actor_uri if who else None

    def render(c: sqlite_utils.Database) -> dict[str, Any]:
        ctx = serialize.load_statuses(c, found.posts, viewer_uri, base)
        return {
            "accounts": accounts_json(c, base, found.accounts),
            "statuses": serialize.statuses_json(ctx, found.posts),
            "hashtags": tags_json(c, base, found.hashtags, viewer_uri),
        }

    return web.json_response(await request.app[DB].read(render))


def routes() -> list[web.RouteDef]:
    return [web.get("/api/v2/search", search)]
