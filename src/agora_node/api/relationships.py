"""Following, blocking, muting, notes and follow requests for Mastodon clients.

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
from agora_node.api.requests import (
    SignedIn,
    as_id,
    base_url,
    body_params,
    bool_param,
    caller_of,
    int_param,
    list_response,
    page_of,
    path_id,
    signed_in,
    text_param,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import mutes as mutes_store
from agora_node.store import relationships as relationships_store
from agora_node.store.accounts import ActorRow
from agora_node.store.relationships import Standing

_MAX_IDS = 100


def relationship_json(actor: ActorRow, standing: Standing) -> dict[str, Any]:
    return {
        "id": str(actor.id),
        "following": standing.following,
        "showing_reblogs": standing.showing_reblogs,
        "notifying": standing.notifying,
        "languages": None,
        "followed_by": standing.followed_by,
        "blocking": standing.blocking,
        "blocked_by": standing.blocked_by,
        "muting": standing.muting,
        "muting_notifications": standing.muting_notifications,
        "requested": standing.requested,
        "requested_by": standing.requested_by,
        "domain_blocking": False,
        "endorsed": False,
        "note": standing.note,
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
    reblogs = notify = None
    if kind == "follow":
        params = await body_params(request)
        reblogs = None if params.get("reblogs") is None else bool_param(params, "reblogs")
        notify = None if params.get("notify") is None else bool_param(params, "notify")
    if kind == "follow" and not (now.following or now.requested):
        await social.follow(caller, actor.uri)
    if kind == "follow" and (reblogs is not None or notify is not None):
        await social.follow_options(caller, actor.uri, reblogs=reblogs, notify=notify)
    elif kind == "unfollow" and (now.following or now.requested):
        await social.unfollow(caller, actor.uri)
    elif kind == "block" and not now.blocking:
        await social.block(caller, actor.uri)
    elif kind == "unblock" and now.blocking:
        await social.unblock(caller, actor.uri)
    elif kind in ("remove_from_followers", "reject") and (now.followed_by or now.requested_by):
        await social.reject_follower(caller, actor.uri)
    elif kind == "authorize":
        await social.answer_request(caller, actor.uri, accept=True)
    request.app[DELIVERY_WAKE].set()
    return await _answer(request, who, actor)


# The longest mute one can ask for by ``duration``: Mastodon's form offers up to
# a week; a longer one is just an endless mute with extra steps, but allowed.
_MAX_MUTE_SECONDS = 10 * 365 * 86400


async def mute(request: web.Request) -> web.Response:
    """``notifications`` (default true), ``duration`` in seconds (0 or absent: until unmuted)."""
    who = await signed_in(request, "write:mutes", "follow")
    actor = await actor_in_path(request)
    params = await body_params(request)
    notifications = bool_param(params, "notifications", default=True)
    duration = int_param(params, "duration", default=0, high=_MAX_MUTE_SECONDS)
    await social.mute(
        caller_of(request, who), actor.uri, notifications=notifications, duration=duration or None
    )
    return await _answer(request, who, actor)


async def unmute(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:mutes", "follow")
    actor = await actor_in_path(request)
    await social.unmute(caller_of(request, who), actor.uri)
    return await _answer(request, who, actor)


async def note(request: web.Request) -> web.Response:
    """A private note on the account (``comment``; empty removes it)."""
    who = await signed_in(request, "write:accounts")
    actor = await actor_in_path(request)
    comment = text_param(await body_params(request), "comment")
    await social.note_on(caller_of(request, who), actor.uri, comment)
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
    """A page of accounts (followers, following, requests, blocks, mutes) as Account
    entities; muted accounts say when their mute ends (``mute_expires_at``)."""
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = relationships_store.actors_listed(c, kind, who_uri, page)
        actors = [a for _, a in rows]
        ctx = serialize.accounts_rendering(c, actors, base)
        body = [serialize.account_json(ctx, a) for a in actors]
        if kind == "mutes":
            muted = mutes_store.mutes_among(c, who_uri, [a.uri for a in actors])
            for account, actor in zip(body, actors, strict=True):
                ends = muted[actor.uri].expires_at if actor.uri in muted else None
                account["mute_expires_at"] = serialize.iso(ends)
        return [i for i, _ in rows], body

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def blocks(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:blocks", "follow")
    return await listed(request, who.actor_uri, "blocks")


async def mutes(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:mutes", "follow")
    return await listed(request, who.actor_uri, "mutes")


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
        web.post(f"{one}/mute", mute),
        web.post(f"{one}/unmute", unmute),
        web.post(f"{one}/note", note),
        web.get("/api/v1/accounts/relationships", relationships),
        web.get("/api/v1/mutes", mutes),
        web.get("/api/v1/blocks", blocks),
        web.get("/api/v1/follow_requests", follow_requests),
        web.post(f"{request}/authorize", _changer("write:follows", "authorize")),
        web.post(f"{request}/reject", _changer("write:follows", "reject")),
    ]
