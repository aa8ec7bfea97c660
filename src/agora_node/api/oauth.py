"""OAuth 2.0 for clients, in the shape of Mastodon's API.

Routes: app registration (``POST /api/v1/apps``), the authorization page
(``/oauth/authorize``), the token and revocation endpoints, RFC 8414
metadata, and the two ``verify_credentials`` calls apps make right after
signing in. The rules live in ``processing.oauth``; this module reads
requests and shapes answers.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlencode

from aiohttp import web

from agora_node.api import auth
from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import BadRequest, NotFound, Unauthorized, UnprocessableEntity
from agora_node.processing import oauth as rules
from agora_node.processing.oauth import CodeReplayed, IssuedToken, OAuthError
from agora_node.store import accounts as accounts_store
from agora_node.store import collections as coll_store
from agora_node.store import tokens as tokens_store
from agora_node.store.accounts import AccountRow
from agora_node.store.tokens import AppRow
from agora_node.web import pages

log = logging.getLogger(__name__)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_PAGE_HEADERS = {
    **_NO_STORE,
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_ALL_VISIBILITIES = ("public", "unlisted", "private", "direct")


# -- request bodies -------------------------------------------------------------


async def _params(request: web.Request) -> dict[str, Any]:
    """Form or JSON body over query parameters (Rails-style, as Mastodon reads them)."""
    params: dict[str, Any] = {k: request.query.get(k) for k in request.query}
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except (ValueError, RecursionError):
            raise BadRequest("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        params.update(body)
    elif request.body_exists:
        form = await request.post()
        for key in form:
            values = [v for v in form.getall(key) if isinstance(v, str)]
            if values:
                name = key.removesuffix("[]")
                params[name] = values if key.endswith("[]") or len(values) > 1 else values[0]
    return params


def _text(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise OAuthError("invalid_request", f"{name} must be a string")


# -- app registration -------------------------------------------------------------


def _app_json(app: AppRow) -> dict[str, Any]:
    return {
        "id": str(app.id),
        "name": app.name,
        "website": app.website,
        "scopes": list(app.scopes),
        "redirect_uri": "\n".join(app.redirect_uris),
        "redirect_uris": list(app.redirect_uris),
        "vapid_key": "",
    }


async def create_app(request: web.Request) -> web.Response:
    params = await _params(request)
    name = params.get("client_name")
    if not isinstance(name, str) or not name.strip():
        raise UnprocessableEntity("client_name is required")
    if len(name) > 60:
        raise UnprocessableEntity("client_name must be at most 60 characters")
    if params.get("redirect_uris") in (None, ""):
        raise UnprocessableEntity("redirect_uris is required")
    redirect_uris = rules.parse_redirect_uris(params["redirect_uris"])
    raw_scopes = params.get("scopes")
    if isinstance(raw_scopes, list):
        raw_scopes = " ".join(str(s) for s in raw_scopes)
    try:
        scopes = rules.parse_scopes(raw_scopes if isinstance(raw_scopes, str) else None)
    except OAuthError as exc:
        raise UnprocessableEntity(f"scopes: {exc.details['error_description']}") from None
    website = params.get("website") or None
    if website is not None and (
        not isinstance(website, str)
        or len(website) > 2000
        or not re.match(r"^https?://[^\s/]+", website)
    ):
        raise UnprocessableEntity("website must be an http(s) URL")
    client_id, secret = rules.new_secret(), rules.new_secret()
    app = AppRow(
        id=0,
        client_id=client_id,
        client_secret_hash=rules.hash_secret(secret),
        name=name.strip(),
        redirect_uris=redirect_uris,
        scopes=tuple(rules.scope_string(scopes).split()),
        website=website,
        created_at=time.time(),
    )
    app_id = await request.app[DB].write(
        lambda c: tokens_store.insert_app(
            c,
            client_id=app.client_id,
            client_secret_hash=app.client_secret_hash,
            name=app.name,
            redirect_uris=app.redirect_uris,
            scopes=app.scopes,
            website=app.website,
            created_at=app.created_at,
        )
    )
    body = _app_json(app) | {
        "id": str(app_id),
        "client_id": client_id,
        "client_secret": secret,
        "client_secret_expires_at": 0,
    }
    return web.json_response(body, headers=_NO_STORE)


# -- the authorization page -----------------------------------------------------


@dataclass(frozen=True)
class _Authorization:
    app: AppRow
    redirect_uri: str
    scopes: frozenset[str]
    challenge: tuple[str, str] | None
    state: str | None


def _page(request: web.Request, title: str, body: str, status: int = 200) -> web.Response:
    resp = pages.layout(title, body, request.app[SETTINGS].instance.name, status=status)
    resp.headers.update(_PAGE_HEADERS)
    return resp


def _with_query(uri: str, values: dict[str, str | None]) -> str:
    query = urlencode({k: v for k, v in values.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


async def _authorization(request: web.Request, params: dict[str, str]) -> _Authorization:
    """Raises BadRequest when the client or redirect is wrong (shown, never
    redirected to), OAuthError for the rest (redirected back to the client)."""
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
            body = (
                "<h1>Authorization code</h1><p>Copy this code into "
                f"{html.escape(auth_req.app.name)}:</p>"
                f'<p class="card"><code>{html.escape(values["code"])}</code></p>'
            )
            return _page(request, "Authorization code", body)
        message = values.get("error_description") or values.get("error", "")
        return _page(request, "Authorization failed", f"<p>{html.escape(message)}</p>", 400)
    location = _with_query(auth_req.redirect_uri, {**values, "state": auth_req.state})
    raise web.HTTPFound(location, headers=_NO_STORE)


def _refuse(request: web.Request, auth_req: _Authorization, exc: OAuthError) -> web.Response:
    values = {"error": exc.code, "error_description": str(exc.details["error_description"])}
    return _send_back(request, auth_req, values)


def _form(
    request: web.Request,
    auth_req: _Authorization,
    params: dict[str, str],
    *,
    error: str = "",
    status: int = 200,
) -> web.Response:
    esc = html.escape
    app = auth_req.app
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{esc(params[name])}">'
        for name in _FORWARDED
        if params.get(name)
    )
    scopes = "".join(f"<li><code>{esc(s)}</code></li>" for s in sorted(auth_req.scopes))
    site = f' (<a href="{esc(app.website)}">{esc(app.website)}</a>)' if app.website else ""
    alert = f'<p class="card" role="alert">{esc(error)}</p>' if error else ""
    body = (
        f"<h1>Authorize {esc(app.name)}</h1>"
        f"<p>{esc(app.name)}{site} asks to use your account with these permissions:</p>"
        f"<ul>{scopes}</ul>{alert}"
        f'<form method="post" action="/oauth/authorize" class="card">{hidden}'
        '<p><label>Username<br><input name="username" autocomplete="username" required '
        f'value="{esc(params.get("username", ""))}"></label></p>'
        '<p><label>Password<br><input type="password" name="password" '
        'autocomplete="current-password" required></label></p>'
        '<p><button name="decision" value="approve">Authorize</button> '
        '<button name="decision" value="deny" formnovalidate>Deny</button></p></form>'
        f'<p class="muted">You will then be sent to {esc(auth_req.redirect_uri)}</p>'
    )
    return _page(request, f"Authorize {app.name}", body, status)


async def authorize_form(request: web.Request) -> web.Response:
    params = {k: v for k in request.query if (v := request.query.get(k)) is not None}
    try:
        auth_req = await _authorization(request, params)
    except BadRequest as exc:
        return _page(request, "Authorization failed", f"<p>{html.escape(str(exc))}</p>", 400)
    try:
        auth_req = _terms(auth_req, params)
    except OAuthError as exc:
        return _refuse(request, auth_req, exc)
    return _form(request, auth_req, params)


async def authorize_submit(request: web.Request) -> web.Response:
    form = await request.post()
    params = {k: v for k in form if isinstance(v := form.get(k), str)}
    try:
        auth_req = await _authorization(request, params)
    except BadRequest as exc:
        return _page(request, "Authorization failed", f"<p>{html.escape(str(exc))}</p>", 400)
    try:
        auth_req = _terms(auth_req, params)
        if params.get("decision") == "deny":
            raise OAuthError("access_denied", "the user denied the request")
    except OAuthError as exc:
        return _refuse(request, auth_req, exc)
    try:
        account = await auth.authenticate_password(
            request, params.get("username", ""), params.get("password", "")
        )
    except auth.LoginThrottled as exc:
        resp = _form(request, auth_req, params, error=exc.public_message, status=429)
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except Unauthorized:
        return _form(request, auth_req, params, error="Invalid username or password.", status=422)
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


# -- the token endpoint ----------------------------------------------------------


def _client_credentials(
    request: web.Request, params: dict[str, Any]
) -> tuple[str, str | None, bool]:
    """(client_id, client_secret, via_basic): HTTP Basic first, then the body."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except ValueError:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401) from None
        client_id, sep, secret = decoded.partition(":")
        if not sep:
            raise OAuthError("invalid_client", "malformed Basic credentials", status=401)
        return unquote(client_id), unquote(secret), True
    return _text(params, "client_id") or "", _text(params, "client_secret") or None, False


def _token_json(issued: IssuedToken) -> web.Response:
    body: dict[str, Any] = {
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": rules.scope_string(issued.scopes),
        "created_at": int(issued.created_at),
    }
    if issued.expires_in is not None:
        body["expires_in"] = issued.expires_in
    if issued.refresh_token is not None:
        body["refresh_token"] = issued.refresh_token
    return web.json_response(body, headers=_NO_STORE)


async def _password_grant(
    request: web.Request, params: dict[str, Any], client_id: str, secret: str | None
) -> IssuedToken | web.Response:
    db = request.app[DB]
    app = await db.read(lambda c: rules.authenticate_client(c, client_id, secret, public_ok=False))
    scopes = rules.requested_scopes(app, _text(params, "scope"))
    username, password = _text(params, "username"), _text(params, "password")
    if not username or not password:
        raise OAuthError("invalid_request", "username and password are required")
    try:
        account: AccountRow = await auth.authenticate_password(request, username, password)
    except auth.LoginThrottled as exc:
        headers = {**_NO_STORE, "Retry-After": str(exc.retry_after)}
        return web.json_response(exc.to_json(), status=429, headers=headers)
    except Unauthorized:
        raise OAuthError("invalid_grant", "invalid username or password") from None
    return await db.write(
        lambda c: rules.issue_token(
            c, account_id=account.id, app=app, scopes=scopes, now=time.time()
        )
    )


async def _grant(request: web.Request, params: dict[str, Any]) -> IssuedToken | web.Response:
    client_id, secret, _ = _client_credentials(request, params)
    grant = _text(params, "grant_type")
    db = request.app[DB]
    now = time.time()
    if grant == "authorization_code":
        code = _text(params, "code") or ""
        redirect_uri = _text(params, "redirect_uri") or ""
        verifier = _text(params, "code_verifier")
        try:
            return await db.write(
                lambda c: rules.exchange_code(
                    c,
                    client_id=client_id,
                    client_secret=secret,
                    code=code,
                    redirect_uri=redirect_uri,
                    code_verifier=verifier,
                    now=now,
                )
            )
        except CodeReplayed as exc:
            replayed = exc
            revoked = await db.write(lambda c: rules.revoke_replayed_grant(c, replayed, now))
            log.warning(
                "oauth code replayed app_id=%s account_id=%s revoked=%s",
                exc.app_id,
                exc.account_id,
                revoked,
            )
            raise
    if grant == "password":
        return await _password_grant(request, params, client_id, secret)
    if grant == "refresh_token":
        refresh, scope = _text(params, "refresh_token") or "", _text(params, "scope")
        return await db.write(
            lambda c: rules.refresh_token(
                c, client_id=client_id, client_secret=secret, refresh=refresh, scope=scope, now=now
            )
        )
    if grant == "client_credentials":
        raise OAuthError("unsupported_grant_type", "app-only tokens are not supported")
    raise OAuthError("unsupported_grant_type", "grant_type is missing or not supported")


def _challenge_basic(exc: OAuthError) -> OAuthError:
    if exc.status == 401:
        exc.details["WWW-Authenticate"] = f'Basic realm="{auth.REALM}"'
    return exc


async def token(request: web.Request) -> web.Response:
    try:
        params = await _params(request)
        result = await _grant(request, params)
    except BadRequest as exc:
        raise OAuthError("invalid_request", exc.public_message) from None
    except OAuthError as exc:
        raise _challenge_basic(exc) from None
    if isinstance(result, web.Response):
        return result
    log.info("oauth token issued token_id=%s grant=%s", result.token_id, params.get("grant_type"))
    return _token_json(result)


async def revoke(request: web.Request) -> web.Response:
    try:
        params = await _params(request)
    except BadRequest as exc:
        raise OAuthError("invalid_request", exc.public_message) from None
    client_id, secret, _ = _client_credentials(request, params)
    value = _text(params, "token")
    if not value:
        raise OAuthError("invalid_request", "token is required")
    try:
        await request.app[DB].write(
            lambda c: rules.revoke(
                c, client_id=client_id, client_secret=secret, token=value, now=time.time()
            )
        )
    except OAuthError as exc:
        raise _challenge_basic(exc) from None
    return web.json_response({}, headers=_NO_STORE)


async def server_metadata(request: web.Request) -> web.Response:
    """RFC 8414, which Mastodon 4.3+ clients read to discover scopes and PKCE."""
    base = request.app[SETTINGS].base_url
    return web.json_response(
        {
            "issuer": f"{base}/",
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "app_registration_endpoint": f"{base}/api/v1/apps",
            "scopes_supported": sorted(rules.KNOWN_SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "password", "refresh_token"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256", "plain"],
        }
    )


# -- verify_credentials ----------------------------------------------------------


async def verify_app(request: web.Request) -> web.Response:
    info = await auth.require_token(request)
    app_id = info.app_id
    app = None
    if app_id is not None:
        app = await request.app[DB].read(lambda c: tokens_store.get_app_by_id(c, app_id))
    if app is None:
        raise NotFound("this token was not issued to an application")
    return web.json_response(_app_json(app))


def _iso(when: float) -> str:
    return (
        datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _plain(summary_html: str) -> str:
    text = re.sub(r"<br\s*/?>|</p>\s*<p[^>]*>", "\n", summary_html)
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


def account_json(
    request: web.Request, account: AccountRow, counts: tuple[int, int, int]
) -> dict[str, Any]:
    """The basics of Mastodon's CredentialAccount; ``id`` is the actor's row id
    so local and remote accounts share one id space."""
    actor = account.actor
    assert actor is not None
    fields = [
        {"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
        for f in actor.fields
    ]
    return {
        "id": str(actor.id),
        "username": account.username,
        "acct": account.username,
        "display_name": actor.display_name,
        "locked": actor.manually_approves,
        "bot": actor.type in ("Service", "Application"),
        "discoverable": actor.discoverable,
        "group": actor.type == "Group",
        "created_at": _iso(account.created_at),
        "note": actor.summary,
        "url": actor.url or request.app[URLS].profile_page(account.username),
        "uri": actor.uri,
        "avatar": "",
        "avatar_static": "",
        "header": "",
        "header_static": "",
        "followers_count": counts[0],
        "following_count": counts[1],
        "statuses_count": counts[2],
        "last_status_at": None,
        "emojis": [],
        "fields": fields,
        "source": {
            "privacy": "public",
            "sensitive": False,
            "language": "",
            "note": _plain(actor.summary),
            "fields": [{"name": f["name"], "value": f["value"]} for f in fields],
            "follow_requests_count": 0,
        },
    }


async def verify_account(request: web.Request) -> web.Response:
    info = await auth.require_token(request, "profile", "read:accounts")
    account_id = info.account_id
    if account_id is None:
        raise UnprocessableEntity("This method requires an authenticated user")

    def load(c: Any) -> tuple[AccountRow | None, tuple[int, int, int]]:
        account = accounts_store.get_account_by_id(c, account_id)
        if account is None or account.actor is None:
            return None, (0, 0, 0)
        uri = account.actor.uri
        counts = (
            coll_store.count_followers(c, uri),
            coll_store.count_following(c, uri),
            coll_store.count_outbox(c, uri, _ALL_VISIBILITIES),
        )
        return account, counts

    account, counts = await request.app[DB].read(load)
    if account is None:
        raise NotFound("no such account")
    return web.json_response(account_json(request, account, counts))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/apps", create_app),
        web.get("/api/v1/apps/verify_credentials", verify_app),
        web.get("/api/v1/accounts/verify_credentials", verify_account),
        web.get("/oauth/authorize", authorize_form),
        web.post("/oauth/authorize", authorize_submit),
        web.post("/oauth/token", token),
        web.post("/oauth/revoke", revoke),
        web.get("/.well-known/oauth-authorization-server", server_metadata),
    ]
