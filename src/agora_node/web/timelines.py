"""The timelines as pages: home (signed in), local, and the town square.

Each is the same query the client API pages through (``store.timelines``),
shown as the visitor may see it; ``?max_id=`` reaches older posts.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from agora_node.store import timelines as timelines_store
from agora_node.web.rendering import page
from agora_node.web.session import required_visitor, visitor
from agora_node.web.views import page_param, statuses_page


async def home(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    wanted = page_param(request)
    statuses, older = await statuses_page(
        request, who.actor_uri, lambda c: timelines_store.home(c, who.actor_uri, wanted), "home"
    )
    defaults = await request.app[DB].read(
        lambda c: accounts_store.get_account_settings(c, who.account.id)
    )
    return await page(
        request,
        "timeline.html",
        {
            "heading": "Home",
            "intro": "",
            "statuses": statuses,
            "older": older,
            "show_compose": True,
            "default_visibility": defaults.privacy,
            "stream": "" if wanted.max_id else "user",
            "empty": "Nothing here yet: follow people, or look around the town square.",
        },
        title="Home",
    )


async def _public(request: web.Request, local: bool | None) -> web.Response:
    who = await visitor(request)
    viewer_uri = who.actor_uri if who else None
    wanted = page_param(request)
    statuses, older = await statuses_page(
        request,
        viewer_uri,
        lambda c: timelines_store.public(c, wanted, local=local, viewer_uri=viewer_uri),
        "public",
    )
    heading = "Local timeline" if local else "Town square"
    intro = (
        "Public posts by people on this server."
        if local
        else "Public posts from this server and every server it hears from."
    )
    return await page(
        request,
        "timeline.html",
        {
            "heading": heading,
            "intro": intro,
            "statuses": statuses,
            "older": older,
            "show_compose": False,
            "default_visibility": "public",
            "stream": "" if wanted.max_id else ("public/local" if local else "public"),
            "empty": "No public posts yet.",
        },
        title=heading,
    )


async def local_timeline(request: web.Request) -> web.Response:
    return await _public(request, True)


async def town_square(request: web.Request) -> web.Response:
    return await _public(request, None)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/home", home),
        web.get("/public/local", local_timeline),
        web.get("/public", town_square),
    ]
