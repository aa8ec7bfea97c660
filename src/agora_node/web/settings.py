"""A person's settings: their profile, their password, and where they are signed in.

The profile form calls ``actions.profile.update_profile``, the action behind
the client API's ``update_credentials`` (the followers' servers get the same
Update). Changing the password checks the current one through the sign-in
rule (throttled like a sign-in) and ends every other session and every app
token of the account (``actions.admin.change_password``).
"""

from __future__ import annotations

import functools
import time
from typing import Any

from aiohttp import web

from agora_node.actions import admin, media
from agora_node.actions.login import LoginThrottled, authenticate_password
from agora_node.actions.media import MEDIA, Incoming
from agora_node.actions.profile import update_profile
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.errors import BadRequest, NotFound, Unauthorized, UnprocessableEntity
from agora_node.federation.actor_cache import ACTOR_CACHE
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.accounts import MIN_PASSWORD_LENGTH
from agora_node.processing.profile import MAX_FIELDS, ProfileChange
from agora_node.ratelimit import client_ip
from agora_node.store import web_sessions as sessions_store
from agora_node.web.rendering import page
from agora_node.web.session import Visitor, form, form_with_files, required_visitor, text_field
from agora_node.web.views import caller_for


async def password_problem(request: web.Request, who: Visitor, password: str) -> tuple[str, int]:
    """('', 200) when ``password`` is the visitor's own (checked, and throttled,
    as a sign-in is), else what to tell them and the page's status."""
    try:
        await authenticate_password(
            request.app[DB], request.app[SETTINGS].domain, who.username, password,
            ip=client_ip(request), now=time.time(),
        )  # fmt: skip
    except LoginThrottled:
        return "Too many wrong passwords; try again later.", 429
    except Unauthorized:
        return "The password is not right.", 422
    return "", 200


async def _profile_page(
    request: web.Request, who: Visitor, *, error: str = "", status: int = 200
) -> web.Response:
    base = request.app[SETTINGS].base_url

    me = await request.app[DB].read(
        lambda c: serialize.load_credential_account(c, who.account.id, base)
    )
    if me is None:
        raise NotFound("no such account")
    saved = request.query.get("saved") == "1"
    return await page(
        request,
        "settings_profile.html",
        {"me": me, "error": error, "saved": saved, "max_fields": MAX_FIELDS},
        title="Profile · Settings",
        status=status,
    )


async def profile_form(request: web.Request) -> web.Response:
    return await _profile_page(request, await required_visitor(request))


async def save_profile(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    service = request.app[MEDIA]
    body, pictures = await form_with_files(request, service)
    try:
        return await _save_profile(request, who, body, pictures)
    finally:  # what a failure left unread
        for got in pictures.values():
            await service.run(functools.partial(got.path.unlink, missing_ok=True))


async def _save_profile(
    request: web.Request, who: Visitor, body: Any, pictures: dict[str, Incoming]
) -> web.Response:
    service, caller = request.app[MEDIA], caller_for(request, who)
    for kind in ("avatar", "header"):
        try:
            if kind in pictures:
                await media.set_picture(caller, service, kind, pictures.pop(kind))
            elif text_field(body, f"remove_{kind}") == "1":
                await media.set_picture(caller, service, kind, None)
        except UnprocessableEntity as exc:
            message = exc.public_message.removeprefix("Validation failed: ")
            return await _profile_page(request, who, error=message, status=422)
    names = [v if isinstance(v, str) else "" for v in body.getall("field_name", [])]
    values = [v if isinstance(v, str) else "" for v in body.getall("field_value", [])]
    if len(names) != len(values):
        raise BadRequest("each profile field needs a label and a content input")
    fields = tuple(
        (n.strip(), v.strip()) for n, v in zip(names, values, strict=True) if n.strip() or v.strip()
    )
    change = ProfileChange(
        display_name=text_field(body, "display_name").strip(),
        note=text_field(body, "note"),
        locked=text_field(body, "locked") == "1",
        bot=text_field(body, "bot") == "1",
        discoverable=text_field(body, "discoverable") == "1",
        fields=fields,
        hide_collections=text_field(body, "hide_collections") == "1",
    )
    try:
        sent = await update_profile(caller, change)
    except UnprocessableEntity as exc:
        return await _profile_page(
            request, who, error=exc.public_message.removeprefix("Validation failed: "), status=422
        )
    request.app[ACTOR_CACHE].invalidate(who.username)
    if sent is not None and sent.deliveries:
        request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther("/settings/profile?saved=1")


async def _account_page(
    request: web.Request, who: Visitor, *, error: str = "", status: int = 200
) -> web.Response:
    now = time.time()
    rows = await request.app[DB].read(lambda c: sessions_store.sessions_of(c, who.account.id, now))
    return await page(
        request,
        "settings_account.html",
        {
            "sessions": rows,
            "current": who.session.id_hash,
            "error": error,
            "changed": request.query.get("changed") == "1",
            "min_password": MIN_PASSWORD_LENGTH,
        },
        title="Account · Settings",
        status=status,
    )


async def account_form(request: web.Request) -> web.Response:
    return await _account_page(request, await required_visitor(request))


async def change_password(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    new, confirm = text_field(body, "new_password"), text_field(body, "confirm")
    if new != confirm:
        return await _account_page(request, who, error="The new passwords differ.", status=422)
    if len(new) < MIN_PASSWORD_LENGTH:
        return await _account_page(
            request, who, status=422,
            error=f"The new password needs at least {MIN_PASSWORD_LENGTH} characters.",
        )  # fmt: skip
    wrong, status = await password_problem(request, who, text_field(body, "current_password"))
    if wrong:
        return await _account_page(request, who, error=wrong, status=status)
    try:
        await admin.change_password(
            request.app[DB], who.account, new, now=time.time(), keep=who.session.id_hash
        )
    except BadRequest as exc:
        return await _account_page(request, who, error=exc.public_message, status=422)
    raise web.HTTPSeeOther("/settings/account?changed=1")


async def end_session(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    body = await form(request)
    target = text_field(body, "session")
    if target == who.session.id_hash:
        raise UnprocessableEntity("use Sign out to end this session")
    if not await request.app[DB].write(
        lambda c: sessions_store.delete_session_of(c, who.account.id, target)
    ):
        raise NotFound("no such session")
    raise web.HTTPSeeOther("/settings/account")


async def settings_index(request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/settings/profile")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/settings", settings_index),
        web.get("/settings/profile", profile_form),
        web.post("/settings/profile", save_profile),
        web.get("/settings/account", account_form),
        web.post("/settings/password", change_password),
        web.post("/settings/sessions/end", end_session),
    ]
