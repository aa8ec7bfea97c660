"""The admin pages: accounts and sign-ups, invites, the server's settings
(name, description, rules, sign-up mode, contact, accent colour), and the
health of the queues.

Only admin accounts see them (anyone else gets a 403 page). Every change is a
form with its CSRF token that calls the same actions as the CLI
(``actions.admin``, ``actions.signups``), so a rule holds the same from both.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import admin, signups
from agora_node.config import EDITABLE_INSTANCE, MAX_RULES, REGISTRATION_MODES
from agora_node.context import DB, INSTANCE, SETTINGS, URLS
from agora_node.errors import Forbidden, NotFound, UnprocessableEntity
from agora_node.federation.actor_cache import ACTOR_CACHE
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.store import accounts as accounts_store
from agora_node.store import deliveries as deliveries_store
from agora_node.store import jobs as jobs_store
from agora_node.store import signups as signups_store
from agora_node.store import spool as spool_store
from agora_node.web.rendering import page
from agora_node.web.session import Visitor, form, required_visitor, text_field
from agora_node.workers.inbox import INBOX_JOB

_ACCOUNT_ACTIONS = ("suspend", "unsuspend", "silence", "unsilence", "reset_password")
_SIGNUP_ACTIONS = ("approve", "reject")
_LONGEST_INVITE_HOURS = 24 * 365


async def required_admin(request: web.Request) -> Visitor:
    who = await required_visitor(request)
    if not who.account.is_admin:
        raise Forbidden("only the admins of this server may open its admin pages")
    return who


def _node(request: web.Request) -> signups.Node:
    return signups.Node(request.app[DB], request.app[URLS], request.app[SETTINGS].domain)


async def dashboard(request: web.Request) -> web.Response:
    await required_admin(request)
    settings = request.app[SETTINGS]

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        queue: dict[str, dict[str, int]] = {}
        for host, state, count in deliveries_store.delivery_summary(c):
            queue.setdefault(host, {})[state] = count
        cursors, finished = jobs_store.spool_cursors(c)
        return {
            "accounts": accounts_store.count_live_accounts(c),
            "pending": len(signups_store.pending_signups(c)),
            "queue": queue,
            "hosts": deliveries_store.troubled_hosts(c),
            "jobs": jobs_store.job_counts(c, INBOX_JOB),
            "cursors": (cursors, finished),
        }

    found = await request.app[DB].read(load)
    cursors, finished = found.pop("cursors")
    # Counting spooled activities opens the spool's segment files: off the loop.
    spooled = await asyncio.get_running_loop().run_in_executor(
        None, spool_store.count_waiting, settings.database.path, cursors, finished
    )
    return await page(
        request,
        "admin.html",
        {
            **found,
            "spooled": spooled,
            "instance": request.app[INSTANCE].current,
            "now": time.time(),
        },
        title="Admin",
    )


async def accounts(request: web.Request, *, notice: str = "", status: int = 200) -> web.Response:
    await required_admin(request)
    found = await request.app[DB].read(
        lambda c: (accounts_store.list_accounts(c), signups_store.pending_signups(c))
    )
    rows, pending = found
    return await page(
        request,
        "admin_accounts.html",
        {"accounts": [a for a in rows if a.deleted_at is None], "pending": pending,
         "notice": notice},
        title="Accounts · Admin",
        status=status,
    )  # fmt: skip


async def account_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in _ACCOUNT_ACTIONS:
        raise NotFound("no such action")
    who = await required_admin(request)
    await form(request)
    name, db, now = request.match_info["name"], request.app[DB], time.time()
    if action in ("suspend", "unsuspend"):
        if action == "suspend":
            _, sent = await admin.suspend(_node(request), name, by=who.account, now=now)
        else:
            _, sent = await admin.unsuspend(_node(request), name, by=who.account, now=now)
        request.app[ACTOR_CACHE].invalidate(name)
        if sent is not None and sent.deliveries:
            request.app[DELIVERY_WAKE].set()
        raise web.HTTPSeeOther("/admin/accounts")
    if action == "silence":
        await admin.silence(_node(request), name, by=who.account, now=now)
        raise web.HTTPSeeOther("/admin/accounts")
    if action == "unsilence":
        await admin.unsilence(_node(request), name, by=who.account, now=now)
        raise web.HTTPSeeOther("/admin/accounts")
    password = await admin.reset_password(db, name, by=who.account, now=now)
    return await accounts(
        request, notice=f"The new password of @{name} is {password} — give it to them now."
    )


async def signup_action(request: web.Request) -> web.Response:
    action = request.match_info["action"]
    if action not in _SIGNUP_ACTIONS:
        raise NotFound("no such action")
    await required_admin(request)
    await form(request)
    name = request.match_info["name"]
    if action == "approve":
        await signups.approve(_node(request), name, time.time())
    else:
        await signups.reject(_node(request), name)
    raise web.HTTPSeeOther("/admin/accounts")


async def invites(request: web.Request, *, made: str = "") -> web.Response:
    await required_admin(request)
    rows = await request.app[DB].read(signups_store.list_invites)
    return await page(
        request,
        "admin_invites.html",
        {
            "invites": rows,
            "made": made,
            "base": request.app[SETTINGS].base_url,
            "mode": request.app[INSTANCE].current.registration,
            "now": time.time(),
        },
        title="Invites · Admin",
    )


def _optional_int(body: Any, name: str, high: int) -> int | None:
    raw = text_field(body, name).strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise UnprocessableEntity(f"{name.replace('_', ' ')} must be a number from 1 to {high}")
    return int(raw)


async def create_invite(request: web.Request) -> web.Response:
    who = await required_admin(request)
    body = await form(request)
    hours = _optional_int(body, "expires_in_hours", _LONGEST_INVITE_HOURS)
    uses = _optional_int(body, "max_uses", 10_000)
    code = await signups.create_invite(
        _node(request),
        created_by=who.account.id,
        now=time.time(),
        expires_in=hours * 3600 if hours else None,
        max_uses=uses,
    )
    return await invites(request, made=code)


async def revoke_invite(request: web.Request) -> web.Response:
    await required_admin(request)
    await form(request)
    code = request.match_info["code"]
    if not await request.app[DB].write(lambda c: signups_store.revoke_invite(c, code, time.time())):
        raise NotFound("no such invite, or it was revoked already")
    raise web.HTTPSeeOther("/admin/invites")


async def _settings_page(
    request: web.Request, *, error: str = "", saved: bool = False, status: int = 200
) -> web.Response:
    return await page(
        request,
        "admin_settings.html",
        {
            "instance": request.app[INSTANCE].current,
            "modes": REGISTRATION_MODES,
            "limits": EDITABLE_INSTANCE,
            "max_rules": MAX_RULES,
            "error": error,
            "saved": saved,
        },
        title="Server settings · Admin",
        status=status,
    )


async def instance_settings(request: web.Request) -> web.Response:
    await required_admin(request)
    return await _settings_page(request, saved=request.query.get("saved") == "1")


async def save_instance_settings(request: web.Request) -> web.Response:
    await required_admin(request)
    body = await form(request)
    rules = [line.strip() for line in text_field(body, "rules").splitlines() if line.strip()]
    changes: dict[str, Any] = {
        "name": text_field(body, "name").strip(),
        "description": text_field(body, "description").strip(),
        "admin_contact": text_field(body, "admin_contact").strip(),
        "registration": text_field(body, "registration"),
        "accent_color": text_field(body, "accent_color").strip(),
        "rules": tuple(rules),
    }
    try:
        await admin.update_instance(request.app[DB], request.app[INSTANCE], changes)
    except UnprocessableEntity as exc:
        return await _settings_page(request, error=exc.public_message, status=422)
    raise web.HTTPSeeOther("/admin/settings?saved=1")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/admin", dashboard),
        web.get("/admin/accounts", accounts),
        web.post("/admin/accounts/{name}/{action}", account_action),
        web.post("/admin/signups/{name}/{action}", signup_action),
        web.get("/admin/invites", invites),
        web.post("/admin/invites", create_invite),
        web.post("/admin/invites/{code}/revoke", revoke_invite),
        web.get("/admin/settings", instance_settings),
        web.post("/admin/settings", save_instance_settings),
    ]
