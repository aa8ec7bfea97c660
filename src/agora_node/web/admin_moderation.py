"""The admin pages for moderation: domain blocks, the reports queue, the log.

The same actions as the CLI and the admin API (``actions/domains.py``,
``actions/reports.py``); only admins see them, and every change is a form
with its CSRF token.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import domains, reports
from agora_node.actions.domains import Moderation
from agora_node.actions.signups import Node
from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.blocklist import HOST_BLOCKLIST
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.domain_lists import BlockSpec
from agora_node.store import audit
from agora_node.store import reports as reports_store
from agora_node.web.admin import required_admin
from agora_node.web.rendering import page
from agora_node.web.session import form, text_field

LOG_PAGE = 100


def _moderation(request: web.Request) -> Moderation:
    return Moderation(request.app[DB], request.app[HOST_BLOCKLIST], request.app[SETTINGS].domain)


def _node(request: web.Request) -> Node:
    return Node(request.app[DB], request.app[URLS], request.app[SETTINGS].domain)


def _id(request: web.Request) -> int:
    raw = request.match_info["id"]
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("no such record")
    return int(raw)


# -- domain blocks -------------------------------------------------------------------


async def domain_blocks(
    request: web.Request, *, error: str = "", notice: str = "", status: int = 200
) -> web.Response:
    await required_admin(request)
    m = _moderation(request)
    return await page(
        request,
        "admin_domains.html",
        {
            "blocks": await domains.blocks(m),
            "subscriptions": {s.id: s.url for s in await domains.subscriptions(m)},
            "severities": domains.SEVERITIES,
            "error": error,
            "notice": notice,
        },
        title="Domain blocks · Admin",
        status=status,
    )


async def block_domain(request: web.Request) -> web.Response:
    who = await required_admin(request)
    body = await form(request)
    spec = BlockSpec(
        domain=text_field(body, "domain"),
        severity=text_field(body, "severity") or "silence",
        reject_media=text_field(body, "reject_media") == "on",
        reject_reports=text_field(body, "reject_reports") == "on",
        obfuscate=text_field(body, "obfuscate") == "on",
        private_comment=text_field(body, "private_comment"),
        public_comment=text_field(body, "public_comment"),
    )
    try:
        result = await domains.block(_moderation(request), spec, by=who.account.username,
                                     now=time.time())  # fmt: skip
    except UnprocessableEntity as exc:
        return await domain_blocks(request, error=exc.public_message, status=422)
    b = result.block
    return await domain_blocks(
        request,
        notice=f"{b.domain}: {b.severity}; {result.accounts_marked} accounts marked, "
        f"{result.follows_severed} follows ended.",
    )


async def unblock_domain(request: web.Request) -> web.Response:
    who = await required_admin(request)
    await form(request)
    await domains.unblock(_moderation(request), _id(request), by=who.account.username,
                          now=time.time())  # fmt: skip
    raise web.HTTPSeeOther("/admin/domains")


# -- reports -------------------------------------------------------------------------


async def report_queue(request: web.Request, *, error: str = "", status: int = 200) -> web.Response:
    await required_admin(request)
    resolved = request.query.get("resolved") == "1"

    def load(c: sqlite_utils.Database) -> list[dict[str, Any]]:
        rows = reports_store.page_of_reports(c, resolved=resolved, lower=0, upper=2**62, limit=100)
        return [{"r": r, "notes": reports_store.notes_of(c, r.id)} for r in rows]

    return await page(
        request,
        "admin_reports.html",
        {
            "reports": await request.app[DB].read(load),
            "resolved": resolved,
            "actions": reports.ACTIONS,
            "error": error,
        },
        title="Reports · Admin",
        status=status,
    )


async def report_step(request: web.Request) -> web.Response:
    who = await required_admin(request)
    body = await form(request)
    step, report_id, now = request.match_info["step"], _id(request), time.time()
    node, name = _node(request), who.account.username
    try:
        if step == "resolve":
            _, sent = await reports.resolve(
                node, report_id, action=text_field(body, "action") or "none", by=who.account,
                comment=text_field(body, "comment"), now=now,
            )  # fmt: skip
            if sent:
                request.app[DELIVERY_WAKE].set()
        elif step == "note":
            await reports.note(node, report_id, text_field(body, "note"), by=name, now=now)
        elif step == "assign":
            await reports.assign(node, report_id, who.account, by=name, now=now)
        elif step == "reopen":
            await reports.reopen(node, report_id, by=name, now=now)
        else:
            raise NotFound("no such action")
    except UnprocessableEntity as exc:
        return await report_queue(request, error=exc.public_message, status=422)
    raise web.HTTPSeeOther("/admin/reports")


# -- the log -------------------------------------------------------------------------


async def moderation_log(request: web.Request) -> web.Response:
    await required_admin(request)
    entries = await request.app[DB].read(lambda c: audit.entries(c, limit=LOG_PAGE))
    return await page(
        request, "admin_log.html", {"entries": entries}, title="Moderation log · Admin"
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin/domains", domain_blocks),
        web.post("/admin/domains", block_domain),
        web.post("/admin/domains/{id}/unblock", unblock_domain),
        web.get("/admin/reports", report_queue),
        web.post("/admin/reports/{id}/{step}", report_step),
        web.get("/admin/log", moderation_log),
    ]
