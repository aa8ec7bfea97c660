"""What every page view shares: the acting caller, paging, loading statuses.

A page reads as an API view does: parse the request, authorise (the session
in ``web.session``), call one action or one load, render. Statuses are the
entities of ``entities.serialize``, loaded for the visitor on a reader
thread, so a post shows here what an app shows.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions.caller import Caller
from agora_node.context import DB, SETTINGS, URLS
from agora_node.entities import serialize
from agora_node.errors import BadRequest
from agora_node.federation.resolve import Resolver
from agora_node.federation.services import FETCHER
from agora_node.store.objects import ObjectRow
from agora_node.store.timelines import Page
from agora_node.web.session import Visitor

# Posts on one page of a timeline, a profile or a tag, unless ``?limit=`` asks
# for more (up to MAX_PAGE_SIZE, as the client API's timelines).
PAGE_SIZE = 20
MAX_PAGE_SIZE = 40
_ID = re.compile(r"[0-9]{1,18}")
_LIMIT = re.compile(r"[0-9]{1,3}")


def caller_for(request: web.Request, who: Visitor) -> Caller:
    """The signed-in visitor as the one acting, with this node's resolver and clock."""
    settings, urls, db = request.app[SETTINGS], request.app[URLS], request.app[DB]
    resolver = Resolver(db, request.app[FETCHER], urls, settings.domain)
    return Caller(
        db, resolver, urls, settings.domain, who.account, time.time(),
        settings.media.require_alt_text,
    )  # fmt: skip


def page_limit(request: web.Request) -> int:
    """``?limit=`` between 1 and MAX_PAGE_SIZE, PAGE_SIZE when absent; else a 400."""
    raw = request.query.get("limit", "").strip()
    if not raw:
        return PAGE_SIZE
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise BadRequest(f"limit must be a number from 1 to {MAX_PAGE_SIZE}")
    return int(raw)


def page_param(request: web.Request) -> Page:
    """``?max_id=`` (older than that post) and ``?limit=``; anything else in them is a 400."""
    raw = request.query.get("max_id", "").strip()
    if raw and not _ID.fullmatch(raw):
        raise BadRequest("max_id must be a post's numeric id")
    return Page(max_id=int(raw) if raw else None, limit=page_limit(request))


def path_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not _ID.fullmatch(raw):
        raise web.HTTPNotFound(text="no such post")
    return int(raw)


def older_link(request: web.Request, ids: Sequence[int]) -> str | None:
    """The link to the next page of older posts, when this page was full."""
    if len(ids) < page_limit(request):
        return None
    query = [(k, v) for k, v in request.query.items() if k != "max_id"]
    return str(request.rel_url.with_query([*query, ("max_id", str(min(ids)))]))


async def statuses_page(
    request: web.Request,
    viewer_uri: str | None,
    rows_of: Callable[[sqlite_utils.Database], list[ObjectRow]],
    context: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """The statuses ``rows_of`` picks, as the viewer sees them (their filters for
    ``context`` applied), and the older-page link."""
    base = request.app[SETTINGS].base_url

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = rows_of(c)
        ctx = serialize.load_statuses(c, rows, viewer_uri, base, filter_context=context)
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, statuses = await request.app[DB].read(load)
    return statuses, older_link(request, ids)
