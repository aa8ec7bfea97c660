"""Reports for Mastodon clients, and the admin API that works them.

``POST /api/v1/reports`` files one (``actions/reports.py``); a person can
read their own back with ``GET /api/v1/reports`` and ``/api/v1/reports/:id``
(GoToSocial's addition, so they see what was decided). Admins with the
``admin:read:reports`` / ``admin:write:reports`` scopes list, read,
recategorise, take, hand back, resolve and reopen reports under
``/api/v1/admin/reports``. ``resolve`` takes an optional ``action``
(``none``, ``silence``, ``suspend``, ``delete`` for the reported posts) and
``action_taken_comment`` for the reporter.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import reports
from agora_node.actions.posts import readable_status
from agora_node.actions.signups import Node
from agora_node.api.requests import (
    admin_page_of,
    as_id,
    body_params,
    bool_param,
    caller_of,
    json_answer,
    list_response,
    page_of,
    path_id,
    signed_in,
    signed_in_admin,
    text_param,
)
from agora_node.context import DB, INSTANCE, SETTINGS, URLS
from agora_node.entities.moderation import (
    admin_report_json,
    load_reports,
    report_json,
)
from agora_node.errors import BadRequest, NotFound, UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import reports as store
from agora_node.store.reports import ReportRow


def _node(request: web.Request) -> Node:
    return Node(request.app[DB], request.app[URLS], request.app[SETTINGS].domain)


def _ids(params: dict[str, Any], name: str) -> list[int]:
    raw = params.get(name, [])
    values = raw if isinstance(raw, list) else [raw]
    ids = [as_id(v) for v in values if v not in ("", None)]
    if any(i is None for i in ids):
        raise UnprocessableEntity(f"Validation failed: {name} must be ids")
    return [i for i in ids if i is not None]


async def _render(
    request: web.Request, rows: list[ReportRow], viewer: str | None, *, admin: bool
) -> list[dict[str, Any]]:
    base = request.app[SETTINGS].base_url
    rules = tuple(request.app[INSTANCE].current.rules)

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        r = load_reports(c, rows, base, viewer, rules)
        render = admin_report_json if admin else report_json
        return [render(r, row) for row in rows]

    return await request.app[DB].read(load)


# -- people -----------------------------------------------------------------------


async def file_report(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:reports")
    params = await body_params(request)
    account_id = as_id(params.get("account_id"))
    if account_id is None:
        raise UnprocessableEntity("Validation failed: account_id is missing")
    found = await request.app[DB].read(
        lambda c: accounts_store.get_live_actors_by_ids(c, [account_id])
    )
    target = found.get(account_id)
    if target is None:
        raise NotFound("Record not found")
    statuses = [
        await readable_status(request.app[DB], sid, who.actor_uri)
        for sid in _ids(params, "status_ids")
    ]
    category = text_param(params, "category") or None
    filed = await reports.file(
        caller_of(request, who),
        target,
        statuses,
        category=category,
        rule_ids=_ids(params, "rule_ids"),
        comment=text_param(params, "comment"),
        forward=bool_param(params, "forward"),
        instance=request.app[INSTANCE],
    )
    if filed.deliveries:
        request.app[DELIVERY_WAKE].set()
    return json_answer((await _render(request, [filed.report], who.actor_uri, admin=False))[0])


async def own_reports(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:reports")
    page = page_of(request)
    b = page.bounds()
    resolved = _resolved(request)
    rows = await request.app[DB].read(
        lambda c: store.page_of_reports(
            c, resolved=resolved, lower=b["lower"], upper=b["upper"], limit=b["limit"],
            ascending=page.ascending, reporter_uri=who.actor_uri,
        )
    )  # fmt: skip
    if page.ascending:
        rows.reverse()
    body = await _render(request, rows, who.actor_uri, admin=False)
    return list_response(request, [r.id for r in rows], body)


async def own_report(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:reports")
    report = await reports.find(_node(request), path_id(request))
    if report.reporter_uri != who.actor_uri:
        raise NotFound("Record not found")
    return json_answer((await _render(request, [report], who.actor_uri, admin=False))[0])


def _resolved(request: web.Request) -> bool | None:
    raw = request.query.get("resolved", "").strip().lower()
    if not raw:
        return None
    if raw not in ("true", "false", "1", "0"):
        raise BadRequest("resolved must be true or false")
    return raw in ("true", "1")


# -- admins -----------------------------------------------------------------------


async def admin_list(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:read:reports")
    b = admin_page_of(request)
    resolved = _resolved(request)
    resolved = False if resolved is None else resolved  # Mastodon lists open ones by default
    target_id = as_id(request.query.get("target_account_id", ""))
    target_uri = None
    if target_id is not None:
        found = await request.app[DB].read(
            lambda c: accounts_store.get_live_actors_by_ids(c, [target_id])
        )
        if target_id not in found:
            return list_response(request, [], [])
        target_uri = found[target_id].uri
    rows = await request.app[DB].read(
        lambda c: store.page_of_reports(
            c, resolved=resolved, lower=b["lower"], upper=b["upper"], limit=b["limit"],
            ascending=b["ascending"], target_uri=target_uri,
        )
    )  # fmt: skip
    if b["ascending"]:
        rows.reverse()
    body = await _render(request, rows, who.actor_uri, admin=True)
    return list_response(request, [r.id for r in rows], body)


async def _one(request: web.Request, report: ReportRow, viewer: str) -> web.Response:
    return json_answer((await _render(request, [report], viewer, admin=True))[0])


async def admin_show(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:read:reports")
    return await _one(request, await reports.find(_node(request), path_id(request)), who.actor_uri)


async def admin_update(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:reports")
    params = await body_params(request)
    current = await reports.find(_node(request), path_id(request))
    category = text_param(params, "category", default=current.category)
    rule_ids = _ids(params, "rule_ids") if "rule_ids" in params else list(current.rule_ids)
    report = await reports.categorise(
        _node(request), current.id, category, rule_ids, instance=request.app[INSTANCE],
        by=who.account.username, now=time.time(),
    )  # fmt: skip
    return await _one(request, report, who.actor_uri)


async def admin_step(request: web.Request) -> web.Response:
    """``assign_to_self``, ``unassign``, ``resolve``, ``reopen``."""
    step = request.match_info["step"]
    who = await signed_in_admin(request, "admin:write:reports")
    node, report_id, now, by = _node(request), path_id(request), time.time(), who.account
    if step == "assign_to_self":
        report = await reports.assign(node, report_id, by, by=by.username, now=now)
    elif step == "unassign":
        report = await reports.assign(node, report_id, None, by=by.username, now=now)
    elif step == "reopen":
        report = await reports.reopen(node, report_id, by=by.username, now=now)
    elif step == "resolve":
        params = await body_params(request)
        report, sent = await reports.resolve(
            node, report_id, action=text_param(params, "action", default="none"), by=by,
            comment=text_param(params, "action_taken_comment"), now=now,
        )  # fmt: skip
        if sent:
            request.app[DELIVERY_WAKE].set()
    else:
        raise NotFound("Record not found")
    return await _one(request, report, who.actor_uri)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/reports", file_report),
        web.get("/api/v1/reports", own_reports),
        web.get("/api/v1/reports/{id}", own_report),
        web.get("/api/v1/admin/reports", admin_list),
        web.get("/api/v1/admin/reports/{id}", admin_show),
        web.put("/api/v1/admin/reports/{id}", admin_update),
        web.post("/api/v1/admin/reports/{id}/{step}", admin_step),
    ]
