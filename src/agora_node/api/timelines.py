"""Timelines, notifications, single statuses and accounts for Mastodon clients.

Routes: ``/api/v1/timelines/home`` (token), ``/api/v1/timelines/public``
(``local`` / ``remote`` flags) and ``/api/v1/timelines/local``,
``/api/v1/notifications`` and ``/api/v1/notifications/{id}`` (token),
``/api/v1/statuses/{id}`` and ``/api/v1/accounts/{id}``. Lists page by
``max_id`` / ``since_id`` / ``min_id`` / ``limit`` and answer with a ``Link``
header (``rel="next"`` to older items, ``rel="prev"`` to newer ones), so a
client can walk a timeline exactly as it does on Mastodon.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import sqlite_utils
from aiohttp import web

from agora_node.api import auth, serialize
from agora_node.context import DB, SETTINGS
from agora_node.errors import BadRequest, Forbidden, NotFound, UnprocessableEntity
from agora_node.store import accounts as accounts_store
from agora_node.store import timelines as timelines_store
from agora_node.store.timelines import DEFAULT_LIMIT, MAX_LIMIT, Page

_ID = re.compile(r"[0-9]{1,18}")
_INT = re.compile(r"[+-]?[0-9]{1,9}")
_TRUE = frozenset({"true", "1", "on", "yes", "t"})
_FALSE = frozenset({"false", "0", "off", "no", "f", ""})
_PAGING = ("max_id", "since_id", "min_id")
# Mastodon's names of notification kinds, as stored (a reply is a mention there).
_STORED_TYPES = {
    "mention": ("mention", "reply"),
    "follow": ("follow",),
    "follow_request": ("follow_request",),
    "favourite": ("favourite",),
    "reblog": ("reblog",),
    "move": ("move",),
}


@dataclass(frozen=True)
class Viewer:
    """The signed-in account behind a token."""

    account_id: int
    actor_uri: str


# -- request parameters ---------------------------------------------------------


def _id_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    if not _ID.fullmatch(raw):
        raise BadRequest(f"{name} must be a numeric id")
    return int(raw)


def page_of(request: web.Request) -> Page:
    """The page a list request asks for; garbage is refused, a wild limit is clamped."""
    raw_limit = request.query.get("limit", "").strip()
    limit = DEFAULT_LIMIT
    if raw_limit:
        if not _INT.fullmatch(raw_limit):
            raise BadRequest("limit must be an integer")
        limit = max(1, min(int(raw_limit), MAX_LIMIT))
    return Page(
        max_id=_id_param(request, "max_id"),
        since_id=_id_param(request, "since_id"),
        min_id=_id_param(request, "min_id"),
        limit=limit,
    )


def _flag(request: web.Request, name: str) -> bool:
    raw = request.query.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadRequest(f"{name} must be true or false")


def _path_id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not _ID.fullmatch(raw):
        raise NotFound("record not found")
    return int(raw)


def _stored_types(request: web.Request, name: str) -> list[str] | None:
    """``types[]=mention&types[]=follow`` (or ``types=...``) as stored kinds."""
    given = [*request.query.getall(f"{name}[]", []), *request.query.getall(name, [])]
    if not given:
        return None
    return [stored for t in given for stored in _STORED_TYPES.get(t.strip(), ())]


# -- who is asking --------------------------------------------------------------


async def _viewer_of(request: web.Request, account_id: int | None) -> Viewer:
    if account_id is None:
        raise UnprocessableEntity("This method requires an authenticated user")
    account = await request.app[DB].read(lambda c: accounts_store.get_account_by_id(c, account_id))
    if account is None or account.actor is None:
        raise UnprocessableEntity("This method requires an authenticated user")
    return Viewer(account.id, account.actor.uri)


async def signed_in(request: web.Request, scope: str) -> Viewer:
    info = await auth.require_token(request, scope)
    return await _viewer_of(request, info.account_id)


async def maybe_signed_in(request: web.Request, scope: str) -> Viewer | None:
    """Anonymous is fine; a token that is sent must be valid and hold ``scope``."""
    info = await auth.optional_token(request)
    if info is None:
        return None
    if not info.allows(scope):
        raise Forbidden(
            "This action is outside the authorized scopes",
            error_description=f"this action needs the scope {scope}",
            scope=scope,
        )
    if info.account_id is None:
        return None
    return await _viewer_of(request, info.account_id)


# -- responses ------------------------------------------------------------------


def _link(request: web.Request, key: str, value: int) -> str:
    kept = [(k, v) for k, v in request.query.items() if k not in _PAGING]
    query = urlencode([*kept, (key, str(value))])
    return f"<{request.app[SETTINGS].base_url}{request.path}?{query}>"


def _list_response(
    request: web.Request, ids: Sequence[int], body: list[dict[str, Any]]
) -> web.Response:
    """The page as JSON; ``next`` reaches past its oldest id, ``prev`` past its newest."""
    headers = {}
    if ids:
        older = _link(request, "max_id", min(ids))
        newer = _link(request, "min_id", max(ids))
        headers["Link"] = f'{older}; rel="next", {newer}; rel="prev"'
    return web.json_response(body, headers=headers)


def _base(request: web.Request) -> str:
    return request.app[SETTINGS].base_url


# -- timelines ------------------------------------------------------------------


async def home_timeline(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:statuses")
    page = page_of(request)
    base = _base(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.home(c, viewer.actor_uri, page)
        ctx = serialize.load_statuses(c, rows, viewer.actor_uri, base)
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return _list_response(request, ids, body)


async def _public(request: web.Request, local: bool | None) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    page = page_of(request)
    base = _base(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.public(c, page, local=local, viewer_uri=viewer_uri)
        ctx = serialize.load_statuses(c, rows, viewer_uri, base)
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return _list_response(request, ids, body)


async def public_timeline(request: web.Request) -> web.Response:
    """The town square: everything public this node knows, as Mastodon's flags pick."""
    local, remote = _flag(request, "local"), _flag(request, "remote")
    _flag(request, "only_media")  # accepted; media-only filtering is not offered yet
    if local != remote:
        return await _public(request, local)  # only local (True) or only remote (False)
    return await _public(request, None)


async def local_timeline(request: web.Request) -> web.Response:
    return await _public(request, True)


# -- notifications --------------------------------------------------------------


async def list_notifications(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:notifications")
    page = page_of(request)
    types = _stored_types(request, "types")
    excluded = _stored_types(request, "exclude_types") or []
    base = _base(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = timelines_store.notifications(
            c, viewer.account_id, viewer.actor_uri, page, types=types, exclude_types=excluded
        )
        ctx = serialize.load_notifications(c, rows, viewer.actor_uri, base)
        return [r.id for r in rows], [serialize.notification_json(ctx, r) for r in rows]

    ids, body = await request.app[DB].read(load)
    return _list_response(request, ids, body)


async def get_notification(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:notifications")
    notification_id = _path_id(request)
    base = _base(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        row = timelines_store.get_notification(
            c, viewer.account_id, viewer.actor_uri, notification_id
        )
        if row is None:
            return None
        ctx = serialize.load_notifications(c, [row], viewer.actor_uri, base)
        return serialize.notification_json(ctx, row)

    body = await request.app[DB].read(load)
    if body is None:
        raise NotFound("record not found")
    return web.json_response(body)


# -- one status, one account ----------------------------------------------------


async def get_status(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    object_id = _path_id(request)
    base = _base(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        row = timelines_store.get_status_for(c, object_id, viewer_uri)
        if row is None:
            return None
        return serialize.status_json(serialize.load_statuses(c, [row], viewer_uri, base), row)

    body = await request.app[DB].read(load)
    if body is None:
        raise NotFound("record not found")
    return web.json_response(body)


async def get_account(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    actor_id = _path_id(request)
    base = _base(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        uri = timelines_store.get_actor_uri_by_id(c, actor_id)
        actor = accounts_store.get_actor_by_uri(c, uri) if uri else None
        if actor is None:
            return None
        return serialize.account_json(serialize.load_account(c, actor, base), actor)

    body = await request.app[DB].read(load)
    if body is None:
        raise NotFound("record not found")
    return web.json_response(body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/timelines/home", home_timeline),
        web.get("/api/v1/timelines/public", public_timeline),
        web.get("/api/v1/timelines/local", local_timeline),
        web.get("/api/v1/notifications", list_notifications),
        web.get(r"/api/v1/notifications/{id:\d+}", get_notification),
        web.get(r"/api/v1/statuses/{id:\d+}", get_status),
        web.get(r"/api/v1/accounts/{id:\d+}", get_account),
    ]
