"""Polls for Mastodon clients: ``GET /api/v1/polls/{id}`` and voting
(``POST /api/v1/polls/{id}/votes`` with ``choices[]``). A poll's id is its
post's; the rules of voting are in ``processing.polls``."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import posts
from agora_node.api.requests import (
    as_id,
    base_url,
    body_params,
    caller_of,
    maybe_signed_in,
    path_id,
    signed_in,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import statuses as statuses_store
from agora_node.store.objects import ObjectRow


async def _poll_post(request: web.Request, viewer_uri: str | None) -> ObjectRow:
    object_id = path_id(request)
    row = await request.app[DB].read(
        lambda c: statuses_store.get_status_for(c, object_id, viewer_uri)
    )
    if row is None or row.boost_of is not None:
        raise NotFound("Record not found")
    return row


async def _rendered(request: web.Request, viewer_uri: str | None) -> dict[str, Any]:
    row = await _poll_post(request, viewer_uri)
    base = base_url(request)

    def render(c: sqlite_utils.Database) -> dict[str, Any] | None:
        fresh = statuses_store.get_status_for(c, row.id, viewer_uri) or row
        return serialize.poll_json(serialize.load_statuses(c, [fresh], viewer_uri, base), fresh)

    body = await request.app[DB].read(render)
    if body is None:
        raise NotFound("Record not found")
    return body


async def get_poll(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    return web.json_response(await _rendered(request, viewer.actor_uri if viewer else None))


async def vote(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:statuses")
    row = await _poll_post(request, who.actor_uri)
    params = await body_params(request)
    raw = params.get("choices")
    values = raw if isinstance(raw, list) else [] if raw is None else [raw]
    choices = [as_id(v) for v in values]
    if any(c is None for c in choices):
        raise UnprocessableEntity("choices must be option numbers")
    await posts.vote(caller_of(request, who), row.uri, [c for c in choices if c is not None])
    request.app[DELIVERY_WAKE].set()
    return web.json_response(await _rendered(request, who.actor_uri))


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/polls/{id:\d+}"
    return [web.get(one, get_poll), web.post(f"{one}/votes", vote)]
