"""One's own domain blocks for Mastodon clients: ``/api/v1/domain_blocks``.

``GET`` lists the blocked servers' names (newest first, paged like every
list, with a ``Link`` header); ``POST`` with ``domain`` blocks one
(``actions.social.block_domain``: its accounts leave one's timelines and
notifications, follows both ways end); ``DELETE`` with ``domain`` lifts it.
Both answer ``{}``, as Mastodon does.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.actions import social
from agora_node.api.requests import (
    body_params,
    caller_of,
    json_answer,
    list_response,
    page_of,
    signed_in,
    text_param,
)
from agora_node.context import DB
from agora_node.errors import UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import moderation as moderation_store


async def list_blocks(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:blocks", "follow")
    page = page_of(request)
    bounds = page.bounds()
    rows = await request.app[DB].read(
        lambda c: moderation_store.domain_blocks_of(
            c, who.actor_uri, bounds["lower"], bounds["upper"], bounds["limit"], page.ascending
        )
    )
    if page.ascending:
        rows.reverse()
    return list_response(request, [i for i, _ in rows], [d for _, d in rows])


async def _domain(request: web.Request) -> str:
    params = await body_params(request)
    domain = text_param(params, "domain")
    if not domain.strip():
        raise UnprocessableEntity("Validation failed: domain is missing")
    return domain


async def block(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:blocks", "follow")
    await social.block_domain(caller_of(request, who), await _domain(request))
    request.app[DELIVERY_WAKE].set()
    return json_answer({})


async def unblock(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:blocks", "follow")
    await social.unblock_domain(caller_of(request, who), await _domain(request))
    return json_answer({})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/domain_blocks", list_blocks),
        web.post("/api/v1/domain_blocks", block),
        web.delete("/api/v1/domain_blocks", unblock),
    ]
