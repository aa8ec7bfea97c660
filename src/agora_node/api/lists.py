"""Lists for Mastodon clients: CRUD, members, the lists holding an account, and
each list's timeline (``/api/v1/timelines/list/{id}``). The rules are in
``actions.lists``; this module reads the forms and writes the List entity.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import lists as list_actions
from agora_node.api.relationships import actor_in_path
from agora_node.api.requests import (
    as_id,
    base_url,
    body_params,
    bool_param,
    caller_of,
    list_response,
    page_of,
    path_id,
    signed_in,
    text_param,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import UnprocessableEntity
from agora_node.store import accounts as accounts_store
from agora_node.store import lists as lists_store
from agora_node.store import relationships as relationships_store
from agora_node.store import timelines as timelines_store
from agora_node.store.lists import ListRow

_MAX_IDS = 100


def list_json(row: ListRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "title": row.title,
        "replies_policy": row.replies_policy,
        "exclusive": row.exclusive,
    }


async def all_lists(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:lists")
    rows = await request.app[DB].read(lambda c: lists_store.lists_of(c, who.actor_uri))
    return web.json_response([list_json(r) for r in rows])


async def get_list(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:lists")
    found = await list_actions.own_list(caller_of(request, who), path_id(request))
    return web.json_response(list_json(found))


def _exclusive(params: dict[str, Any]) -> bool | None:
    return None if params.get("exclusive") in (None, "") else bool_param(params, "exclusive")


async def create_list(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:lists")
    params = await body_params(request)
    row = await list_actions.create_list(
        caller_of(request, who),
        text_param(params, "title"),
        text_param(params, "replies_policy") or "list",
        bool(_exclusive(params)),
    )
    return web.json_response(list_json(row))


async def update_list(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:lists")
    params = await body_params(request)
    title = None if params.get("title") is None else text_param(params, "title")
    row = await list_actions.update_list(
        caller_of(request, who),
        path_id(request),
        title,
        text_param(params, "replies_policy") or None,
        _exclusive(params),
    )
    return web.json_response(list_json(row))


async def delete_list(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:lists")
    await list_actions.delete_list(caller_of(request, who), path_id(request))
    return web.json_response({})


async def members(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:lists")
    found = await list_actions.own_list(caller_of(request, who), path_id(request))
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        pairs = relationships_store.actors_listed(c, "list_members", found.id, page)
        actors = [a for _, a in pairs]
        ctx = serialize.accounts_rendering(c, actors, base)
        return [i for i, _ in pairs], [serialize.account_json(ctx, a) for a in actors]

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def _account_uris(request: web.Request) -> list[str]:
    """``account_ids[]`` in the body or query, as actor ids (422 for unknown ones)."""
    params = await body_params(request)
    raw = params.get("account_ids") or []
    values = raw if isinstance(raw, list) else [raw]
    ids = [as_id(v) for v in values][:_MAX_IDS]
    if not ids or any(i is None for i in ids):
        raise UnprocessableEntity("account_ids must name accounts by id")
    wanted = [i for i in ids if i is not None]
    found = await request.app[DB].read(lambda c: accounts_store.get_live_actors_by_ids(c, wanted))
    if len(found) != len(set(wanted)):
        raise UnprocessableEntity("Validation failed: an account in account_ids is not known")
    return [found[i].uri for i in dict.fromkeys(wanted)]


async def _change_members(request: web.Request, add: bool) -> web.Response:
    who = await signed_in(request, "write:lists")
    list_id = path_id(request)
    uris = await _account_uris(request)
    change = list_actions.add_members if add else list_actions.remove_members
    await change(caller_of(request, who), list_id, uris)
    return web.json_response({})


async def add_members(request: web.Request) -> web.Response:
    return await _change_members(request, add=True)


async def remove_members(request: web.Request) -> web.Response:
    return await _change_members(request, add=False)


async def lists_with_account(request: web.Request) -> web.Response:
    """The caller's lists that hold the account in the path."""
    who = await signed_in(request, "read:lists")
    actor = await actor_in_path(request)
    rows = await request.app[DB].read(lambda c: lists_store.lists_with(c, who.actor_uri, actor.uri))
    return web.json_response([list_json(r) for r in rows])


async def list_timeline(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:lists")
    found = await list_actions.own_list(caller_of(request, who), path_id(request))
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.list_timeline(c, who.actor_uri, found.id, found.replies_policy, page)
        ctx = serialize.load_statuses(c, rows, who.actor_uri, base, filter_context="home")
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/lists/{id:\d+}"
    return [
        web.get("/api/v1/lists", all_lists),
        web.post("/api/v1/lists", create_list),
        web.get(one, get_list),
        web.put(one, update_list),
        web.delete(one, delete_list),
        web.get(f"{one}/accounts", members),
        web.post(f"{one}/accounts", add_members),
        web.delete(f"{one}/accounts", remove_members),
        web.get(r"/api/v1/accounts/{id:\d+}/lists", lists_with_account),
        web.get(r"/api/v1/timelines/list/{id:\d+}", list_timeline),
    ]
