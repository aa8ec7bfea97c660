"""Who is signed in on a web page, the CSRF check on forms, and the page headers.

A signed-in browser holds one cookie, ``agora_session``: a random secret
whose SHA-256 hash names a row of ``web_sessions`` (HttpOnly, SameSite=Lax,
Secure when the node is served over https). Every form that changes state
carries a CSRF token in a hidden field: the session's own token when signed
in, or, before signing in (the sign-in and sign-up forms), the value of a
second cookie that only this site can have set. ``form`` reads a POST body
and checks that token before a handler sees any field; a missing or wrong
one is a 403 page.

``page_middleware`` gives every HTML answer the strict headers: a
Content-Security-Policy with no inline script or style, no framing, no
MIME sniffing, no referrer beyond this origin.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from agora_node.actions.login import SESSION_COOKIE, signed_in
from agora_node.actions.media import Incoming, MediaService, receive_form
from agora_node.context import DB, SETTINGS
from agora_node.errors import Forbidden
from agora_node.processing import oauth as secrets
from agora_node.ratelimit import client_ip
from agora_node.store import web_sessions as sessions_store
from agora_node.store.accounts import AccountRow
from agora_node.store.web_sessions import WebSessionRow

CSRF_COOKIE = "agora_csrf"
CSRF_FIELD = "csrf"
# A session not remembered ends after this long unused; a remembered one after REMEMBER.
SESSION_IDLE = 12 * 3600
REMEMBER = 30 * 86400
# How stale ``seen_at`` may get before a request writes it again (keeps reads read-only).
_TOUCH_AFTER = 300

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Visitor:
    """The account signed in on this request, and its session."""

    account: AccountRow
    session: WebSessionRow

    @property
    def actor_uri(self) -> str:
        return self.account.actor.uri if self.account.actor else ""

    @property
    def username(self) -> str:
        return self.account.username


_VISITOR: web.RequestKey[Visitor | None] = web.RequestKey("visitor")
_NEW_CSRF = web.RequestKey("new_csrf", str)


def _secure(request: web.Request) -> bool:
    return request.app[SETTINGS].base_url.startswith("https://")


def _expiry(remember: bool, now: float) -> float:
    return now + (REMEMBER if remember else SESSION_IDLE)


async def visitor(request: web.Request) -> Visitor | None:
    """The signed-in account, from the session cookie (looked up once per request)."""
    if _VISITOR in request:
        return request[_VISITOR]
    request[_VISITOR] = None
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    id_hash, now = secrets.hash_secret(secret), time.time()
    db = request.app[DB]
    pair = await db.read(lambda c: signed_in(c, secret, now))
    if pair is None:
        return None
    found = Visitor(*pair)
    if now - found.session.seen_at > _TOUCH_AFTER:
        until = _expiry(found.session.remember, now)
        await db.write(lambda c: sessions_store.touch_session(c, id_hash, now, until))
    request[_VISITOR] = found
    return found


async def required_visitor(request: web.Request) -> Visitor:
    """The signed-in account; a visitor who is not signed in is sent to sign in."""
    found = await visitor(request)
    if found is None:
        raise web.HTTPSeeOther(f"/auth/sign_in?next={safe_next(request.path_qs)}")
    return found


def safe_next(value: str | None, default: str = "/home") -> str:
    """A path on this site to go to after a form (never another site)."""
    text = (value or "").strip()
    if not text.startswith("/") or text.startswith("//") or "\\" in text or len(text) > 2000:
        return default
    if any(ord(ch) < 32 for ch in text):
        return default
    return text


def see_other(location: str) -> web.Response:
    """A 303 to ``location`` that can carry cookies (a raised redirect is not kept for that)."""
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


async def start_session(
    request: web.Request, response: web.StreamResponse, account: AccountRow, *, remember: bool
) -> None:
    """Sign ``account`` in on this browser: a new session row and its cookie."""
    secret, now = secrets.new_secret(), time.time()
    row = WebSessionRow(
        id_hash=secrets.hash_secret(secret),
        account_id=account.id,
        csrf=secrets.new_secret(),
        created_at=now,
        seen_at=now,
        expires_at=_expiry(remember, now),
        remember=remember,
        user_agent=request.headers.get("User-Agent", "")[:300],
        ip=client_ip(request),
    )
    await request.app[DB].write(lambda c: sessions_store.insert_session(c, row))
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=REMEMBER if remember else None,
        path="/",
        httponly=True,
        secure=_secure(request),
        samesite="Lax",
    )


async def end_session(request: web.Request, response: web.StreamResponse) -> None:
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        id_hash = secrets.hash_secret(secret)
        await request.app[DB].write(lambda c: sessions_store.delete_session(c, id_hash))
    response.del_cookie(SESSION_COOKIE, path="/")


# -- CSRF -------------------------------------------------------------------------


async def csrf_token(request: web.Request) -> str:
    """The token this request's forms carry."""
    found = await visitor(request)
    if found is not None:
        return found.session.csrf
    token = request.cookies.get(CSRF_COOKIE) or request.get(_NEW_CSRF)
    if not token:
        token = secrets.new_secret()
        request[_NEW_CSRF] = token  # set as a cookie on the way out
    return token


async def form(request: web.Request) -> MultiDictProxy[Any]:
    """The POSTed form, once its CSRF token is checked (403 when missing or wrong)."""
    if request.content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise Forbidden("this form must be sent from a page of this site")
    body = await request.post()
    _check_csrf(await visitor(request), request, body.get(CSRF_FIELD))
    return body


def _check_csrf(found: Visitor | None, request: web.Request, sent: object) -> None:
    expected = found.session.csrf if found else request.cookies.get(CSRF_COOKIE, "")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "this form has expired or did not come from this site: reload the page and try again"
        )


async def form_with_files(
    request: web.Request, service: MediaService
) -> tuple[MultiDictProxy[str], dict[str, Incoming]]:
    """A multipart form read as it arrives: text fields (checked for the CSRF
    token, as ``form`` does) and the chosen files, each written to an incoming
    file of ``service`` by field name. Nothing stays on disk when it fails."""
    if not request.content_type.startswith("multipart/form-data"):
        return await form(request), {}
    received = await receive_form(await request.multipart(), service, None)
    fields: MultiDict[str] = MultiDict(received.fields)
    try:
        _check_csrf(await visitor(request), request, fields.get(CSRF_FIELD))
    except BaseException:
        await received.discard(service)
        raise
    return MultiDictProxy(fields), received.files


def text_field(body: MultiDictProxy[Any], name: str) -> str:
    value = body.get(name)
    return value if isinstance(value, str) else ""


# -- headers ----------------------------------------------------------------------


def content_security_policy(request: web.Request, *, forms_leave: bool = False) -> str:
    """``forms_leave``: a form on the page may send the browser on to another server
    (the answer redirects there, which ``form-action`` governs too)."""
    settings = request.app[SETTINGS]
    plain = " http:" if settings.federation.plain_http_hosts else ""  # http:// dev nodes
    forms = "'self' https:" + plain if forms_leave else "'self'"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' https: data:{plain}; media-src 'self' https:; connect-src 'self'; "
        f"form-action {forms}; frame-ancestors 'none'; base-uri 'none'"
    )


@web.middleware
async def page_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Strict headers on every HTML page, and the pre-session CSRF cookie when minted."""
    response = await handler(request)
    if response.content_type == "text/html":
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(request))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        new = request.get(_NEW_CSRF)
        if new:
            response.set_cookie(
                CSRF_COOKIE, new, path="/", httponly=True, secure=_secure(request), samesite="Lax"
            )
    return response
