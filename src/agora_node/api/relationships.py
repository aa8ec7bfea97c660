"""Following, blocking and follow requests for Mastodon clients.

``/api/v1/accounts/{id}/follow`` and its siblings answer with the
Relationship entity after calling the shared social actions; asking for what
is already so (following someone followed, unblocking someone not blocked)
answers with the relationship as it stands, as Mastodon does. Lists
(blocks, follow requests) page like every other list.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import social
from agora_node.api import serialize
from agora_node.api.requests import (
    SignedIn,
    as_id,
    base_url,
    caller_of,
    list_response,
    page_of,
    path_id,
    signed_in,
)
from agora_node.context import DB
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import relationships as relationships_store
from agora_node.store.accounts import ActorRow
from agora_node.store.relationships import Standing

_MAX_IDS = 100


def relationship_json(actor: ActorRow, standing: Standing) -> dict[str, Any]:
    return {
        "id": str(actor.id),
        "following": standing.following,
        "showing_reblogs": standing.following,
        "notifying": False,
        "languages": None,
        "followed_by": standing.followed_by,
        "blocking": standing.blocking,
        "blocked_by": standing.blocked_by,
        "muting": False,
        "muting_notifications": False,
        "requested": standing.requested,
        "requested_by": standing.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": "",
    }


async def actor_in_path(request: web.Request) -> ActorRow:
    """The account named by id in the path (404 when unknown or deleted)."""
    actor_id = path_id(request)

    found = await request.app[DB].read(
        lambda c: accounts_store.get_live_actors_by_ids(c, [actor_id])
    )
    actor = found.get(actor_id)
    if actor is None:
        raise NotFound("Record not found")
    return actor


async def _answer(request: web.Request, who: SignedIn, actor: ActorRow) -> web.Response:
    facts = await request.app[DB].read(
        lambda c: relationships_store.standings(c, who.actor_uri, [actor.uri])
    )
    return web.json_response(relationship_json(actor, facts[actor.uri]))


async def _change(request: web.Request, scope: str, kind: str) -> web.Response:
    who = await signed_in(request, scope)
    actor = await actor_in_path(request)
    if actor.uri == who.actor_uri:
        raise UnprocessableEntity("Validation failed: that is your own account")
    facts = await request.app[DB].read(
        lambda c: relationships_store.standings(c, who.actor_uri, [actor.uri])
    )
    now = facts[actor.uri]
    caller = caller_of(request, who)
    if kind == "follow" and not (now.following or now.requested):
        await social.follow(caller, actor.uri)
    elif kind == "unfollow" and (now.following or now.requested):
        await social.unfollow(caller, actor.uri)
    elif kind == "block" and not now.blocking:
        await social.block(caller, actor.uri)
    elif kind == "unblock" and now.blocking:
        await social.unblock(caller, actor.uri)
    elif kind in ("remove_from_followers", "reject") and (now.followed_by or now.requested_by):
        await social.reject_follower(caller, actor.uri)
    elif kind == "authorize":
        if not now.requested_by:
            raise NotFound("Record not found")
        await social.accept_follower(caller, actor.uri)
    request.app[DELIVERY_WAKE].set()
    return await _answer(request, who, actor)


def _changer(scope: str, kind: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The view for one change (``kind``), needing ``scope``."""

    async def view(request: web.Request) -> web.Response:
        return await _change(request, scope, kind)

    return view


async def relationships(request: web.Request) -> web.Response:
    """``?id[]=1&id[]=2`` (or ``id=1``): the signed-in account's standing with each."""
    who = await signed_in(request, "read:follows")
    raw = [*request.query.getall("id[]", []), *request.query.getall("id", [])]
    ids = [i for i in (as_id(v) for v in raw) if i is not None][:_MAX_IDS]

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        by_id = accounts_store.get_live_actors_by_ids(c, ids)
        found = [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
        facts = relationships_store.standings(c, who.actor_uri, [a.uri for a in found])
        return [relationship_json(a, facts[a.uri]) for a in found]

    return web.json_response(await request.app[DB].read(load))


async def listed(request: web.Request, who_uri: str, kind: str) -> web.Response:
    """A page of accounts (followers, following, requests, blocks) as Account entities."""
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = relationships_store.actors_listed(c, kind, who_uri, page)
        actors = [a for _, a in rows]
        ctx = serialize.accounts_rendering(c, actors, base)
        return [i for i, _ in rows], [serialize.account_json(ctx, a) for a in actors]

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def blocks(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:blocks", "follow")
    return await listed(request, who.actor_uri, "blocks")


async def follow_requests(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:follows", "follow")
    return await listed(request, who.actor_uri, "requests")


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/accounts/{id:\d+}"
    request = r"/api/v1/follow_requests/{id:\d+}"
    return [
        web.post(f"{one}/follow", _changer("write:follows", "follow")),
        web.post(f"{one}/unfollow", _changer("write:follows", "unfollow")),
        web.post(f"{one}/block", _changer("write:blocks", "block")),
        web.post(f"{one}/unblock", _changer("write:blocks", "unblock")),
        web.post(
            f"{one}/remove_from_followers", _changer("write:follows", "remove_from_followers")
        ),
        web.get("/api/v1/accounts/relationships", relationships),
        web.get("/api/v1/blocks", blocks),
        web.get("/api/v1/follow_requests", follow_requests),
        web.post(f"{request}/authorize", _changer("write:follows", "authorize")),
        web.post(f"{request}/reject", _changer("write:follows", "reject")),
    ]
