"""Direct messages as Mastodon's conversations: ``/api/v1/conversations`` (paged
by each conversation's newest post), removing one, marking one read."""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.api.requests import base_url, list_response, page_of, path_id, signed_in
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound
from agora_node.store import accounts as accounts_store
from agora_node.store import conversations as conversations_store
from agora_node.store.conversations import Conversation


def conversations_json(
    c: sqlite_utils.Database, found: list[Conversation], viewer_uri: str, base: str
) -> list[dict[str, Any]]:
    """Conversation entities, rendered in a fixed number of queries."""
    others = list(dict.fromkeys(uri for conv in found for uri in conv.others))
    ctx = serialize.load_statuses(
        c, [conv.last for conv in found], viewer_uri, base, extra_actors=others
    )
    known = accounts_store.get_actors_by_uris(c, others)
    return [
        {
            "id": str(conv.id),
            "unread": conv.unread,
            "accounts": [
                serialize.account_json(ctx, known[uri]) for uri in conv.others if uri in known
            ],
            "last_status": serialize.status_json(ctx, conv.last),
        }
        for conv in found
    ]


async def list_conversations(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:statuses")
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        found = conversations_store.conversations(c, who.actor_uri, page)
        return [conv.last.id for conv in found], conversations_json(c, found, who.actor_uri, base)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def _change(request: web.Request, read: bool) -> web.Response:
    who = await signed_in(request, "write:conversations")
    conversation_id = path_id(request)
    base = base_url(request)

    def write(c: sqlite_utils.Database) -> None:
        found = conversations_store.conversation(c, who.actor_uri, conversation_id)
        if found is None:
            raise NotFound("Record not found")
        if read:
            conversations_store.mark_read(c, who.actor_uri, found)
        else:
            conversations_store.hide(c, who.actor_uri, found)

    await request.app[DB].write(write)
    if not read:
        return web.json_response({})

    def render(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        fresh = conversations_store.conversation(c, who.actor_uri, conversation_id)
        return conversations_json(c, [fresh] if fresh else [], who.actor_uri, base)

    body = await request.app[DB].read(render)
    if not body:
        raise NotFound("Record not found")
    return web.json_response(body[0])


async def mark_read(request: web.Request) -> web.Response:
    return await _change(request, read=True)


async def remove(request: web.Request) -> web.Response:
    return await _change(request, read=False)


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/conversations/{id:\d+}"
    return [
        web.get("/api/v1/conversations", list_conversations),
        web.delete(one, remove),
        web.post(f"{one}/read", mark_read),
    ]
