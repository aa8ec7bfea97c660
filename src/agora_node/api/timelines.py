"""Timelines for Mastodon clients.

Routes: ``/api/v1/timelines/home`` (token), ``/api/v1/timelines/public``
(``local`` / ``remote`` flags) and ``/api/v1/timelines/local``,
Lists page by
``max_id`` / ``since_id`` / ``min_id`` / ``limit`` and answer with a ``Link``
header (``rel="next"`` to older items, ``rel="prev"`` to newer ones), so a
client can walk a timeline exactly as it does on Mastodon.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.api.requests import (
    base_url,
    flag,
    list_response,
    maybe_signed_in,
    page_of,
    signed_in,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.store import timelines as timelines_store

# -- timelines ------------------------------------------------------------------


async def home_timeline(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:statuses")
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.home(c, viewer.actor_uri, page)
        ctx = serialize.load_statuses(c, rows, viewer.actor_uri, base, filter_context="home")
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def _public(request: web.Request, local: bool | None) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.public(c, page, local=local, viewer_uri=viewer_uri)
        ctx = serialize.load_statuses(c, rows, viewer_uri, base, filter_context="public")
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def public_timeline(request: web.Request) -> web.Response:
    """The town square: everything public this node knows, as Mastodon's flags pick."""
    local, remote = flag(request, "local"), flag(request, "remote")
    flag(request, "only_media")  # accepted; media-only filtering is not offered yet
    if local != remote:
        return await _public(request, local)  # only local (True) or only remote (False)
    return await _public(request, None)


async def local_timeline(request: web.Request) -> web.Response:
    return await _public(request, True)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/timelines/home", home_timeline),
        web.get("/api/v1/timelines/public", public_timeline),
        web.get("/api/v1/timelines/local", local_timeline),
    ]
