"""Mastodon's admin API for other servers, and the public list of blocks.

``/api/v1/admin/domain_blocks`` (list, show, create, change, lift) and
``/api/v1/admin/domain_allows`` (list, show, create, withdraw), for admins
with the ``admin:read:domain_blocks`` / ``admin:write:domain_blocks`` (and
``..._allows``) scopes; every change goes through ``actions/domains.py``
(the moderation log records the admin). ``/api/v1/instance/domain_blocks``
is the list anyone (or signed-in people) may read, as the
``federation.show_domain_blocks`` setting says, obfuscated names hidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import domains
from agora_node.actions.domains import Moderation
from agora_node.api.requests import (
    admin_page_of,
    body_params,
    bool_param,
    json_answer,
    list_response,
    maybe_signed_in,
    path_id,
    signed_in_admin,
    text_param,
)
from agora_node.context import DB, SETTINGS
from agora_node.entities.serialize import iso
from agora_node.errors import NotFound, Unauthorized, UnprocessableEntity
from agora_node.federation.blocklist import HOST_BLOCKLIST
from agora_node.processing.domain_lists import BlockSpec, obfuscated
from agora_node.store import domain_blocks as store
from agora_node.store.domain_blocks import DomainAllowRow, DomainBlockRow


def _moderation(request: web.Request) -> Moderation:
    return Moderation(request.app[DB], request.app[HOST_BLOCKLIST], request.app[SETTINGS].domain)


def block_entity(b: DomainBlockRow) -> dict[str, Any]:
    return {
        "id": str(b.id),
        "domain": b.domain,
        "digest": domains.digest(b.domain),
        "created_at": iso(b.created_at),
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "private_comment": b.private_comment or None,
        "public_comment": b.public_comment or None,
        "obfuscate": b.obfuscate,
    }


def allow_entity(a: DomainAllowRow) -> dict[str, Any]:
    return {"id": str(a.id), "domain": a.domain, "created_at": iso(a.created_at)}


async def _listed(
    request: web.Request,
    read: Callable[[sqlite_utils.Database, int, int, int, bool], list[Any]],
    entity: Callable[[Any], dict[str, Any]],
) -> web.Response:
    """One page of an admin list (100 by default, up to 200), newest first."""
    p = admin_page_of(request)
    rows = await request.app[DB].read(
        lambda c: read(c, p["lower"], p["upper"], p["limit"], p["ascending"])
    )
    if p["ascending"]:
        rows.reverse()
    return list_response(request, [r.id for r in rows], [entity(r) for r in rows])


async def list_blocks(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:domain_blocks")
    return await _listed(request, store.page_of_blocks, block_entity)


async def show_block(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:domain_blocks")
    row = await domains.find_block(_moderation(request), path_id(request))
    return json_answer(block_entity(row))


def _spec(params: dict[str, Any], domain: str, before: DomainBlockRow | None) -> BlockSpec:
    def flag(name: str, old: bool) -> bool:
        return bool_param(params, name, default=old)

    def text(name: str, old: str) -> str:
        return text_param(params, name, default=old) if name in params else old

    severity = text_param(params, "severity", default=before.severity if before else "silence")
    if severity not in domains.SEVERITIES:
        raise UnprocessableEntity(
            f"Validation failed: severity must be one of {', '.join(domains.SEVERITIES)}"
        )
    return BlockSpec(
        domain=domain,
        severity=severity,
        reject_media=flag("reject_media", before.reject_media if before else False),
        reject_reports=flag("reject_reports", before.reject_reports if before else False),
        obfuscate=flag("obfuscate", before.obfuscate if before else False),
        private_comment=text("private_comment", before.private_comment if before else ""),
        public_comment=text("public_comment", before.public_comment if before else ""),
    )


def _domain_param(params: dict[str, Any]) -> str:
    domain = text_param(params, "domain")
    if not domain.strip():
        raise UnprocessableEntity("Validation failed: domain is missing")
    return domain


async def create_block(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:domain_blocks")
    params = await body_params(request)
    domain = _domain_param(params)
    m = _moderation(request)
    spec = domains.checked_spec(m, _spec(params, domain, None))
    existing = await m.db.read(lambda c: store.block_by_domain(c, spec.domain))
    if existing is not None:
        raise UnprocessableEntity(
            f"Validation failed: {spec.domain} is already blocked; change that block instead",
            existing_domain_block=block_entity(existing),
        )
    result = await domains.block(m, spec, by=who.account.username, now=time.time())
    return json_answer(block_entity(result.block))


async def change_block(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:domain_blocks")
    m = _moderation(request)
    before = await domains.find_block(m, path_id(request))
    params = await body_params(request)
    spec = _spec(params, before.domain, before)
    result = await domains.block(m, spec, by=who.account.username, now=time.time())
    return json_answer(block_entity(result.block))


async def delete_block(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:domain_blocks")
    await domains.unblock(
        _moderation(request), path_id(request), by=who.account.username, now=time.time()
    )
    return json_answer({})


async def list_allows(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:domain_allows")
    return await _listed(request, store.page_of_allows, allow_entity)


async def show_allow(request: web.Request) -> web.Response:
    await signed_in_admin(request, "admin:read:domain_allows")
    allow_id = path_id(request)
    row = await request.app[DB].read(lambda c: store.allow_by_id(c, allow_id))
    if row is None:
        raise NotFound("Record not found")
    return json_answer(allow_entity(row))


async def create_allow(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:domain_allows")
    domain = _domain_param(await body_params(request))
    row = await domains.allow(
        _moderation(request), domain, by=who.account.username, now=time.time()
    )
    return json_answer(allow_entity(row))


async def delete_allow(request: web.Request) -> web.Response:
    who = await signed_in_admin(request, "admin:write:domain_allows")
    await domains.disallow(
        _moderation(request), path_id(request), by=who.account.username, now=time.time()
    )
    return json_answer({})


async def public_blocks(request: web.Request) -> web.Response:
    """``/api/v1/instance/domain_blocks``: suspended and silenced domains, as allowed."""
    fed = request.app[SETTINGS].federation
    if fed.show_domain_blocks == "off":
        raise NotFound("This server does not publish its domain blocks")
    who = await maybe_signed_in(request, "read")
    if fed.show_domain_blocks == "users" and who is None:
        raise Unauthorized("This server shows its domain blocks to its own users only")
    rows = await request.app[DB].read(store.list_blocks)
    body = []
    for b in rows:
        if b.severity == "noop":
            continue
        entry: dict[str, Any] = {
            "domain": obfuscated(b.domain) if b.obfuscate else b.domain,
            "digest": domains.digest(b.domain),
            "severity": b.severity,
        }
        if fed.show_domain_block_comments:
            entry["comment"] = b.public_comment
        body.append(entry)
    return json_answer(body)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/admin/domain_blocks", list_blocks),
        web.post("/api/v1/admin/domain_blocks", create_block),
        web.get("/api/v1/admin/domain_blocks/{id}", show_block),
        web.put("/api/v1/admin/domain_blocks/{id}", change_block),
        web.delete("/api/v1/admin/domain_blocks/{id}", delete_block),
        web.get("/api/v1/admin/domain_allows", list_allows),
        web.post("/api/v1/admin/domain_allows", create_allow),
        web.get("/api/v1/admin/domain_allows/{id}", show_allow),
        web.delete("/api/v1/admin/domain_allows/{id}", delete_allow),
        web.get("/api/v1/instance/domain_blocks", public_blocks),
    ]
