"""Accounts for Mastodon clients: the signed-in person's own, and anyone's by id.

Account ids are actor row ids, so local and remote accounts share one id
space; the entity is rendered by ``api/serialize.py`` in one shape everywhere.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.api import serialize
from agora_node.api.requests import base_url, maybe_signed_in, path_id, signed_in
from agora_node.context import DB
from agora_node.errors import NotFound
from agora_node.store import accounts as accounts_store
from agora_node.store import timelines as timelines_store


async def verify_credentials(request: web.Request) -> web.Response:
    who = await signed_in(request, "profile", "read:accounts")
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        actor = who.account.actor
        assert actor is not None
        return serialize.credential_account_json(serialize.account_rendering(c, actor, base), actor)

    return web.json_response(await request.app[DB].read(load))


async def get_account(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    actor_id = path_id(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        uri = timelines_store.get_actor_uri_by_id(c, actor_id)
        actor = accounts_store.get_actor_by_uri(c, uri) if uri else None
        if actor is None:
            return None
        return serialize.account_json(serialize.account_rendering(c, actor, base), actor)

    body = await request.app[DB].read(load)
    if body is None:
        raise NotFound("Record not found")
    return web.json_response(body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/accounts/verify_credentials", verify_credentials),
        web.get(r"/api/v1/accounts/{id:\d+}", get_account),
    ]
