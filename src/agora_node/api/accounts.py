"""Accounts for Mastodon clients: one's own, anyone's by id or handle, their
posts, followers and following, and account search.

Account ids are actor row ids, so local and remote accounts share one id
space; the entity is rendered by ``api/serialize.py`` in one shape everywhere.
A handle with ``resolve=true`` is looked up over WebFinger (signed-in callers
only), so a person can find someone on another server by ``@user@host``.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions.social import account_named
from agora_node.api import serialize
from agora_node.api.relationships import actor_in_path, listed
from agora_node.api.requests import (
    base_url,
    caller_of,
    flag,
    list_response,
    maybe_signed_in,
    page_of,
    signed_in,
)
from agora_node.context import DB, SETTINGS
from agora_node.errors import AgoraError, BadRequest, NotFound
from agora_node.federation.resolve import split_handle
from agora_node.store import accounts as accounts_store
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import ActorRow

_SEARCH_LIMIT = 40


async def verify_credentials(request: web.Request) -> web.Response:
    who = await signed_in(request, "profile", "read:accounts")
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        actor = who.account.actor
        assert actor is not None
        return serialize.credential_account_json(serialize.account_rendering(c, actor, base), actor)

    return web.json_response(await request.app[DB].read(load))


async def _one(request: web.Request, actor: ActorRow) -> web.Response:
    base = base_url(request)
    body = await request.app[DB].read(
        lambda c: serialize.account_json(serialize.account_rendering(c, actor, base), actor)
    )
    return web.json_response(body)


async def get_account(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    return await _one(request, await actor_in_path(request))


async def lookup(request: web.Request) -> web.Response:
    """``?acct=user`` or ``user@host``: a known account by handle, without fetching."""
    await maybe_signed_in(request, "read:accounts")
    acct = request.query.get("acct", "").strip()
    if not acct:
        raise BadRequest("acct is required")
    domain = request.app[SETTINGS].domain
    try:
        user, host = split_handle(acct, domain)
    except AgoraError:
        raise NotFound("Record not found") from None
    actor = await request.app[DB].read(lambda c: accounts_store.get_actor_by_acct(c, user, host))
    if actor is None or actor.deleted_at is not None:
        raise NotFound("Record not found")
    return await _one(request, actor)


async def statuses(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    actor = await actor_in_path(request)
    page = page_of(request)
    replies, reblogs = not flag(request, "exclude_replies"), not flag(request, "exclude_reblogs")
    only_media, pinned = flag(request, "only_media"), flag(request, "pinned")
    tagged = request.query.get("tagged", "").strip() or None
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = statuses_store.account_statuses(
            c, actor.uri, viewer_uri, page, replies=replies, reblogs=reblogs,
            only_media=only_media, pinned=pinned, tagged=tagged,
        )  # fmt: skip
        ctx = serialize.load_statuses(c, rows, viewer_uri, base)
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def followers(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    return await listed(request, (await actor_in_path(request)).uri, "followers")


async def following(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    return await listed(request, (await actor_in_path(request)).uri, "following")


def _int_param(request: web.Request, name: str, default: int, most: int) -> int:
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 9:
        raise BadRequest(f"{name} must be a non-negative integer")
    return min(int(raw), most)


async def search(request: web.Request) -> web.Response:
    """Known accounts by name; with ``resolve=true``, a handle is looked up remotely."""
    who = await signed_in(request, "read:accounts")
    query = request.query.get("q", "").strip().removeprefix("@")
    limit = max(1, _int_param(request, "limit", _SEARCH_LIMIT, _SEARCH_LIMIT))
    offset = _int_param(request, "offset", 0, 10_000)
    if not query:
        return web.json_response([])
    found: list[ActorRow] = []
    if flag(request, "resolve") and "@" in query and offset == 0:
        try:
            found.append(await account_named(caller_of(request, who), query))
        except AgoraError:
            pass  # not found over there: the local matches still answer
    known = await request.app[DB].read(
        lambda c: accounts_store.search_actors(c, query.split("@")[0], limit, offset)
    )
    found += [a for a in known if all(a.uri != f.uri for f in found)]
    base = base_url(request)
    actors = found[:limit]

    def render(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        ctx = serialize.accounts_rendering(c, actors, base)
        return [serialize.account_json(ctx, a) for a in actors]

    return web.json_response(await request.app[DB].read(render))


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/accounts/{id:\d+}"
    return [
        web.get("/api/v1/accounts/verify_credentials", verify_credentials),
        web.get("/api/v1/accounts/lookup", lookup),
        web.get("/api/v1/accounts/search", search),
        web.get(one, get_account),
        web.get(f"{one}/statuses", statuses),
        web.get(f"{one}/followers", followers),
        web.get(f"{one}/following", following),
    ]
