"""Notifications and read markers for Mastodon clients.

Notifications list, show, dismiss and clear; the unread count is what lies
past the ``notifications`` read marker, which apps move with
``/api/v1/markers`` (as they do the ``home`` one).
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.api.requests import (
    as_id,
    base_url,
    body_params,
    id_param,
    list_response,
    page_of,
    path_id,
    signed_in,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.store import accounts as accounts_store
from agora_node.store import client_state
from agora_node.store import notifications as notifications_store

_MAX_UNREAD = 1000

# Mastodon's names of notification kinds, as stored (a reply is a mention there).
_STORED_TYPES = {
    "mention": ("mention", "reply"),
    "follow": ("follow",),
    "follow_request": ("follow_request",),
    "favourite": ("favourite",),
    "reblog": ("reblog",),
    "move": ("move",),
    "status": ("status",),
    "poll": ("poll",),
}


def _stored_types(request: web.Request, name: str) -> list[str] | None:
    """``types[]=mention&types[]=follow`` (or ``types=...``) as stored kinds."""
    given = [*request.query.getall(f"{name}[]", []), *request.query.getall(name, [])]
    if not given:
        return None
    return [stored for t in given for stored in _STORED_TYPES.get(t.strip(), ())]


async def list_notifications(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:notifications")
    page = page_of(request)
    # Only the kinds Mastodon knows: the node's own (report_resolved) are for its pages.
    types = _stored_types(request, "types")
    if types is None:
        types = list(serialize.NOTIFICATION_TYPES)
    excluded = _stored_types(request, "exclude_types") or []
    sender = id_param(request, "account_id")
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        from_actor = None
        if sender is not None:
            found = accounts_store.get_live_actors_by_ids(c, [sender]).get(sender)
            if found is None:
                return [], []
            from_actor = found.uri
        rows = notifications_store.notifications(
            c, viewer.account_id, viewer.actor_uri, page, types=types, exclude_types=excluded,
            from_actor=from_actor,
        )  # fmt: skip
        ctx = serialize.load_notifications(c, rows, viewer.actor_uri, base)
        return [r.id for r in rows], serialize.notifications_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def get_notification(request: web.Request) -> web.Response:
    viewer = await signed_in(request, "read:notifications")
    notification_id = path_id(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        row = notifications_store.get_notification(
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


async def dismiss(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:notifications")
    notification_id = path_id(request)
    gone = await request.app[DB].write(
        lambda c: notifications_store.dismiss_notification(c, who.account_id, notification_id)
    )
    if not gone:
        raise NotFound("Record not found")
    return web.json_response({})


async def clear(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:notifications")
    await request.app[DB].write(
        lambda c: notifications_store.clear_notifications(c, who.account_id)
    )
    return web.json_response({})


async def unread_count(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:notifications")

    def load(c: sqlite_utils.Database) -> int:
        marks = client_state.get_markers(c, who.account_id, ("notifications",))
        after = marks[0].last_read_id if marks else 0
        return notifications_store.count_unread(
            c, who.account_id, who.actor_uri, after, _MAX_UNREAD
        )

    return web.json_response({"count": await request.app[DB].read(load)})


def _marker_json(row: client_state.MarkerRow) -> dict[str, Any]:
    return {
        "last_read_id": str(row.last_read_id),
        "version": row.version,
        "updated_at": serialize.iso(row.updated_at),
    }


async def get_markers(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:statuses", "read:notifications")
    asked = [*request.query.getall("timeline[]", []), *request.query.getall("timeline", [])]
    timelines = tuple(t for t in dict.fromkeys(asked) if t in client_state.MARKER_TIMELINES)
    if not timelines:
        return web.json_response({})
    rows = await request.app[DB].read(
        lambda c: client_state.get_markers(c, who.account_id, timelines)
    )
    return web.json_response({r.timeline: _marker_json(r) for r in rows})


async def set_markers(request: web.Request) -> web.Response:
    """``home[last_read_id]=…`` and/or ``notifications[last_read_id]=…``."""
    who = await signed_in(request, "write:statuses", "write:notifications")
    params = await body_params(request)
    moves: dict[str, int] = {}
    for timeline in client_state.MARKER_TIMELINES:
        value = params.get(timeline)
        if value is None:
            continue
        raw = value.get("last_read_id") if isinstance(value, dict) else None
        last = as_id(raw)
        if last is None:
            raise UnprocessableEntity(f"Validation failed: {timeline}[last_read_id] must be an id")
        moves[timeline] = last
    now = time.time()

    def write(c: sqlite_utils.Database) -> list[client_state.MarkerRow]:
        for timeline, last in moves.items():
            client_state.set_marker(c, who.account_id, timeline, last, now)
        return client_state.get_markers(c, who.account_id, tuple(moves))

    rows = await request.app[DB].write(write)
    return web.json_response({r.timeline: _marker_json(r) for r in rows})


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/notifications/{id:\d+}"
    return [
        web.get("/api/v1/notifications", list_notifications),
        web.get("/api/v1/notifications/unread_count", unread_count),
        web.post("/api/v1/notifications/clear", clear),
        web.get(one, get_notification),
        web.post(f"{one}/dismiss", dismiss),
        web.get("/api/v1/markers", get_markers),
        web.post("/api/v1/markers", set_markers),
    ]
