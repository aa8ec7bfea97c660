"""Accounts for Mastodon clients: one's own, anyone's by id or handle, their
posts, followers and following, and account search.

Account ids are actor row ids, so local and remote accounts share one id
space; the entity is rendered by ``entities/serialize.py`` in one shape everywhere.
A handle with ``resolve=true`` is looked up over WebFinger (signed-in callers
only), so a person can find someone on another server by ``@user@host``.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import media, profile
from agora_node.actions import search as finding
from agora_node.actions.media import MEDIA
from agora_node.api.relationships import actor_in_path, listed
from agora_node.api.requests import (
    base_url,
    body_params_and_files,
    bool_param,
    caller_of,
    flag,
    int_query,
    list_response,
    maybe_signed_in,
    page_of,
    signed_in,
    text_param,
)
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import AgoraError, BadRequest, NotFound, UnprocessableEntity
from agora_node.federation.actor_cache import ACTOR_CACHE
from agora_node.federation.resolve import split_handle
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.profile import ProfileChange
from agora_node.processing.visibility import may_list_relations
from agora_node.store import accounts as accounts_store
from agora_node.store import statuses as statuses_store
from agora_node.store.accounts import AccountRow, ActorRow

_SEARCH_LIMIT = 40


async def _credentials(request: web.Request, account: AccountRow) -> web.Response:
    base = base_url(request)

    body = await request.app[DB].read(
        lambda c: serialize.load_credential_account(c, account.id, base)
    )
    if body is None:
        raise NotFound("Record not found")
    return web.json_response(body)


async def verify_credentials(request: web.Request) -> web.Response:
    who = await signed_in(request, "profile", "read:accounts")
    return await _credentials(request, who.account)


def _fields(params: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    """``fields_attributes`` as Mastodon's forms send it: a list, or a map by index."""
    raw = params.get("fields_attributes")
    if raw is None:
        return None
    if isinstance(raw, dict):
        items = [raw[k] for k in sorted(raw, key=lambda k: (len(str(k)), str(k)))]
    elif isinstance(raw, list):
        items = raw
    else:
        raise UnprocessableEntity("fields_attributes must be a list of name and value pairs")
    out: list[tuple[str, str]] = []
    for item in items:
        if not isinstance(item, dict):
            raise UnprocessableEntity("each of fields_attributes needs a name and a value")
        out.append((text_param(item, "name"), text_param(item, "value")))
    return tuple(out)


def _optional_bool(params: dict[str, Any], name: str) -> bool | None:
    return None if params.get(name) in (None, "") else bool_param(params, name)


async def update_credentials(request: web.Request) -> web.Response:
    """``PATCH``: display name, note, locked, bot, discoverable, profile fields and
    the posting defaults under ``source``; answers with the new CredentialAccount."""
    who = await signed_in(request, "write:accounts")
    service = request.app[MEDIA]
    params, pictures = await body_params_and_files(request, service, ("avatar", "header"))
    caller = caller_of(request, who)
    try:
        change = _profile_change(params)
        for kind in ("avatar", "header"):
            if kind in pictures:
                await media.set_picture(caller, service, kind, pictures.pop(kind))
    finally:  # what a failure left unread
        for got in pictures.values():
            await service.run(functools.partial(got.path.unlink, missing_ok=True))
    await profile.update_profile(caller_of(request, who), change)
    request.app[DELIVERY_WAKE].set()
    request.app[ACTOR_CACHE].invalidate(who.account.username)
    return await _credentials(request, who.account)


async def delete_picture(request: web.Request) -> web.Response:
    """``DELETE /api/v1/profile/avatar`` (or ``header``): back to the default picture."""
    who = await signed_in(request, "write:accounts")
    kind = request.match_info["kind"]
    await media.set_picture(caller_of(request, who), request.app[MEDIA], kind, None)
    request.app[DELIVERY_WAKE].set()
    request.app[ACTOR_CACHE].invalidate(who.account.username)
    return await _credentials(request, who.account)


def _profile_change(params: dict[str, Any]) -> ProfileChange:
    source = params.get("source") or {}
    if not isinstance(source, dict):
        raise UnprocessableEntity("source must hold privacy, sensitive and language")
    display_name, note = params.get("display_name"), params.get("note")
    return ProfileChange(
        display_name=None if display_name is None else text_param(params, "display_name"),
        note=None if note is None else text_param(params, "note"),
        locked=_optional_bool(params, "locked"),
        bot=_optional_bool(params, "bot"),
        discoverable=_optional_bool(params, "discoverable"),
        fields=_fields(params),
        privacy=text_param(source, "privacy") or None,
        sensitive=_optional_bool(source, "sensitive"),
        language=None if source.get("language") is None else text_param(source, "language"),
        hide_collections=_optional_bool(params, "hide_collections"),
    )


async def _one(request: web.Request, actor: ActorRow) -> web.Response:
    base = base_url(request)
    body = await request.app[DB].read(
        lambda c: serialize.account_json(serialize.account_rendering(c, actor, base), actor)
    )
    return web.json_response(body)


async def get_account(request: web.Request) -> web.Response:
    await maybe_signed_in(request, "read:accounts")
    return await _one(request, await actor_in_path(request))


async def lookup(request: web.Request) -> web.Response:
    """``?acct=user`` or ``user@host``: a known account by handle, without fetching."""
    await maybe_signed_in(request, "read:accounts")
    acct = request.query.get("acct", "").strip()
    if not acct:
        raise BadRequest("acct is required")
    domain = request.app[SETTINGS].domain
    try:
        user, host = split_handle(acct, domain)
    except AgoraError:
        raise NotFound("Record not found") from None
    actor = await request.app[DB].read(lambda c: accounts_store.get_actor_by_acct(c, user, host))
    if actor is None or actor.deleted_at is not None:
        raise NotFound("Record not found")
    return await _one(request, actor)


async def statuses(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    actor = await actor_in_path(request)
    page = page_of(request)
    replies, reblogs = not flag(request, "exclude_replies"), not flag(request, "exclude_reblogs")
    only_media, pinned = flag(request, "only_media"), flag(request, "pinned")
    tagged = request.query.get("tagged", "").strip() or None
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        rows = statuses_store.account_statuses(
            c, actor.uri, viewer_uri, page, replies=replies, reblogs=reblogs,
            only_media=only_media, pinned=pinned, tagged=tagged,
        )  # fmt: skip
        ctx = serialize.load_statuses(c, rows, viewer_uri, base, filter_context="account")
        return [r.id for r in rows], serialize.statuses_json(ctx, rows)

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def _relations(request: web.Request, kind: str) -> web.Response:
    """An account's followers or following: an empty list when it hides them
    from the one asking (``processing.visibility.may_list_relations``)."""
    who = await maybe_signed_in(request, "read:accounts")
    owner = (await actor_in_path(request)).uri
    hidden = await request.app[DB].read(lambda c: accounts_store.hides_collections(c, owner))
    if not may_list_relations(owner, who.actor_uri if who else None, hidden):
        return web.json_response([])
    return await listed(request, owner, kind)


async def followers(request: web.Request) -> web.Response:
    return await _relations(request, "followers")


async def following(request: web.Request) -> web.Response:
    return await _relations(request, "following")


def accounts_json(
    c: sqlite_utils.Database, base: str, actors: list[ActorRow]
) -> list[dict[str, Any]]:
    ctx = serialize.accounts_rendering(c, actors, base)
    return [serialize.account_json(ctx, a) for a in actors]


async def search(request: web.Request) -> web.Response:
    """Known accounts by name; with ``resolve=true``, a handle is looked up remotely."""
    who = await signed_in(request, "read:accounts")
    limit = max(1, int_query(request, "limit", _SEARCH_LIMIT, _SEARCH_LIMIT))
    offset = int_query(request, "offset", 0, 10_000)
    actors = await finding.accounts(
        request.app[DB], caller_of(request, who), request.query.get("q", ""),
        limit=limit, offset=offset, resolve=flag(request, "resolve"),
    )  # fmt: skip
    base = base_url(request)
    return web.json_response(await request.app[DB].read(lambda c: accounts_json(c, base, actors)))


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/accounts/{id:\d+}"
    return [
        web.get("/api/v1/accounts/verify_credentials", verify_credentials),
        web.patch("/api/v1/accounts/update_credentials", update_credentials),
        web.delete("/api/v1/profile/{kind:avatar|header}", delete_picture),
        web.get("/api/v1/accounts/lookup", lookup),
        web.get("/api/v1/accounts/search", search),
        web.get(one, get_account),
        web.get(f"{one}/statuses", statuses),
        web.get(f"{one}/followers", followers),
        web.get(f"{one}/following", following),
    ]
