"""Mastodon's admin API for accounts, and the moderation log.

``/api/v1/admin/accounts`` (v1 filters) and ``/api/v2/admin/accounts``
(``origin``, ``status``, ``username``, ``display_name``, ``by_domain``) list
accounts here and elsewhere as Admin::Account; ``/:id`` shows one;
``/:id/action`` takes Mastodon's ``type`` (``none``, ``sensitive``,
``disable``, ``silence``, ``suspend``) with an optional ``report_id`` (that
report is then resolved) and ``text``; ``unsilence``, ``unsuspend``,
``unsensitive`` and ``enable`` undo. Scopes ``admin:read:accounts`` and
``admin:write:accounts``. ``/api/v1/admin/action_logs`` (``admin:read``) is
the moderation log, newest first.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import admin, reports
from agora_node.actions.signups import Node
from agora_node.api.relationships import actor_in_path
from agora_node.api.requests import (
    admin_page_of,
    as_id,
    body_params,
    flag,
    json_answer,
    list_response,
    signed_in_admin,
    text_param,
)
from agora_node.context import DB, SETTINGS, URLS
from agora_node.entities.moderation import admin_account_json, load_accounts
from agora_node.entities.serialize import iso
from agora_node.errors import BadRequest, NotFound
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import audit
from agora_node.store import moderation as moderation_store
from agora_node.store.accounts import ActorRow

_V1_STATUS = ("active", "pending", "disabled", "silenced", "suspended")


def _node(request: web.Request) -> Node:
    return Node(request.app[DB], request.app[URLS], request.app[SETTINGS].domain)


async def _render(request: web.Request, actors: list[ActorRow]) -> list[dict[str, Any]]:
    base = request.app[SETTINGS].base_url

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        r = load_accounts(c, actors, base)
        return [admin_account_json(r, a.uri) for a in actors]

    return await request.app[DB].read(load)


async def _listed(request: web.Request, origin: str | None, status: str | None) -> web.Response:
    if status is not None and status not in moderation_store.ACCOUNT_STATUSES:
        raise BadRequest(f"status must be one of {', '.join(moderation_store.ACCOUNT_STATUSES)}")
    p = admin_page_of(request)
    q = request.query

    def load(c: sqlite_utils.Database) -> list[ActorRow]:
        ids = moderation_store.admin_accounts(
            c, origin=origin, status=status, username=q.get("username", "").strip(),
            display_name=q.get("display_name", "").strip(),
            domain=q.get("by_domain", "").strip().lower(), lower=p["lower"], upper=p["upper"],
            limit=p["limit"], ascending=p["ascending"],
        )  # fmt: skip
        found = accounts_store.get_live_actors_by_ids(c, ids)
        return [found[i] for i in ids if i in found]

    actors = await request.app[DB].read(load)
    if p["ascending"]:
        actors.reverse()
    return list_response(request, [a.id for a in actors], await _render(request, actors))


async def list_v2(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:accounts")
    origin = request.query.get("origin") or None
    if origin not in (None, "local", "remote"):
        raise BadRequest("origin must be local or remote")
    return await _listed(request, origin, request.query.get("status") or None)


async def list_v1(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:accounts")
    origin = "local" if flag(request, "local") else "remote" if flag(request, "remote") else None
    status = next((s for s in _V1_STATUS if flag(request, s)), None)
    return await _listed(request, origin, status)


async def show(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:accounts")
    actor = await actor_in_path(request)
    return json_answer((await _render(request, [actor]))[0])


async def action(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:accounts")
    actor = await actor_in_path(request)
    params = await body_params(request)
    kind = text_param(params, "type", default="none") or "none"
    node, now = _node(request), time.time()
    if actor.local and actor.uri == who.actor_uri and kind != "none":
        raise BadRequest("an admin cannot act on their own account")
    sent = await admin.moderate(node, actor, kind, by=who.account, now=now)
    report_id = as_id(params.get("report_id")) if params.get("report_id") else None
    if report_id is not None:
        report = await reports.find(node, report_id)
        if report.target_uri != actor.uri:
            raise BadRequest("that report is about another account")
        if report.resolved_at is None:
            # The action is taken above; the report records it as the outcome.
            await reports.close(
                node, report.id, action=kind, by=who.account, now=now,
                comment=text_param(params, "text"),
            )  # fmt: skip
    if sent:
        request.app[DELIVERY_WAKE].set()
    return json_answer({})


async def undo(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:accounts")
    actor = await actor_in_path(request)
    step = request.match_info["step"]
    sent = await admin.lift(_node(request), actor, step, by=who.account, now=time.time())
    if sent:
        request.app[DELIVERY_WAKE].set()
    fresh = await request.app[DB].read(lambda c: accounts_store.get_actor_by_uri(c, actor.uri))
    if fresh is None:
        raise NotFound("Record not found")
    return json_answer((await _render(request, [fresh]))[0])


async def action_logs(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read")
    p = admin_page_of(request)
    upper = p["upper"] if p["upper"] < 2**62 else None
    prefix = request.query.get("action", "").strip()
    rows = await request.app[DB].read(
        lambda c: audit.entries(c, limit=p["limit"], before_id=upper, action_prefix=prefix)
    )
    body = [
        {"id": str(e.id), "created_at": iso(e.created_at), "by": e.by, "action": e.action,
         "target": e.target, "reason": e.reason, "detail": e.detail}
        for e in rows
    ]  # fmt: skip
    return list_response(request, [e.id for e in rows], body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/admin/accounts", list_v1),
        web.get("/api/v2/admin/accounts", list_v2),
        web.get("/api/v1/admin/accounts/{id}", show),
        web.post("/api/v1/admin/accounts/{id}/action", action),
        web.post(
            "/api/v1/admin/accounts/{id}/{step:unsilence|unsuspend|unsensitive|unforce_unlisted|enable}",
            undo,
        ),
        web.get("/api/v1/admin/action_logs", action_logs),
    ]
