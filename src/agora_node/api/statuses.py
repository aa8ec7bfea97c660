"""Statuses for Mastodon clients: post, read, delete, thread, favourite and boost.

Each view reads the request (``api/requests.py``), calls one shared action
(``actions/posts.py``, ``actions/social.py``) and answers with the Status
entity as ``entities/serialize.py`` renders it. Mastodon's conventions that
differ from C2S are translated here, not decided: favouriting or boosting
twice, or undoing what was not done, answers with the status as it is
(Mastodon's endpoints are idempotent), and a status the viewer may not see
is a 404 like one that does not exist.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import posts, profile, social
from agora_node.api.requests import (
    SignedIn,
    as_id,
    base_url,
    body_params,
    bool_param,
    caller_of,
    int_param,
    list_response,
    maybe_signed_in,
    page_of,
    path_id,
    signed_in,
    text_param,
)
from agora_node.context import DB
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.outbound_notes import Draft
from agora_node.processing.polls import PollDraft
from agora_node.processing.remote import parse_time
from agora_node.protocol.vocab import VISIBILITIES
from agora_node.store import client_state
from agora_node.store import objects as objects_store
from agora_node.store import relationships as relationships_store
from agora_node.store import statuses as statuses_store
from agora_node.store import timelines as timelines_store
from agora_node.store.accounts import AccountSettings
from agora_node.store.objects import ObjectRow

_MAX_LANGUAGE = 16


async def _rendered(request: web.Request, viewer_uri: str | None, uri: str) -> dict[str, Any]:
    """The Status entity of the post or boost ``uri`` as ``viewer_uri`` sees it."""
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, Any] | None:
        row = objects_store.get_object(c, uri)
        if row is None:
            return None
        return serialize.status_json(serialize.load_statuses(c, [row], viewer_uri, base), row)

    body = await request.app[DB].read(load)
    if body is None:
        raise NotFound("Record not found")
    return body


async def _readable(request: web.Request, viewer_uri: str | None) -> ObjectRow:
    """The status named in the path, if the viewer may read it (else 404)."""
    return await posts.readable_status(request.app[DB], path_id(request), viewer_uri)


# An edit keeps what the post has; only a new post takes the author's defaults.
_NO_DEFAULTS = AccountSettings()


def _draft(
    params: dict[str, Any], in_reply_to: str | None, defaults: AccountSettings = _NO_DEFAULTS
) -> Draft:
    """A Draft from the form Mastodon documents (``status``, ``spoiler_text``…);
    what it leaves out comes from the author's posting defaults."""
    visibility = text_param(params, "visibility") or defaults.privacy
    if visibility not in VISIBILITIES:
        raise UnprocessableEntity(
            f"Validation failed: visibility must be one of {', '.join(VISIBILITIES)}"
        )
    language = text_param(params, "language").strip() or defaults.language or None
    if language is not None and len(language) > _MAX_LANGUAGE:
        raise UnprocessableEntity("Validation failed: language is not a language code")
    media_ids = _media_ids(params.get("media_ids"))
    text = text_param(params, "status")
    summary = text_param(params, "spoiler_text")
    if not text.strip() and not summary.strip() and not media_ids:
        raise UnprocessableEntity("Validation failed: Text can't be blank")
    if media_ids and params.get("poll") not in (None, "", {}):
        raise UnprocessableEntity("Validation failed: a post with a poll takes no attachments")
    return Draft(
        text=text,
        visibility=visibility,  # checked above
        summary=summary,
        sensitive=bool_param(params, "sensitive", default=defaults.sensitive),
        language=language,
        in_reply_to=in_reply_to,
        poll=_poll_draft(params.get("poll")),
        media_ids=media_ids,
    )


def _media_ids(raw: Any) -> tuple[int, ...]:
    """``media_ids[]`` (or one ``media_ids``): the ids of one's uploads, in order."""
    if raw in (None, "", []):
        return ()
    values = raw if isinstance(raw, list) else [raw]
    ids = tuple(as_id(v) for v in values)
    if any(i is None for i in ids):
        raise UnprocessableEntity("Validation failed: media_ids must be upload ids")
    return tuple(i for i in ids if i is not None)


def _poll_draft(raw: Any) -> PollDraft | None:
    """``poll[options][]``, ``poll[expires_in]``, ``poll[multiple]``, ``poll[hide_totals]``."""
    if raw in (None, "", {}):
        return None
    if not isinstance(raw, dict):
        raise UnprocessableEntity("poll must hold options and expires_in")
    options = raw.get("options")
    if isinstance(options, str):
        options = [options]
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise UnprocessableEntity("poll[options] must be a list of texts")
    expires_in = int_param(raw, "expires_in", high=10**9)
    if expires_in is None:
        raise UnprocessableEntity("poll[expires_in] is missing")
    return PollDraft(
        tuple(options),
        expires_in,
        multiple=bool_param(raw, "multiple"),
        hide_totals=bool_param(raw, "hide_totals"),
    )


async def _parent_uri(request: web.Request, who: SignedIn, params: dict[str, Any]) -> str | None:
    raw = params.get("in_reply_to_id")
    if raw in (None, ""):
        return None
    object_id = as_id(raw)
    if object_id is None:
        raise NotFound("Record not found")
    row = await request.app[DB].read(
        lambda c: statuses_store.get_status_for(c, object_id, who.actor_uri)
    )
    if row is None or row.boost_of is not None:
        raise NotFound("Record not found")
    return row.uri


async def create_status(request: web.Request) -> web.Response:
    """Post; a repeat with the same ``Idempotency-Key`` answers with the first post."""
    who = await signed_in(request, "write:statuses")
    params = await body_params(request)
    key = request.headers.get("Idempotency-Key", "").strip()[:200]
    db, now = request.app[DB], time.time()
    if key:
        earlier = await db.read(lambda c: client_state.post_for_key(c, who.account_id, key, now))
        if earlier is not None:
            return web.json_response(await _rendered(request, who.actor_uri, earlier))
    caller = caller_of(request, who)
    defaults = await profile.posting_defaults(caller)
    draft = _draft(params, await _parent_uri(request, who, params), defaults)
    sent = await posts.post(caller, draft)
    if sent.deliveries:  # a post nobody elsewhere reads leaves the delivery worker asleep
        request.app[DELIVERY_WAKE].set()
    uri = sent.object_id
    assert uri is not None
    if key:
        await db.write(lambda c: client_state.remember_key(c, who.account_id, key, uri, now))
    return web.json_response(await _rendered(request, who.actor_uri, uri))


async def get_status(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    row = await _readable(request, viewer_uri)
    return web.json_response(await _rendered(request, viewer_uri, row.uri))


async def delete_status(request: web.Request) -> web.Response:
    """Delete one's own post; the answer carries its ``text`` (delete and redraft)."""
    who = await signed_in(request, "write:statuses")
    row = await _own(request, who)
    body = await _rendered(request, who.actor_uri, row.uri)
    await posts.delete(caller_of(request, who), row.uri)
    request.app[DELIVERY_WAKE].set()
    return web.json_response({**body, "text": serialize.source_text(row)})


async def _own(request: web.Request, who: SignedIn) -> ObjectRow:
    row = await _readable(request, who.actor_uri)
    if row.actor_uri != who.actor_uri or row.boost_of is not None:
        raise NotFound("Record not found")
    return row


async def edit_status(request: web.Request) -> web.Response:
    """Change one's post (text, warning, sensitivity, language); federated as an Update."""
    who = await signed_in(request, "write:statuses")
    row = await _own(request, who)
    params = await body_params(request)
    draft = _draft({**params, "visibility": row.visibility}, None)
    await posts.edit(caller_of(request, who), row.uri, draft)
    request.app[DELIVERY_WAKE].set()
    return web.json_response(await _rendered(request, who.actor_uri, row.uri))


async def source(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:statuses")
    row = await _own(request, who)
    return web.json_response(
        {"id": str(row.id), "text": serialize.source_text(row), "spoiler_text": row.summary}
    )


def _version_time(doc: dict[str, Any]) -> float | None:
    """When a version was written: a kept version holds it as a number, a
    document as an ISO time."""
    for key in ("updated", "published"):
        value = doc.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        parsed = parse_time(value)
        if parsed is not None:
            return parsed
    return None


def _edit_json(doc: dict[str, Any], account: dict[str, Any], when: float) -> dict[str, Any]:
    summary = doc.get("summary")
    return {
        "content": str(doc.get("content") or ""),
        "spoiler_text": summary if isinstance(summary, str) else "",
        "sensitive": doc.get("sensitive") is True or doc.get("sensitive") == 1,
        "created_at": serialize.iso(when),
        "account": account,
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


async def history(request: web.Request) -> web.Response:
    """Every version of a post, oldest first, the current one last."""
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    row = await _readable(request, viewer_uri)
    if row.boost_of is not None:
        raise NotFound("Record not found")
    versions = await request.app[DB].read(lambda c: objects_store.object_history(c, row.uri))
    current = await _rendered(request, viewer_uri, row.uri)
    now = row.updated or row.published
    body = [
        _edit_json(doc, current["account"], _version_time(doc) or row.published) for doc in versions
    ]
    current_doc = {**row.data, "content": row.content, "summary": row.summary,
                   "sensitive": row.sensitive}  # fmt: skip
    body.append(_edit_json(current_doc, current["account"], now))
    return web.json_response(body)


async def context(request: web.Request) -> web.Response:
    viewer = await maybe_signed_in(request, "read:statuses")
    viewer_uri = viewer.actor_uri if viewer else None
    row = await _readable(request, viewer_uri)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> dict[str, list[dict[str, Any]]]:
        up = statuses_store.ancestors(c, row.id, viewer_uri)
        down = statuses_store.descendants(c, row.id, viewer_uri)
        ctx = serialize.load_statuses(c, [*up, *down], viewer_uri, base, filter_context="thread")
        return {
            "ancestors": serialize.statuses_json(ctx, up),
            "descendants": serialize.statuses_json(ctx, down),
        }

    return web.json_response(await request.app[DB].read(load))


async def _mark(request: web.Request, kind: str) -> web.Response:
    """Favourite, boost and their undoing; asking for what is already so just answers."""
    who = await signed_in(request, "write:statuses" if "reblog" in kind else "write:favourites")
    row = await _readable(request, who.actor_uri)
    target = row.boost_of or row.uri  # acting on a boost acts on the boosted post
    caller = caller_of(request, who)
    if await social.set_mark(caller, kind, target):
        request.app[DELIVERY_WAKE].set()
    boost = await social.current_mark(caller, kind, target) if kind == "reblog" else None
    return web.json_response(await _rendered(request, who.actor_uri, boost or target))


async def _keep(request: web.Request, kind: str) -> web.Response:
    """Bookmarks and muted threads (any post one may read) and pins (one's own posts)."""
    scope = {"bookmark": "write:bookmarks", "mute": "write:mutes"}.get(
        kind.removeprefix("un"), "write:accounts"
    )
    who = await signed_in(request, scope)
    row = await (_own(request, who) if "pin" in kind else _readable(request, who.actor_uri))
    target = row.boost_of or row.uri
    caller = caller_of(request, who)
    if kind == "bookmark":
        await posts.bookmark(caller, target)
    elif kind == "unbookmark":
        await posts.unbookmark(caller, target)
    elif kind in ("mute", "unmute"):
        found = await request.app[DB].read(lambda c: objects_store.get_object(c, target))
        change = posts.mute_conversation if kind == "mute" else posts.unmute_conversation
        await change(caller, found or row)
    else:
        pinned = await request.app[DB].read(
            lambda c: bool(timelines_store.featured_among(c, who.actor_uri, [target]))
        )
        if kind == "pin" and not pinned:
            await posts.pin(caller, target)
        elif kind == "unpin" and pinned:
            await posts.unpin(caller, target)
        request.app[DELIVERY_WAKE].set()
    return web.json_response(await _rendered(request, who.actor_uri, target))


def _view(
    handler: Callable[[web.Request, str], Awaitable[web.Response]], kind: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """The view that runs ``handler`` for one ``kind`` of mark."""

    async def view(request: web.Request) -> web.Response:
        return await handler(request, kind)

    return view


async def _marked(request: web.Request, kind: str, scope: str) -> web.Response:
    who = await signed_in(request, scope)
    page = page_of(request)
    base = base_url(request)

    ids, body = await request.app[DB].read(
        lambda c: serialize.load_marked_statuses(c, kind, who.actor_uri, page, base)
    )
    return list_response(request, ids, body)


async def _who(request: web.Request, kind: str) -> web.Response:
    """The accounts who favourited or boosted a post one may read."""
    viewer = await maybe_signed_in(request, "read:statuses")
    row = await _readable(request, viewer.actor_uri if viewer else None)
    target = row.boost_of or row.uri
    page = page_of(request)
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[list[int], list[dict[str, Any]]]:
        pairs = relationships_store.actors_listed(c, kind, target, page)
        actors = [a for _, a in pairs]
        ctx = serialize.accounts_rendering(c, actors, base)
        return [i for i, _ in pairs], [serialize.account_json(ctx, a) for a in actors]

    ids, body = await request.app[DB].read(load)
    return list_response(request, ids, body)


async def bookmarks(request: web.Request) -> web.Response:
    return await _marked(request, "bookmarks", "read:bookmarks")


async def favourites(request: web.Request) -> web.Response:
    return await _marked(request, "favourites", "read:favourites")


def routes() -> list[web.RouteDef]:
    one = r"/api/v1/statuses/{id:\d+}"
    return [
        web.post("/api/v1/statuses", create_status),
        web.get(one, get_status),
        web.delete(one, delete_status),
        web.put(one, edit_status),
        web.get(f"{one}/source", source),
        web.get(f"{one}/history", history),
        web.get(f"{one}/context", context),
        web.get(f"{one}/favourited_by", _view(_who, "favourited_by")),
        web.get(f"{one}/reblogged_by", _view(_who, "reblogged_by")),
        web.post(f"{one}/favourite", _view(_mark, "favourite")),
        web.post(f"{one}/unfavourite", _view(_mark, "unfavourite")),
        web.post(f"{one}/reblog", _view(_mark, "reblog")),
        web.post(f"{one}/unreblog", _view(_mark, "unreblog")),
        web.post(f"{one}/bookmark", _view(_keep, "bookmark")),
        web.post(f"{one}/unbookmark", _view(_keep, "unbookmark")),
        web.post(f"{one}/pin", _view(_keep, "pin")),
        web.post(f"{one}/mute", _view(_keep, "mute")),
        web.post(f"{one}/unmute", _view(_keep, "unmute")),
        web.post(f"{one}/unpin", _view(_keep, "unpin")),
        web.get("/api/v1/bookmarks", bookmarks),
        web.get("/api/v1/favourites", favourites),
    ]
