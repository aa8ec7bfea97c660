"""Settings for the account itself: authorised apps, import and export,
moving between servers, and deleting the account.

Each handler calls one action of ``actions.account`` or
``actions.imports``; the rules (what a move needs, what a deletion takes
down) live there. Moving and deleting ask for the password again, checked
like a sign-in (throttled).
"""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from agora_node.actions import account as account_actions
from agora_node.actions.imports import Importer, start_follows_import
from agora_node.context import DB, SETTINGS
from agora_node.errors import AgoraError, BadRequest, NotFound, UnprocessableEntity
from agora_node.federation.actor_cache import ACTOR_CACHE
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.exports import EXPORT_FILES, MAX_IMPORT_BYTES
from agora_node.store import imports as imports_store
from agora_node.web.rendering import page
from agora_node.web.session import (
    Visitor,
    end_session,
    form,
    required_visitor,
    text_field,
)
from agora_node.web.settings import password_problem
from agora_node.web.views import caller_for

IMPORTER = web.AppKey("importer", Importer)

_EXPORT_LABELS = {
    "following": "People you follow",
    "followers": "Your followers",
    "blocks": "People you block",
    "mutes": "People you mute",
}


def _number(raw: str, what: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise BadRequest(f"{what} must be a number")
    return int(raw)


# -- apps ----------------------------------------------------------------------------


async def apps_page(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    apps = await account_actions.authorised_apps(caller_for(request, who))
    return await page(
        request,
        "settings_apps.html",
        {"apps": apps, "revoked": request.query.get("revoked") == "1"},
        title="Apps · Settings",
    )


async def revoke_app(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    app_id, token_id = text_field(body, "app"), text_field(body, "token")
    await account_actions.revoke_app(
        caller_for(request, who),
        app_id=_number(app_id, "app") if app_id else None,
        token_id=_number(token_id, "token") if token_id else None,
    )
    raise web.HTTPSeeOther("/settings/apps?revoked=1")


# -- import and export -----------------------------------------------------------------


async def _data_page(
    request: web.Request, who: Visitor, *, error: str = "", status: int = 200
) -> web.Response:
    imports = await request.app[DB].read(lambda c: imports_store.imports_of(c, who.account.id))
    return await page(
        request,
        "settings_data.html",
        {
            "exports": [(kind, _EXPORT_LABELS[kind], name) for kind, name in EXPORT_FILES.items()],
            "imports": imports,
            "running": any(i.finished_at is None for i in imports),
            "error": error,
            "max_kb": MAX_IMPORT_BYTES // 1024,
        },
        title="Import and export · Settings",
        status=status,
    )


async def data_page(request: web.Request) -> web.Response:
    return await _data_page(request, await required_visitor(request))


async def export_file(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    name = request.match_info["name"]
    kind = next((k for k, n in EXPORT_FILES.items() if n == name), None)
    if kind is None:
        raise NotFound(f"no export named {name!r}")
    text = await account_actions.export(caller_for(request, who), kind)
    resp = web.Response(text=text, content_type="text/csv", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


async def import_follows(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    upload = body.get("file")
    if upload is None or isinstance(upload, str) or isinstance(upload, BodyPartReader):
        return await _data_page(request, who, error="Choose a CSV file to import.", status=422)
    data = upload.file.read(MAX_IMPORT_BYTES + 1)
    try:
        await start_follows_import(caller_for(request, who), data)
    except UnprocessableEntity as exc:
        return await _data_page(request, who, error=exc.public_message, status=422)
    request.app[IMPORTER].wake.set()
    raise web.HTTPSeeOther("/settings/data")


# -- moving ----------------------------------------------------------------------------


async def _migration_page(
    request: web.Request, who: Visitor, *, error: str = "", status: int = 200
) -> web.Response:
    actor = who.account.actor
    return await page(
        request,
        "settings_migration.html",
        {
            "aliases": list(actor.also_known_as) if actor else [],
            "moved_to": actor.moved_to if actor else None,
            "error": error,
            "handle": f"{who.username}@{request.app[SETTINGS].domain}",
        },
        title="Moving · Settings",
        status=status,
    )


async def migration_page(request: web.Request) -> web.Response:
    return await _migration_page(request, await required_visitor(request))


async def add_alias(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    address = text_field(body, "address").strip()
    if not address:
        return await _migration_page(request, who, error="Name the other account.", status=422)
    try:
        await account_actions.add_alias(caller_for(request, who), address)
    except AgoraError as exc:
        if exc.status >= 500:
            raise
        return await _migration_page(request, who, error=exc.public_message, status=422)
    request.app[ACTOR_CACHE].invalidate(who.username)
    raise web.HTTPSeeOther("/settings/migration")


async def remove_alias(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    await account_actions.remove_alias(caller_for(request, who), text_field(body, "alias"))
    request.app[ACTOR_CACHE].invalidate(who.username)
    raise web.HTTPSeeOther("/settings/migration")


async def move(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    wrong, status = await password_problem(request, who, text_field(body, "password"))
    if wrong:
        return await _migration_page(request, who, error=wrong, status=status)
    address = text_field(body, "address").strip()
    if not address:
        return await _migration_page(request, who, error="Name the new account.", status=422)
    try:
        effects = await account_actions.move_to(caller_for(request, who), address)
    except AgoraError as exc:
        if exc.status >= 500:
            raise
        return await _migration_page(request, who, error=exc.public_message, status=422)
    request.app[ACTOR_CACHE].invalidate(who.username)
    if effects.deliveries:
        request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther("/settings/migration")


# -- deleting ---------------------------------------------------------------------------


async def _delete_page(
    request: web.Request, who: Visitor, *, error: str = "", status: int = 200
) -> web.Response:
    return await page(
        request,
        "settings_delete.html",
        {"error": error, "handle": f"{who.username}@{request.app[SETTINGS].domain}"},
        title="Delete account · Settings",
        status=status,
    )


async def delete_page(request: web.Request) -> web.Response:
    return await _delete_page(request, await required_visitor(request))


async def delete_account(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    wrong, status = await password_problem(request, who, text_field(body, "password"))
    if wrong:
        return await _delete_page(request, who, error=wrong, status=status)
    if text_field(body, "confirm").strip().lstrip("@") != who.username:
        return await _delete_page(request, who, error="Type your username to confirm.", status=422)
    effects = await account_actions.delete_own(caller_for(request, who))
    request.app[ACTOR_CACHE].invalidate(who.username)
    if effects.deliveries:
        request.app[DELIVERY_WAKE].set()
    response = await page(
        request,
        "message.html",
        {
            "heading": "Your account is deleted",
            "message": f"@{who.username} is gone from this server, and the servers of your "
            "followers are being told to remove it too. Thank you for having been here.",
        },
        title="Account deleted",
    )
    await end_session(request, response)
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/settings/apps", apps_page),
        web.post("/settings/apps/revoke", revoke_app),
        web.get("/settings/data", data_page),
        web.get("/settings/export/{name}", export_file),
        web.post("/settings/import", import_follows),
        web.get("/settings/migration", migration_page),
        web.post("/settings/aliases/add", add_alias),
        web.post("/settings/aliases/remove", remove_alias),
        web.post("/settings/move", move),
        web.get("/settings/delete", delete_page),
        web.post("/settings/delete", delete_account),
    ]
