"""ActivityPub client-to-server: a local account's outbox and inbox.

``POST /users/{name}/outbox`` takes an activity (or a bare object, which is
wrapped in a Create) from the account's own client. The server assigns the
ids and sets ``actor``, ``attributedTo`` and ``published`` itself, whatever
the client sent; the result is checked against the same schemas as
federated activities before anything is looked up or stored. Then the
names it holds are resolved (WebFinger, fetches), and one transaction
stores it and queues its deliveries. 201 with ``Location`` = the new
activity's id.

``GET /users/{name}/outbox`` lists public and unlisted posts and boosts (all
of them for the owner's token); ``GET /users/{name}/inbox`` is the owner's
home timeline.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions.caller import Caller
from agora_node.api.auth import TokenInfo, optional_token, require_token
from agora_node.api.c2s_actions import ACTIONS, Action
from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import BadRequest, Forbidden, UnprocessableEntity, UnsupportedMediaType
from agora_node.federation.actors import as_response, collection_response, load_account
from agora_node.federation.fetch_auth import signed_viewer
from agora_node.federation.resolve import Resolver
from agora_node.federation.services import DELIVERY_WAKE, FETCHER
from agora_node.processing.visibility import outbox_visibilities
from agora_node.protocol import builders
from agora_node.protocol.json_reader import parse_json_object
from agora_node.protocol.urls import LocalUrls
from agora_node.protocol.validation import validate_activity
from agora_node.protocol.vocab import ACTIVITY_TYPES, AS_CONTEXT, id_of, types_of
from agora_node.store import collections as coll_store
from agora_node.store import objects as objects_store
from agora_node.store import social, timelines
from agora_node.store.accounts import AccountRow
from agora_node.store.objects import ObjectRow

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/activity+json", "application/ld+json", "application/json")
# Set by the server, never taken from the client.
_SERVER_FIELDS = ("id", "actor", "published", "updated", "signature", "proof")


def _forbidden_scope(scope: str) -> Forbidden:
    return Forbidden(
        "This action is outside the authorized scopes",
        error_description=f"this action needs the scope {scope}",
        scope=scope,
    )


async def _read_json(request: web.Request) -> dict[str, Any]:
    if request.content_type not in _JSON_TYPES:
        raise UnsupportedMediaType("send application/activity+json")
    return parse_json_object(await request.read())


def _as_activity(doc: dict[str, Any]) -> dict[str, Any]:
    """The activity a client meant: a bare object is wrapped in a Create."""
    kinds = types_of(doc)
    if not kinds:
        raise BadRequest("type is required", path="$.type")
    if not set(kinds) & ACTIVITY_TYPES:
        return {"type": "Create", "object": doc, "to": doc.get("to"), "cc": doc.get("cc")}
    return doc


def _normalised(activity: dict[str, Any], account: AccountRow, urls: LocalUrls) -> dict[str, Any]:
    """The activity with the server's fields in place, ready for the schemas.

    Ids here only stand in for the ones the action assigns when it stores.
    """
    assert account.actor is not None
    out = {k: v for k, v in activity.items() if k not in _SERVER_FIELDS}
    out["@context"] = AS_CONTEXT
    out["id"] = urls.activity(account.username, "new")
    out["actor"] = account.actor.uri
    obj = out.get("object")
    if types_of(out)[0] == "Create" and isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k not in ("published", "updated", "@context")}
        obj["id"] = urls.object(account.username, "new")
        obj["attributedTo"] = account.actor.uri
        out["object"] = obj
    elif types_of(out)[0] == "Update" and isinstance(obj, dict):
        out["object"] = {**obj, "attributedTo": account.actor.uri}
    return {k: v for k, v in out.items() if v is not None}


async def _own_account(request: web.Request, token: TokenInfo) -> AccountRow:
    account = await load_account(request)
    if token.account_id != account.id:
        raise Forbidden("this is not your outbox")
    return account


async def post_outbox(request: web.Request) -> web.Response:
    token = await require_token(request)
    account = await _own_account(request, token)
    activity = _as_activity(await _read_json(request))
    kind = types_of(activity)[0]
    action: Action | None = ACTIONS.get(kind)
    if action is None:
        raise UnprocessableEntity(
            "unsupported activity type", type=kind[:100], supported=sorted(ACTIONS)
        )
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    resolver = Resolver(request.app[DB], request.app[FETCHER], urls, settings.domain)
    call = Caller(
        request.app[DB], resolver, urls, settings.domain, account, time.time(),
        settings.media.require_alt_text,
    )  # fmt: skip
    scope = await action.scope(call, activity)
    if not token.allows(scope):
        raise _forbidden_scope(scope)
    # Handles (Follow "@user@host") become URIs before the schemas see them.
    activity = await action.prepare(call, activity)
    normalised = _normalised(activity, account, urls)
    validate_activity(normalised)
    sent = await action.run(call, normalised)
    request.app[DELIVERY_WAKE].set()
    log.info(
        "c2s activity=%s type=%s account=%s deliveries=%d",
        sent.activity_id, kind, account.username, sent.deliveries,
    )  # fmt: skip
    resp = as_response(sent.activity, status=201)
    resp.headers["Location"] = sent.activity_id
    return resp


def _with_current_objects(
    db: sqlite_utils.Database, rows: list[tuple[int, Any]]
) -> list[tuple[int, Any]]:
    """Creates of our own posts carry the post as it is now (after edits)."""
    uris = [
        str(id_of(doc.get("object")))
        for _, doc in rows
        if isinstance(doc, dict) and doc.get("type") == "Create" and id_of(doc.get("object"))
    ]
    current = objects_store.get_objects_by_uris(db, uris)
    out: list[tuple[int, Any]] = []
    for row_id, doc in rows:
        note = current.get(str(id_of(doc.get("object")))) if isinstance(doc, dict) else None
        out.append((row_id, _with_current_object(doc, note)))
    return out


def _with_current_object(activity: Any, note: ObjectRow | None) -> Any:
    """A Create of our own post carries the post as it is now (after edits)."""
    if note is not None and note.local and note.data and isinstance(activity, dict):
        if activity.get("type") == "Create":
            return {**activity, "object": builders.strip_context(note.data)}
    return activity


def _inbox_item(row: ObjectRow, activity: dict[str, Any] | None) -> Any:
    """A home timeline row as its owner's inbox lists it: the activity that
    brought it, or, for a post fetched rather than delivered, the post itself."""
    return row.data if activity is None else _with_current_object(activity, row)


def _strip(item: Any) -> Any:
    return builders.strip_context(item) if isinstance(item, dict) else item


async def get_outbox(request: web.Request) -> web.Response:
    account = await load_account(request)
    token = await optional_token(request)
    owner = token is not None and token.account_id == account.id and token.allows("read:statuses")
    uri = account.actor.uri if account.actor else ""
    viewer = await signed_viewer(request)
    follower = False
    if viewer is not None and not owner:
        # A signed fetch by an accepted follower's server also sees followers-only posts.
        follow = await request.app[DB].read(lambda db: social.get_follow(db, viewer.actor_uri, uri))
        follower = follow is not None and follow.state == "accepted"
    visibilities = outbox_visibilities(owner=owner, follower=follower)
    resp = await collection_response(
        request,
        request.app[URLS].outbox(account.username),
        lambda db: coll_store.count_outbox(db, uri, visibilities),
        lambda db, mx, mn, lim: _with_current_objects(
            db, coll_store.outbox_page(db, uri, visibilities, mx, mn, lim)
        ),
        _strip,
        viewer_checked=True,
    )
    if owner or follower:
        resp.headers["Cache-Control"] = "private, no-store"
    return resp


async def get_inbox(request: web.Request) -> web.Response:
    token = await require_token(request, "read:statuses")
    account = await load_account(request)
    if token.account_id != account.id:
        raise Forbidden("this is not your inbox")
    uri = account.actor.uri if account.actor else ""
    resp = await collection_response(
        request,
        request.app[URLS].inbox(account.username),
        lambda db: timelines.count_home(db, uri),
        lambda db, mx, mn, lim: [
            (row.id, _inbox_item(row, activity))
            for row, activity in timelines.home_with_activities(
                db, uri, timelines.Page(max_id=mx, min_id=mn, limit=lim)
            )
        ],
        _strip,
    )
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def routes() -> list[web.RouteDef]:
    return [
        web.post("/users/{name}/outbox", post_outbox),
        web.get("/users/{name}/outbox", get_outbox),
        web.get("/users/{name}/inbox", get_inbox),
    ]
