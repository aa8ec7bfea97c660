"""The instance's own pages: the front page, about and rules, and its theme.

The front page introduces the node to a newcomer: its name, description,
rules, whether and how one can join, who runs it, and the latest public
posts by people here. ``/theme.css`` carries the accent colour from config,
so the stylesheet stays static and no style is inline.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.context import DB, INSTANCE, SETTINGS
from agora_node.store import accounts as accounts_store
from agora_node.store import timelines as timelines_store
from agora_node.store.timelines import Page
from agora_node.web.rendering import page
from agora_node.web.session import visitor
from agora_node.web.theme import stylesheet
from agora_node.web.views import statuses_page

# Posts of the local timeline the front page shows.
_PREVIEW = 5


def _about(request: web.Request) -> dict[str, object]:
    inst = request.app[INSTANCE].current
    return {
        "description": inst.description,
        "domain": request.app[SETTINGS].domain,
        "rules": inst.rules,
        "registration": inst.registration,
        "contact": inst.admin_contact,
    }


async def home(request: web.Request) -> web.Response:
    who = await visitor(request)
    viewer_uri = who.actor_uri if who else None
    statuses, _ = await statuses_page(
        request,
        viewer_uri,
        lambda c: timelines_store.public(
            c, Page(limit=_PREVIEW), local=True, viewer_uri=viewer_uri
        ),
    )
    people = await request.app[DB].read(accounts_store.count_live_accounts)
    return await page(
        request,
        "front.html",
        {**_about(request), "statuses": statuses, "people": people},
        title=request.app[INSTANCE].current.name,
    )


async def about(request: web.Request) -> web.Response:
    return await page(request, "about.html", _about(request), title="About")


async def theme(request: web.Request) -> web.Response:
    return web.Response(
        text=stylesheet(request.app[INSTANCE].current.accent_color),
        content_type="text/css",
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


def routes() -> list[web.RouteDef]:
    return [web.get("/", home), web.get("/about", about), web.get("/theme.css", theme)]
