"""Hashtags for Mastodon clients: a hashtag's timeline, the Tag entity with its
use over the last week, and following hashtags (their public posts then join
the home timeline, below in ``store.timelines``).

Routes: ``/api/v1/timelines/tag/{hashtag}`` (``local``, ``remote``,
``any[]``, ``all[]``, ``none[]``), ``/api/v1/tags/{name}``, its ``follow``
and ``unfollow``, and ``/api/v1/followed_tags``.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import sqlite_utils
from aiohttp import web

from agora_node.actions import tags as tag_actions
from agora_node.api.requests import (
    base_url,
    caller_of,
    flag,
    list_response,
    maybe_signed_in,
    page_of,
    signed_in,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.processing.trends import TAG_NAME, tag_name
from agora_node.store import hashtags

# What a hashtag may be called (Mastodon's rule: letters, digits, marks, "_", "·").


def tag_json(
    base: str, name: str, days: list[hashtags.TagDay], following: bool | None
) -> dict[str, Any]:
    """Mastodon's Tag; ``following`` only for a signed-in viewer."""
    body: dict[str, Any] = {
        "id": name,
        "name": name,
        "url": f"{base}/tags/{quote(name)}",
        "history": [
            {"day": str(int(d.day)), "uses": str(d.uses), "accounts": str(d.accounts)} for d in days
        ],
    }
    if following is not None:
        body["following"] = following
    return body


def tags_json(
    c: sqlite_utils.Database, base: str, names: list[str], viewer_uri: str | None
) -> list[dict[str, Any]]:
    """Tag entities for ``names`` in two queries."""
    days = hashtags.history(c, names, time.time())
    followed = hashtags.followed_among(c, viewer_uri, names) if viewer_uri else set()
    return [tag_json(base, n, days[n], (n in followed) if viewer_uri else None) for n in names]


def _names(request: web.Request, key: str) -> list[str]:
    raw = [*request.query.getall(f"{key}[]", []), *request.query.getall(key, [])]
    return [n for n in (hashtags.normal_name(v) for v in raw) if TAG_NAME.fullmatch(n)][:10]


async def tag_timeline(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    name = tag_name(request.match_info["hashtag"])
    local = True if flag(request, "local") else False if flag(request, "remote") else None
    page = page_of(request)
    base = base_url(request)
    any_of, all_of, none_of = (
        _names(request, "any"),
        _names(request, "all"),
        _names(request, "none"),
    )

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = hashtags.tag_timeline(
            c, name, page, local=local, viewer_uri=viewer_uri,
            any_of=any_of, all_of=all_of, none_of=none_of,
        )  # fmt: skip
        ctx = serialize.load_statuses(c, rows, viewer_uri, base, filter_context="public")
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def _one(request: web.Request, name: str, viewer_uri: str | None) -> web.Response:
    base = base_url(request)
    (body,) = await request.app[DB].read(lambda c: tags_json(c, base, [name], viewer_uri))
    return web.json_response(body)


async def get_tag(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read")
    name = tag_name(request.match_info["name"])
    return await _one(request, name, viewer.actor_uri if viewer else None)


async def _follow(request: web.Request, follow: bool) -> web.Response:
    who = await signed_in(request, "write:follows", "follow")
    name = tag_name(request.match_info["name"])
    caller = caller_of(request, who)
    await (
        tag_actions.follow_tag(caller, name) if follow else tag_actions.unfollow_tag(caller, name)
    )
    return await _one(request, name, who.actor_uri)


async def follow_tag(request: web.Request) -> web.Response:
    return await _follow(request, True)


async def unfollow_tag(request: web.Request) -> web.Response:
    return await _follow(request, False)


async def followed_tags(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:follows", "follow")
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = hashtags.followed_tags(c, who.actor_uri, page)
        return [i for i, _ in rows], tags_json(c, base, [n for _, n in rows], who.actor_uri)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


def routes() -> list[web.RouteDef]:
    one = "/api/v1/tags/{name}"
    return [
        web.get("/api/v1/timelines/tag/{hashtag}", tag_timeline),
        web.get(one, get_tag),
        web.post(f"{one}/follow", follow_tag),
        web.post(f"{one}/unfollow", unfollow_tag),
        web.get("/api/v1/followed_tags", followed_tags),
    ]
