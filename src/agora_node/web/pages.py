"""The front page and profile pages, for people with a browser."""

from __future__ import annotations

from aiohttp import web

from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import Gone, NotFound
from agora_node.store import accounts as accounts_store
from agora_node.store import collections as coll_store
from agora_node.web.rendering import render


async def profile(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    account = await request.app[DB].read(
        lambda db: accounts_store.get_account_by_username(db, name)
    )
    if account is None or account.actor is None:
        raise NotFound("no such account")
    if account.deleted_at is not None:
        raise Gone("this account has been deleted")
    actor = account.actor
    followers, following, posts = await request.app[DB].read(
        lambda db: (
            coll_store.count_followers(db, actor.uri),
            coll_store.count_following(db, actor.uri),
            coll_store.count_outbox(db, actor.uri, ("public",)),
        )
    )
    resp = render(
        request,
        "profile.html",
        {
            "actor": actor,
            "handle": f"@{account.username}@{settings.domain}",
            "posts": posts,
            "followers": followers,
            "following": following,
        },
        title=actor.display_name or account.username,
        site_name=settings.instance.name,
    )
    resp.headers["Link"] = (
        f'<{urls.actor(account.username)}>; rel="alternate"; type="application/activity+json"'
    )
    return resp


async def home(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    accounts = await request.app[DB].read(accounts_store.list_accounts)
    return render(
        request,
        "home.html",
        {
            "description": settings.instance.description,
            "domain": settings.domain,
            "accounts": [a for a in accounts if a.deleted_at is None],
        },
        title=settings.instance.name,
        site_name=settings.instance.name,
    )


def routes() -> list[web.RouteDef]:
    return [web.get("/", home), web.get("/@{name}", profile)]
