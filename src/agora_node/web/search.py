"""The search page: find people (here or, by handle, on any server), posts and hashtags.

Signed in, a handle like ``bob@example.social`` or a post's address is
looked up on its server (as the client API's ``resolve``), so a person can
paste either and then follow, reply or boost; anonymous visitors search only
what this node holds.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import search as finding
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import BadRequest
from agora_node.web.rendering import page
from agora_node.web.session import visitor
from agora_node.web.views import caller_for

_LIMIT = 20
_MAX_QUERY = 500


async def search(request: web.Request) -> web.Response:
    who = await visitor(request)
    query = request.query.get("q", "").strip()
    if len(query) > _MAX_QUERY:
        raise BadRequest(f"the search is longer than {_MAX_QUERY} characters")
    caller = caller_for(request, who) if who else None
    found = await finding.search(request.app[DB], caller, query, limit=_LIMIT, resolve=True)
    base = request.app[SETTINGS].base_url
    viewer_uri = who.actor_uri if who else None

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        ctx = serialize.load_statuses(c, found.posts, viewer_uri, base)
        people = serialize.accounts_rendering(c, found.accounts, base)
        return {
            "accounts": [serialize.account_json(people, a) for a in found.accounts],
            "statuses": serialize.statuses_json(ctx, found.posts),
            "hashtags": found.hashtags,
        }

    results = await request.app[DB].read(load)
    return await page(
        request,
        "search.html",
        {"query": query, **results},
        title=f"Search: {query}" if query else "Search",
    )


def routes() -> list[web.RouteDef]:
    return [web.get("/search", search)]
