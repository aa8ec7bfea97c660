"""How a newcomer finds the conversations of the square: trends, hashtags, people.

``/explore`` shows the tags and posts trending here (the ranking and windows
the client API's trends use), ``/tags/{name}`` a hashtag's posts with a
follow button (followed tags feed the home timeline), and ``/directory`` the
local people who chose to be listed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import sqlite_utils
from aiohttp import web

from agora_node.actions import tags as tag_actions
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import NotFound
from agora_node.processing.trends import DAY, STATUS_DAYS, TAG_DAYS, tag_name
from agora_node.store import accounts as accounts_store
from agora_node.store import discovery
from agora_node.store import hashtags as hashtags_store
from agora_node.web.rendering import page
from agora_node.web.session import form, required_visitor, visitor
from agora_node.web.views import caller_for, page_param, statuses_page

_TRENDING_TAGS = 10
_TRENDING_POSTS = 20
_DIRECTORY_PAGE = 40
_TAG_ACTIONS = {"follow": tag_actions.follow_tag, "unfollow": tag_actions.unfollow_tag}


async def explore(request: web.Request) -> web.Response:
    who = await visitor(request)
    viewer_uri = who.actor_uri if who else None
    base, now = request.app[SETTINGS].base_url, time.time()

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        tags = discovery.trending_tags(c, now - TAG_DAYS * DAY, _TRENDING_TAGS, 0)
        rows = discovery.trending_statuses(
            c, now - STATUS_DAYS * DAY, viewer_uri, _TRENDING_POSTS, 0
        )
        ctx = serialize.load_statuses(c, rows, viewer_uri, base)
        return {"tags": tags, "statuses": serialize.statuses_json(ctx, rows)}

    found = await request.app[DB].read(load)
    return await page(request, "explore.html", found, title="Explore")


async def tag_page(request: web.Request) -> web.Response:
    name = tag_name(request.match_info["name"])
    who = await visitor(request)
    viewer_uri = who.actor_uri if who else None
    wanted = page_param(request)
    statuses, older = await statuses_page(
        request,
        viewer_uri,
        lambda c: hashtags_store.tag_timeline(c, name, wanted, viewer_uri=viewer_uri),
        "public",
    )
    following = (
        await request.app[DB].read(
            lambda c: bool(hashtags_store.followed_among(c, viewer_uri, [name]))
        )
        if viewer_uri
        else False
    )
    return await page(
        request,
        "tag.html",
        {
            "name": name,
            "statuses": statuses,
            "older": older,
            "following": following,
            "stream": "" if wanted.max_id else f"hashtag?tag={quote(name)}",
        },
        title=f"#{name}",
    )


async def follow_tag(request: web.Request) -> web.Response:
    name = tag_name(request.match_info["name"])
    who = await required_visitor(request)
    await form(request)
    change = _TAG_ACTIONS.get(request.match_info["action"])
    if change is None:
        raise NotFound("no such action")
    await change(caller_for(request, who), name)
    raise web.HTTPSeeOther(f"/tags/{name}")


async def directory(request: web.Request) -> web.Response:
    raw = request.query.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 1
    base = request.app[SETTINGS].base_url
    offset = (number - 1) * _DIRECTORY_PAGE

    def load(c: sqlite_utils.Database) -> tuple[list[dict[str, Any]], bool]:
        # One more than a page tells whether there is a next one.
        actors = accounts_store.local_directory(c, _DIRECTORY_PAGE + 1, offset)
        shown = actors[:_DIRECTORY_PAGE]
        ctx = serialize.accounts_rendering(c, shown, base)
        return [serialize.account_json(ctx, a) for a in shown], len(actors) > len(shown)

    found, more = await request.app[DB].read(load)
    return await page(
        request,
        "directory.html",
        {"accounts": found, "older": f"/directory?page={number + 1}" if more else None},
        title="Directory",
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/explore", explore),
        web.get("/tags/{name}", tag_page),
        web.post("/tags/{name}/{action}", follow_tag),
        web.get("/directory", directory),
    ]
