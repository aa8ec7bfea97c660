"""A person's own lists as pages: notifications, follow requests, bookmarks, favourites.

Notifications are the ones the client API lists (``store.notifications``,
rendered by ``entities.serialize``); viewing the newest page moves the
``notifications`` read marker, as an app does. Follow requests are approved
or refused through ``actions.social.answer_request``, the API's own action.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import social
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import NotFound
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import client_state
from agora_node.store import notifications as notifications_store
from agora_node.store import relationships as relationships_store
from agora_node.store.timelines import Page
from agora_node.web.rendering import page
from agora_node.web.session import form, required_visitor
from agora_node.web.views import caller_for, older_link, page_param

# Pending follow requests shown above the notifications.
_REQUESTS_SHOWN = 40
_ANSWERS = {"authorize": True, "reject": False}


async def notifications(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    wanted = page_param(request)
    base = request.app[SETTINGS].base_url
    first = wanted.max_id is None

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        rows = notifications_store.notifications(c, who.account.id, who.actor_uri, wanted)
        ctx = serialize.load_notifications(c, rows, who.actor_uri, base)
        pending = (
            relationships_store.actors_listed(
                c, "requests", who.actor_uri, Page(limit=_REQUESTS_SHOWN)
            )
            if first
            else []
        )
        people = serialize.accounts_rendering(c, [a for _, a in pending], base)
        return {
            "ids": [r.id for r in rows],
            "notifications": serialize.notifications_json(ctx, rows),
            "requests": [serialize.account_json(people, a) for _, a in pending],
        }

    found = await request.app[DB].read(load)
    ids = found.pop("ids")
    if first and ids:
        newest, now = max(ids), time.time()
        await request.app[DB].write(
            lambda c: client_state.set_marker(c, who.account.id, "notifications", newest, now)
        )
    return await page(
        request,
        "notifications.html",
        {**found, "older": older_link(request, ids)},
        title="Notifications",
    )


async def answer_request(request: web.Request) -> web.Response:
    answer = _ANSWERS.get(request.match_info["answer"])
    raw = request.match_info["id"]
    if answer is None or not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such follow request")
    who = await required_visitor(request)
    await form(request)
    actor = await request.app[DB].read(
        lambda c: accounts_store.get_live_actors_by_ids(c, [int(raw)]).get(int(raw))
    )
    if actor is None:
        raise NotFound("no such follow request")
    await social.answer_request(caller_for(request, who), actor.uri, accept=answer)
    request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther("/notifications")


async def _marked(request: web.Request, kind: str, heading: str, empty: str) -> web.Response:
    who = await required_visitor(request)
    wanted = page_param(request)
    base = request.app[SETTINGS].base_url

    ids, statuses = await request.app[DB].read(
        lambda c: serialize.load_marked_statuses(c, kind, who.actor_uri, wanted, base)
    )
    return await page(
        request,
        "timeline.html",
        {
            "heading": heading,
            "intro": "",
            "statuses": statuses,
            "older": older_link(request, ids),
            "show_compose": False,
            "default_visibility": "public",
            "empty": empty,
            "stream": "",
        },
        title=heading,
    )


async def bookmarks(request: web.Request) -> web.Response:
    return await _marked(
        request, "bookmarks", "Bookmarks", "No bookmarks yet: bookmark a post to keep it here."
    )


async def favourites(request: web.Request) -> web.Response:
    return await _marked(request, "favourites", "Favourites", "You have not favourited a post.")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/notifications", notifications),
        web.post("/follow_requests/{id}/{answer}", answer_request),
        web.get("/bookmarks", bookmarks),
        web.get("/favourites", favourites),
    ]
