"""Signing in, out and up in a browser.

Sign-in checks the password with the one rule every surface uses
(``actions.login``: throttled per account and per address, the same answer
for an unknown name and a wrong password) and starts a session
(``web.session``). Sign-up follows the node's registration mode through
``actions.signups``; the form shows every reason it was refused at once.
"""

from __future__ import annotations

import time

from aiohttp import web

from agora_node.actions.login import LoginThrottled, authenticate_password
from agora_node.actions.signups import Node, SignupRefused, sign_up
from agora_node.context import DB, INSTANCE, SETTINGS, URLS
from agora_node.errors import Forbidden, Unauthorized
from agora_node.processing.accounts import MIN_PASSWORD_LENGTH
from agora_node.processing.signups import SignupForm
from agora_node.ratelimit import client_ip
from agora_node.web.rendering import page
from agora_node.web.session import (
    end_session,
    form,
    safe_next,
    see_other,
    start_session,
    text_field,
)


async def _sign_in_page(
    request: web.Request, *, next_path: str, username: str = "", error: str = "", status: int = 200
) -> web.Response:
    return await page(
        request,
        "sign_in.html",
        {
            "next_path": next_path,
            "username": username,
            "error": error,
            "registration": request.app[INSTANCE].current.registration,
        },
        title="Sign in",
        status=status,
    )


async def sign_in_form(request: web.Request) -> web.Response:
    return await _sign_in_page(request, next_path=safe_next(request.query.get("next")))


async def sign_in(request: web.Request) -> web.Response:
    body = await form(request)
    username, next_path = text_field(body, "username"), safe_next(text_field(body, "next"))
    try:
        account = await authenticate_password(
            request.app[DB],
            request.app[SETTINGS].domain,
            username,
            text_field(body, "password"),
            ip=client_ip(request),
            now=time.time(),
        )
    except LoginThrottled as exc:
        resp = await _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            error="Too many failed attempts; wait a few minutes and try again.",
            status=429,
        )
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except Unauthorized:
        return await _sign_in_page(
            request,
            next_path=next_path,
            username=username,
            error="Wrong username or password.",
            status=422,
        )
    except Forbidden as exc:
        return await _sign_in_page(
            request, next_path=next_path, username=username, error=exc.public_message, status=403
        )
    response = see_other(next_path)
    await start_session(request, response, account, remember=text_field(body, "remember") == "1")
    return response


async def sign_out(request: web.Request) -> web.Response:
    await form(request)
    response = see_other("/")
    await end_session(request, response)
    return response


async def _sign_up_page(
    request: web.Request,
    *,
    entry: SignupForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> web.Response:
    settings, inst = request.app[SETTINGS], request.app[INSTANCE].current
    invite = entry.invite if entry else request.query.get("invite", "")[:100]
    return await page(
        request,
        "sign_up.html",
        {
            "mode": inst.registration,
            "contact": inst.admin_contact,
            "rules": inst.rules,
            "domain": settings.domain,
            "min_password": MIN_PASSWORD_LENGTH,
            "invite": invite,
            "username": entry.username if entry else "",
            "reason": entry.reason if entry else "",
            "errors": errors or [],
        },
        title="Sign up",
        status=status,
    )


async def sign_up_form(request: web.Request) -> web.Response:
    return await _sign_up_page(request)


async def sign_up_submit(request: web.Request) -> web.Response:
    body = await form(request)
    settings, inst = request.app[SETTINGS], request.app[INSTANCE].current
    entry = SignupForm(
        username=text_field(body, "username").strip(),
        password=text_field(body, "password"),
        confirm=text_field(body, "confirm"),
        reason=text_field(body, "reason"),
        agreed=text_field(body, "agreement") == "1",
        invite=text_field(body, "invite"),
    )
    node = Node(request.app[DB], request.app[URLS], settings.domain)
    try:
        made = await sign_up(
            node,
            entry,
            mode=inst.registration,
            has_rules=bool(inst.rules),
            ip=client_ip(request),
            now=time.time(),
        )
    except SignupRefused as exc:
        return await _sign_up_page(request, entry=entry, errors=exc.reasons, status=422)
    if made.account is None:
        return await page(
            request,
            "message.html",
            {
                "heading": "Thank you: your sign-up is waiting for approval",
                "message": f"The admin of {inst.name} will look at it soon. "
                "Once it is approved you can sign in with the name and password you chose.",
            },
            title="Sign-up received",
        )
    response = see_other("/home")
    await start_session(request, response, made.account, remember=False)
    return response


def routes() -> list[web.RouteDef]:
    return [
        web.get("/auth/sign_in", sign_in_form),
        web.post("/auth/sign_in", sign_in),
        web.post("/auth/sign_out", sign_out),
        web.get("/auth/sign_up", sign_up_form),
        web.post("/auth/sign_up", sign_up_submit),
    ]
