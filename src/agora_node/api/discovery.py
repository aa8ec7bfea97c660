"""Discovery for Mastodon clients: trends (hashtags, posts, links), follow
suggestions, and featured hashtags.

- ``/api/v1/trends/tags`` (and ``/api/v1/trends``), ``/statuses``, ``/links``:
  computed from the last days here (``store.discovery``), hidden ones left out;
- ``/api/v2/suggestions`` (and v1), ``DELETE /api/v1/suggestions/{id}``;
- ``/api/v1/featured_tags`` list, add, remove, ``/suggestions``, and
  ``/api/v1/accounts/{id}/featured_tags``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import sqlite_utils
from aiohttp import web

from agora_node.api.relationships import actor_in_path
from agora_node.api.requests import (
    base_url,
    body_params,
    int_query,
    maybe_signed_in,
    path_id,
    signed_in,
    text_param,
)
from agora_node.api.tags import tag_json, tags_json
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing.trends import STATUS_DAYS, TAG_DAYS, LinkTrend, tag_name, trending_links
from agora_node.store import discovery
from agora_node.store import hashtags as hashtags_store

DAY = 86400.0
MAX_FEATURED = 10
_LIMITS = {"tags": (10, 20), "statuses": (20, 40), "links": (10, 20)}


def _page(request: web.Request, kind: str) -> tuple[int, int]:
    default, most = _LIMITS[kind]
    return max(1, int_query(request, "limit", default, most)), int_query(request, "offset", 0, 1000)


async def trending_tags(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read")
    limit, offset = _page(request, "tags")
    base = base_url(request)
    now = time.time()

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        found = discovery.trending_tags(c, now - TAG_DAYS * DAY, limit, offset)
        names = [t.name for t in found]
        days = hashtags_store.history(c, names, now)
        return [tag_json(base, n, days[n], None) for n in names]

    return web.json_response(await request.app[DB].read(load))


async def trending_statuses(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    limit, offset = _page(request, "statuses")
    base = base_url(request)
    since = time.time() - STATUS_DAYS * DAY

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        rows = discovery.trending_statuses(c, since, viewer_uri, limit, offset)
        return serialize.statuses_json(serialize.load_statuses(c, rows, viewer_uri, base), rows)

    return web.json_response(await request.app[DB].read(load))


def card_json(link: LinkTrend) -> dict[str, Any]:
    """Mastodon's PreviewCard for a trending link (no page fetched: the address is the title)."""
    return {
        "url": link.url,
        "title": link.url,
        "description": "",
        "type": "link",
        "author_name": "",
        "author_url": "",
        "provider_name": link.host,
        "provider_url": "",
        "html": "",
        "width": 0,
        "height": 0,
        "image": None,
        "image_description": "",
        "embed_url": "",
        "blurhash": None,
        "history": [
            {"day": str(int(day)), "uses": str(uses), "accounts": str(accounts)}
            for day, uses, accounts in link.days
        ],
    }


async def trending_links_view(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read")
    limit, offset = _page(request, "links")
    now = time.time()

    def load(c: sqlite_utils.Database) -> tuple[list[tuple[str, str, float]], set[str]]:
        return discovery.recent_public_posts(c, now - TAG_DAYS * DAY), discovery.hidden(c, "link")

    posts, hidden = await request.app[DB].read(load)
    ranked = trending_links(posts, hidden, now, TAG_DAYS)[offset : offset + limit]
    return web.json_response([card_json(link) for link in ranked])


# -- whom to follow -----------------------------------------------------------------


async def _suggested(request: web.Request) -> list[tuple[dict[str, Any], str]]:
    who = await signed_in(request, "read")
    limit = max(1, int_query(request, "limit", 40, 80))
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> list[tuple[dict[str, Any], str]]:
        picks = discovery.suggestions(c, who.actor_uri, limit)
        ctx = serialize.accounts_rendering(c, [a for a, _, _ in picks], base)
        return [(serialize.account_json(ctx, actor), source) for actor, source, _ in picks]

    return await request.app[DB].read(load)


async def suggestions_v2(request: web.Request) -> web.Response:
    picks = await _suggested(request)
    return web.json_response(
        [
            {
                "source": "past_interactions" if s == "friends_of_friends" else "global",
                "sources": [s if s == "friends_of_friends" else "most_followed"],
                "account": account,
            }
            for account, s in picks
        ]
    )


async def suggestions_v1(request: web.Request) -> web.Response:
    return web.json_response([account for account, _ in await _suggested(request)])


async def dismiss_suggestion(request: web.Request) -> web.Response:
    who = await signed_in(request, "read")
    actor = await actor_in_path(request)
    now = time.time()
    await request.app[DB].write(
        lambda c: discovery.dismiss_suggestion(c, who.actor_uri, actor.uri, now)
    )
    return web.json_response({})


# -- featured hashtags --------------------------------------------------------------


def featured_json(base: str, username: str, tag: discovery.FeaturedTag) -> dict[str, Any]:
    return {
        "id": str(tag.id),
        "name": tag.name,
        "url": f"{base}/@{quote(username)}/tagged/{quote(tag.name)}",
        "statuses_count": str(tag.statuses),
        "last_status_at": serialize.day(tag.last_status_at),
    }


async def _featured_of(request: web.Request, actor_uri: str, username: str) -> web.Response:
    base = base_url(request)
    found = await request.app[DB].read(lambda c: discovery.featured_tags(c, actor_uri))
    return web.json_response([featured_json(base, username, t) for t in found])


async def my_featured(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:accounts")
    return await _featured_of(request, who.actor_uri, who.account.username)


async def account_featured(request: web.Request) -> web.Response:
    actor = await actor_in_path(request)
    return await _featured_of(request, actor.uri, actor.username)


async def feature(request: web.Request) -> web.Response:
    """Feature a hashtag (``name``) on one's profile, at most ``MAX_FEATURED``."""
    who = await signed_in(request, "write:accounts")
    name = text_param(await body_params(request), "name")
    try:
        name = tag_name(name)
    except NotFound:
        raise UnprocessableEntity("Validation failed: name is not a hashtag") from None
    now = time.time()
    base = base_url(request)

    def write(c: sqlite_utils.Database) -> int:
        already = {t.name for t in discovery.featured_tags(c, who.actor_uri)}
        if name not in already and len(already) >= MAX_FEATURED:
            raise UnprocessableEntity(f"Validation failed: at most {MAX_FEATURED} featured tags")
        return discovery.feature_tag(c, who.actor_uri, name, now)

    featured_id = await request.app[DB].write(write)
    found = await request.app[DB].read(lambda c: discovery.featured_tags(c, who.actor_uri))
    (tag,) = [t for t in found if t.id == featured_id]
    return web.json_response(featured_json(base, who.account.username, tag))


async def unfeature(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:accounts")
    featured_id = path_id(request)
    if not await request.app[DB].write(
        lambda c: discovery.unfeature_tag(c, who.actor_uri, featured_id)
    ):
        raise NotFound("Record not found")
    return web.json_response({})


async def featured_suggestions(request: web.Request) -> web.Response:
    """The hashtags one uses most, as Tags (what to feature next)."""
    who = await signed_in(request, "read:accounts")
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        names = discovery.most_used_tags(c, who.actor_uri, MAX_FEATURED)
        return tags_json(c, base, names, who.actor_uri)

    return web.json_response(await request.app[DB].read(load))


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/trends", trending_tags),
        web.get("/api/v1/trends/tags", trending_tags),
        web.get("/api/v1/trends/statuses", trending_statuses),
        web.get("/api/v1/trends/links", trending_links_view),
        web.get("/api/v2/suggestions", suggestions_v2),
        web.get("/api/v1/suggestions", suggestions_v1),
        web.delete(r"/api/v1/suggestions/{id:\d+}", dismiss_suggestion),
        web.get("/api/v1/featured_tags", my_featured),
        web.post("/api/v1/featured_tags", feature),
        web.delete(r"/api/v1/featured_tags/{id:\d+}", unfeature),
        web.get("/api/v1/featured_tags/suggestions", featured_suggestions),
        web.get(r"/api/v1/accounts/{id:\d+}/featured_tags", account_featured),
    ]
