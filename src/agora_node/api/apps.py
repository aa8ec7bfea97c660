"""Client applications: registering one (``POST /api/v1/apps``) and asking which
one a token belongs to (``GET /api/v1/apps/verify_credentials``)."""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web

from agora_node.api import auth
from agora_node.api.oauth import NO_STORE
from agora_node.api.requests import body_params
from agora_node.context import DB
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.processing import oauth as rules
from agora_node.processing.oauth import OAuthError
from agora_node.store import tokens as tokens_store
from agora_node.store.tokens import AppRow


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
    params = await body_params(request)
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
    return web.json_response(body, headers=NO_STORE)


async def verify_app(request: web.Request) -> web.Response:
    info = await auth.require_token(request)
    app_id = info.app_id
    app = None
    if app_id is not None:
        app = await request.app[DB].read(lambda c: tokens_store.get_app_by_id(c, app_id))
    if app is None:
        raise NotFound("this token was not issued to an application")
    return web.json_response(_app_json(app))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/apps", create_app),
        web.get("/api/v1/apps/verify_credentials", verify_app),
    ]
