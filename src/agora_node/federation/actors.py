"""Actor documents and their collections, as ActivityPub peers fetch them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from agora_node.context import DB, INSTANCE, SETTINGS, URLS
from agora_node.errors import BadRequest, Gone, NotFound
from agora_node.federation.actor_cache import ACTOR_CACHE, ACTOR_DOCUMENT
from agora_node.federation.fetch_auth import signed_viewer
from agora_node.processing.profile import local_actor_document
from agora_node.processing.visibility import may_list_relations
from agora_node.protocol import builders
from agora_node.protocol.urls import LocalUrls
from agora_node.store import accounts as accounts_store
from agora_node.store import collections as coll_store
from agora_node.store.accounts import AccountRow

ACTIVITY_JSON = "application/activity+json"
PAGE_SIZE = 20


def as_response(doc: dict[str, Any], status: int = 200) -> web.Response:
    return body_response(json.dumps(doc, separators=(",", ":")).encode(), status)


def body_response(body: bytes, status: int = 200) -> web.Response:
    return web.Response(
        body=body, status=status, content_type=ACTIVITY_JSON, headers={"Vary": "Accept"}
    )


async def load_account(request: web.Request) -> AccountRow:
    """The account named in the path; 404 when unknown, 410 when deleted."""
    name = request.match_info["name"]
    account = await request.app[DB].read(
        lambda db: accounts_store.get_account_by_username(db, name)
    )
    if account is None or account.actor is None:
        raise NotFound("no such account")
    if account.deleted_at is not None:
        raise Gone(
            "this account has been deleted",
            document=builders.tombstone(account.actor.uri, "Person", account.deleted_at),
        )
    return account


async def actor_document_for(request: web.Request, account: AccountRow) -> dict[str, Any]:
    urls = request.app[URLS]
    return await request.app[DB].read(lambda db: local_actor_document(db, urls, account))


async def actor_json(request: web.Request) -> web.Response:
    await signed_viewer(request)

    async def render() -> bytes:
        account = await load_account(request)
        doc = await actor_document_for(request, account)
        return json.dumps(doc, separators=(",", ":")).encode()

    cache = request.app[ACTOR_CACHE]
    name = request.match_info["name"]
    return body_response(await cache.get_or_render(ACTOR_DOCUMENT, name, render))


async def instance_actor(request: web.Request) -> web.Response:
    """The Application actor that signs fetches no user initiated."""
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    pem = await request.app[DB].read(
        lambda db: accounts_store.get_instance_value(db, "instance_rsa_public_pem")
    )
    doc = builders.actor_document(
        uri=urls.instance_actor,
        actor_type="Application",
        username=settings.domain,
        display_name=request.app[INSTANCE].current.name,
        summary_html="",
        url=f"{settings.base_url}/about",
        published=None,
        inbox=f"{urls.instance_actor}/inbox",
        outbox=f"{urls.instance_actor}/outbox",
        followers=f"{urls.instance_actor}/followers",
        following=f"{urls.instance_actor}/following",
        featured=f"{urls.instance_actor}/collections/featured",
        shared_inbox=urls.shared_inbox,
        manually_approves=True,
        discoverable=False,
        rsa_key_id=urls.instance_key,
        rsa_public_pem=pem or "",
    )
    return as_response(doc)


def _page_params(request: web.Request) -> tuple[bool, int | None, int | None]:
    q = request.query
    wants_page = "page" in q or "max_id" in q or "min_id" in q
    try:
        max_id = int(q["max_id"]) if "max_id" in q else None
        min_id = int(q["min_id"]) if "min_id" in q else None
    except ValueError:
        raise BadRequest("max_id and min_id must be integers") from None
    if (max_id is not None and max_id < 0) or (min_id is not None and min_id < 0):
        raise BadRequest("max_id and min_id must not be negative")
    return wants_page, max_id, min_id


CountFn = Callable[[Any], int]
PageFn = Callable[[Any, int | None, int | None, int], list[tuple[int, Any]]]


async def collection_response(
    request: web.Request,
    collection_uri: str,
    count: CountFn,
    page: PageFn,
    render_item: Callable[[Any], Any] = lambda item: item,
    *,
    viewer_checked: bool = False,
) -> web.Response:
    """An OrderedCollection, or one of its pages when ``page``/``max_id``/``min_id`` is given."""
    if not viewer_checked:
        await signed_viewer(request)
    wants_page, max_id, min_id = _page_params(request)
    db = request.app[DB]
    total = await db.read(count)
    if not wants_page:
        return as_response(
            builders.ordered_collection(
                collection_uri,
                total,
                f"{collection_uri}?page=true",
                f"{collection_uri}?page=true&min_id=0",
            )
        )
    rows = await db.read(lambda conn: page(conn, max_id, min_id, PAGE_SIZE + 1))
    if min_id is not None:
        has_newer = len(rows) > PAGE_SIZE
        rows = rows[-PAGE_SIZE:] if has_newer else rows
        has_older = bool(rows) and await db.read(
            lambda conn: bool(page(conn, rows[-1][0], None, 1))
        )
    else:
        has_older = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        has_newer = bool(rows) and max_id is not None
    query = "&".join(f"{k}={v}" for k, v in request.query.items())
    page_uri = f"{collection_uri}?{query}"
    next_uri = f"{collection_uri}?page=true&max_id={rows[-1][0]}" if rows and has_older else None
    prev_uri = f"{collection_uri}?page=true&min_id={rows[0][0]}" if rows and has_newer else None
    items = [render_item(item) for _, item in rows]
    return as_response(
        builders.ordered_collection_page(page_uri, collection_uri, items, total, next_uri, prev_uri)
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def actor_collection(
    collection_url: Callable[[LocalUrls, str], str],
    count: Callable[[Any, str], int],
    page: Callable[[Any, str, int | None, int | None, int], list[tuple[int, Any]]],
    *,
    relations: bool = False,
) -> Handler:
    """A view for one of an account's collections (followers, following, featured).
    ``relations``: an account that hides them shows their count alone, as
    Mastodon does (``processing.visibility.may_list_relations``)."""

    async def view(request: web.Request) -> web.StreamResponse:
        account = await load_account(request)
        uri = account.actor.uri if account.actor else ""
        hidden = relations and await request.app[DB].read(
            lambda db: accounts_store.hides_collections(db, uri)
        )
        listed = not hidden or may_list_relations(uri, None, hidden)
        return await collection_response(
            request,
            collection_url(request.app[URLS], account.username),
            lambda db: count(db, uri),
            lambda db, mx, mn, lim: page(db, uri, mx, mn, lim) if listed else [],
        )

    return view


followers = actor_collection(
    LocalUrls.followers, coll_store.count_followers, coll_store.followers_page, relations=True
)
following = actor_collection(
    LocalUrls.following, coll_store.count_following, coll_store.following_page, relations=True
)
featured = actor_collection(LocalUrls.featured, coll_store.count_featured, coll_store.featured_page)


def routes() -> list[web.RouteDef]:
    """Collection and instance-actor routes (the actor itself is negotiated in app.py;
    the outbox is served by ``api.c2s``)."""
    return [
        web.get("/actor", instance_actor),
        web.get("/users/{name}/followers", followers),
        web.get("/users/{name}/following", following),
        web.get("/users/{name}/collections/featured", featured),
    ]
