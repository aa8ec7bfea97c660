"""OAuth 2.0 tokens for clients, in the shape of Mastodon's API.

Routes: the token endpoint (authorization code with PKCE, password, refresh
token), revocation and the RFC 8414 metadata. Apps register in
``api/apps.py``; people approve them on the page in ``web/authorize.py``.
The rules live in ``processing.oauth``; this module reads requests and
shapes answers.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from agora_node.actions.login import LoginThrottled, authenticate_password
from agora_node.api import auth
from agora_node.api.requests import body_params
from agora_node.context import DB, SETTINGS
from agora_node.errors import BadRequest, Forbidden, Unauthorized
from agora_node.processing import oauth as rules
from agora_node.processing.oauth import CodeReplayed, IssuedToken, OAuthError
from agora_node.ratelimit import client_ip
from agora_node.store.accounts import AccountRow

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _text(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    raise OAuthError("invalid_request", f"{name} must be a string")


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
    return web.json_response(body, headers=NO_STORE)


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
        account: AccountRow = await authenticate_password(
            db,
            request.app[SETTINGS].domain,
            username,
            password,
            ip=client_ip(request),
            now=time.time(),
        )
    except LoginThrottled as exc:
        headers = {**NO_STORE, "Retry-After": str(exc.retry_after)}
        return web.json_response(exc.to_json(), status=429, headers=headers)
    except Unauthorized:
        raise OAuthError("invalid_grant", "invalid username or password") from None
    except Forbidden as exc:
        raise OAuthError("invalid_grant", exc.public_message) from None
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
        params = await body_params(request)
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
        params = await body_params(request)
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
    return web.json_response({}, headers=NO_STORE)


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


def routes() -> list[web.RouteDef]:
    return [
        web.post("/oauth/token", token),
        web.post("/oauth/revoke", revoke),
        web.get("/.well-known/oauth-authorization-server", server_metadata),
    ]
