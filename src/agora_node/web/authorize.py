"""The OAuth authorization page (``/oauth/authorize``): sign in, approve or deny.

GET shows which application asks for which scopes, with a sign-in form, or,
when the browser is signed in to the web pages (and the client did not ask
for ``force_login``), the account it will act for; approving as that account
needs the session's CSRF token. POST checks the password (``actions.login``),
and on approval creates a
code (``processing.oauth``) and sends the browser back to the client, or,
for out-of-band clients, shows the code. A wrong client or redirect URI is
shown as an error and never redirected to; every other refusal goes back
to the client as OAuth says.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from agora_node.actions.login import LoginThrottled, authenticate_password
from agora_node.context import DB, INSTANCE, SETTINGS
from agora_node.errors import BadRequest, Forbidden, Unauthorized
from agora_node.processing import oauth as rules
from agora_node.processing.oauth import OAuthError
from agora_node.ratelimit import client_ip
from agora_node.store import tokens as tokens_store
from agora_node.store.accounts import AccountRow
from agora_node.store.tokens import AppRow
from agora_node.web.rendering import render
from agora_node.web.session import Visitor, csrf_token, form, visitor

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS = {
    **_NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# The request's parameters the form carries from the GET to the POST.
_FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "force_login",
)


@dataclass(frozen=True)
class _Authorization:
    app: AppRow
    redirect_uri: str
    scopes: frozenset[str]
    challenge: tuple[str, str] | None
    state: str | None


def _page(
    request: web.Request, template: str, context: dict[str, Any], title: str, status: int = 200
) -> web.Response:
    site = request.app[INSTANCE].current.name
    resp = render(request, template, context, title=title, site_name=site, status=status)
    resp.headers.update(_PAGE_HEADERS)
    return resp


def _failed(request: web.Request, message: str) -> web.Response:
    return _page(request, "message.html", {"message": message}, "Authorization failed", 400)


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


async def _authorization(request: web.Request, params: dict[str, str]) -> _Authorization:
    client_id = params.get("client_id", "")
    app = await request.app[DB].read(lambda c: tokens_store.get_app_by_client_id(c, client_id))
    if app is None:
        raise BadRequest("Unknown client_id: this application is not registered here.")
    redirect_uri = params.get("redirect_uri", "")
    if redirect_uri not in app.redirect_uris:
        raise BadRequest("The redirect_uri is not registered for this application.")
    return _Authorization(app, redirect_uri, frozenset(), None, params.get("state"))


def _terms(auth_req: _Authorization, params: dict[str, str]) -> _Authorization:
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "response_type must be code")
    scopes = rules.requested_scopes(auth_req.app, params.get("scope"))
    challenge = rules.check_code_challenge(
        params.get("code_challenge"), params.get("code_challenge_method")
    )
    return _Authorization(auth_req.app, auth_req.redirect_uri, scopes, challenge, auth_req.state)


def _send_back(
    request: web.Request, auth_req: _Authorization, values: dict[str, str]
) -> web.Response:
    """Redirect to the client, or show the values for out-of-band clients."""
    if auth_req.redirect_uri == rules.OOB_URI:
        if "code" in values:
            context = {"app_name": auth_req.app.name, "code": values["code"]}
            return _page(request, "authorize_code.html", context, "Authorization code")
        return _failed(request, values.get("error_description") or values.get("error", ""))
    location = _with_query(auth_req.redirect_uri, {**values, "state": auth_req.state})
    raise web.HTTPFound(location, headers=_NO_STORE)


def _refuse(request: web.Request, auth_req: _Authorization, exc: OAuthError) -> web.Response:
    values = {"error": exc.code, "error_description": str(exc.details["error_description"])}
    return _send_back(request, auth_req, values)


async def _signed_in(request: web.Request, params: dict[str, str]) -> Visitor | None:
    """The browser's signed-in account, unless the client asked for a fresh sign-in."""
    if params.get("force_login", "").lower() in ("true", "1", "yes", "on"):
        return None
    return await visitor(request)


async def _form(
    request: web.Request,
    auth_req: _Authorization,
    params: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> web.Response:
    who = await _signed_in(request, params)
    context = {
        "signed_in": who.username if who else "",
        "csrf": await csrf_token(request) if who else "",
        "app": auth_req.app,
        "scopes": sorted(auth_req.scopes),
        "hidden": [(name, params[name]) for name in _FORWARDED if params.get(name)],
        "username": params.get("username", ""),
        "redirect_uri": auth_req.redirect_uri,
        "error": error,
    }
    return _page(request, "authorize.html", context, f"Authorize {auth_req.app.name}", status)


async def _checked(request: web.Request, params: dict[str, str]) -> _Authorization | web.Response:
    """The request's terms, or the page (or redirect) that refuses them."""
    try:
        auth_req = await _authorization(request, params)
    except BadRequest as exc:
        return _failed(request, str(exc))
    try:
        auth_req = _terms(auth_req, params)
        if request.method == "POST" and params.get("decision") == "deny":
            raise OAuthError("access_denied", "the user denied the request")
    except OAuthError as exc:
        return _refuse(request, auth_req, exc)
    return auth_req


async def authorize_form(request: web.Request) -> web.Response:
    params = {k: v for k in request.query if (v := request.query.get(k)) is not None}
    auth_req = await _checked(request, params)
    if isinstance(auth_req, web.Response):
        return auth_req
    return await _form(request, auth_req, params)


async def authorize_submit(request: web.Request) -> web.Response:
    body = await request.post()
    params = {k: v for k in body if isinstance(v := body.get(k), str)}
    auth_req = await _checked(request, params)
    if isinstance(auth_req, web.Response):
        return auth_req
    db = request.app[DB]
    who = await _signed_in(request, params)
    if who is not None and "password" not in params:
        await form(request)  # approving as the signed-in account: the CSRF token must match
        return await _grant(request, auth_req, who.account)
    try:
        account = await authenticate_password(
            db,
            request.app[SETTINGS].domain,
            params.get("username", ""),
            params.get("password", ""),
            ip=client_ip(request),
            now=time.time(),
        )
    except LoginThrottled as exc:
        resp = await _form(request, auth_req, params, error=exc.public_message, status=429)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except Unauthorized:
        return await _form(
            request, auth_req, params, error="Invalid username or password.", status=422
        )
    except Forbidden as exc:
        return await _form(request, auth_req, params, error=exc.public_message, status=403)
    return await _grant(request, auth_req, account)


async def _grant(
    request: web.Request, auth_req: _Authorization, account: AccountRow
) -> web.Response:
    """A code for ``account``, sent back to the client."""
    code = await request.app[DB].write(
        lambda c: rules.create_code(
            c,
            app=auth_req.app,
            account_id=account.id,
            redirect_uri=auth_req.redirect_uri,
            scopes=auth_req.scopes,
            challenge=auth_req.challenge,
            now=time.time(),
        )
    )
    return _send_back(request, auth_req, {"code": code})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/oauth/authorize", authorize_form),
        web.post("/oauth/authorize", authorize_submit),
    ]
