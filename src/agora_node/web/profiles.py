"""Profile pages of local and remote accounts, their follow lists, and the
follow, block and mute buttons.

``/@name`` is one of ours, ``/@name@host`` one we know from elsewhere (an
account never seen here is found through search first). The buttons post
to the actions the client API calls (``actions.social``).
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import social
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import Gone, NotFound
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.visibility import may_list_relations
from agora_node.store import accounts as accounts_store
from agora_node.store import relationships as relationships_store
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import ActorRow
from agora_node.store.relationships import Standing
from agora_node.web.rendering import page
from agora_node.web.session import form, required_visitor, visitor
from agora_node.web.views import caller_for, older_link, page_param, statuses_page

_ACTIONS = ("follow", "unfollow", "block", "unblock", "mute", "unmute")


async def _actor(request: web.Request) -> ActorRow:
    """The account the path names: ``name`` (local) or ``name@host``."""
    acct = (request.match_info.get("acct") or request.match_info["name"]).removeprefix("@")
    name, _, host = acct.partition("@")
    domain = request.app[SETTINGS].domain
    host = host.lower()

    def find(c: sqlite_utils.Database) -> ActorRow | None:
        if not host or host == domain.lower():
            account = accounts_store.get_account_by_username(c, name)
            if account is None or account.deleted_at is not None:
                return None
            if account.suspended_at is not None:
                raise Gone("this account has been suspended by the admins of this server")
            return account.actor
        return accounts_store.get_actor_by_acct(c, name, host)

    actor = await request.app[DB].read(find)
    if actor is None or actor.deleted_at is not None:
        raise NotFound("no such account here; search for it to look it up on its server")
    return actor


def _buttons(standing: Standing | None) -> list[tuple[str, str, bool]]:
    if standing is None:
        return []
    if standing.blocking:
        return [("unblock", "Unblock", True)]
    follow = (
        ("unfollow", "Unfollow", True)
        if standing.following
        else ("unfollow", "Cancel follow request", True)
        if standing.requested
        else ("follow", "Follow", False)
    )
    mute = ("unmute", "Unmute", True) if standing.muting else ("mute", "Mute", False)
    return [follow, mute, ("block", "Block", False)]


async def profile(request: web.Request) -> web.Response:
    actor = await _actor(request)
    who = await visitor(request)
    viewer_uri = who.actor_uri if who else None
    wanted = page_param(request)
    base = request.app[SETTINGS].base_url

    def load(c: sqlite_utils.Database) -> tuple[dict[str, Any], Standing | None]:
        account = serialize.account_json(serialize.account_rendering(c, actor, base), actor)
        standing = (
            relationships_store.standings(c, viewer_uri, [actor.uri])[actor.uri]
            if viewer_uri and viewer_uri != actor.uri
            else None
        )
        return account, standing

    account, standing = await request.app[DB].read(load)
    statuses, older = await statuses_page(
        request,
        viewer_uri,
        lambda c: statuses_store.account_statuses(c, actor.uri, viewer_uri, wanted),
        "account",
    )
    domain = request.app[SETTINGS].domain
    handle = f"@{actor.username}@{domain}" if actor.local else f"@{actor.acct}"
    resp = await page(
        request,
        "profile.html",
        {
            "account": account,
            "handle": handle,
            "own": viewer_uri == actor.uri,
            "standing": standing,
            "buttons": _buttons(standing),
            "statuses": statuses,
            "older": older,
        },
        title=f"{account['display_name'] or actor.username} ({handle})",
    )
    if actor.local:
        resp.headers["Link"] = f'<{actor.uri}>; rel="alternate"; type="application/activity+json"'
    return resp


async def relation(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in _ACTIONS:
        raise NotFound("no such action")
    who = await required_visitor(request)
    actor = await _actor(request)
    await form(request)
    caller = caller_for(request, who)
    change = {
        "follow": social.follow,
        "unfollow": social.unfollow,
        "block": social.block,
        "unblock": social.unblock,
    }.get(action)
    if change is not None:
        await change(caller, actor.uri)
        request.app[DELIVERY_WAKE].set()
    elif action == "mute":
        await social.mute(caller, actor.uri)
    else:
        await social.unmute(caller, actor.uri)
    raise web.HTTPSeeOther(f"/@{actor.username if actor.local else actor.acct}")


async def _listed(request: web.Request, kind: str) -> web.Response:
    actor = await _actor(request)
    wanted = page_param(request)
    base = request.app[SETTINGS].base_url
    if not actor.local:
        raise web.HTTPSeeOther(actor.url or actor.uri)
    who = await visitor(request)
    hidden = await request.app[DB].read(lambda c: accounts_store.hides_collections(c, actor.uri))
    name = actor.display_name or actor.username
    heading = f"{'Followers of' if kind == 'followers' else 'Followed by'} {name}"
    if not may_list_relations(actor.uri, who.actor_uri if who else None, hidden):
        return await page(
            request,
            "message.html",
            {"heading": heading, "message": f"{name} keeps this list to themselves."},
            title=heading,
        )

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        pairs = relationships_store.actors_listed(c, kind, actor.uri, wanted)
        ctx = serialize.accounts_rendering(c, [a for _, a in pairs], base)
        return [i for i, _ in pairs], [serialize.account_json(ctx, a) for _, a in pairs]

    ids, accounts = await request.app[DB].read(load)
    return await page(
        request,
        "accounts.html",
        {"heading": heading, "accounts": accounts, "older": older_link(request, ids)},
        title=heading,
    )


async def followers(request: web.Request) -> web.Response:
    return await _listed(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _listed(request, "following")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/@{acct}", profile),
        web.get("/@{acct}/followers", followers),
        web.get("/@{acct}/following", following),
        web.post("/@{acct}/{action}", relation),
    ]
