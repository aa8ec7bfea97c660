"""Posts as pages: the thread, compose, edit, delete, favourite and boost.

The thread page (``/statuses/{id}``) shows a post with what it replies to
and its replies, as the visitor may read them. The forms post to the same
actions the client API calls (``actions.posts``, ``actions.social``) and
send the browser back where it came from (``next``, a path on this site).
"""

from __future__ import annotations

import functools
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.actions import media, posts, social
from agora_node.actions.caller import Caller
from agora_node.actions.media import Incoming, MediaService
from agora_node.context import DB, SETTINGS, URLS
from agora_node.entities import serialize
from agora_node.errors import NotFound, UnprocessableEntity
from agora_node.federation.actors import load_account
from agora_node.federation.services import DELIVERY_WAKE
from agora_node.processing.outbound_notes import MAX_ATTACHMENTS, Draft
from agora_node.protocol.vocab import VISIBILITIES
from agora_node.store import statuses as statuses_store
from agora_node.store.objects import ObjectRow
from agora_node.web.rendering import page
from agora_node.web.session import (
    Visitor,
    form,
    form_with_files,
    required_visitor,
    safe_next,
    text_field,
    visitor,
)
from agora_node.web.views import caller_for, path_id


async def _readable(request: web.Request, viewer_uri: str | None) -> ObjectRow:
    return await posts.readable_status(
        request.app[DB], path_id(request), viewer_uri, "no such post, or not one you may see"
    )


async def thread(request: web.Request) -> web.Response:
    who = await visitor(request)
    row = await _readable(request, who.actor_uri if who else None)
    return await _thread(request, who, row)


async def note_page(request: web.Request) -> web.Response:
    """One of our posts at its own address (``/@name/{id}``), shown in its thread."""
    who = await visitor(request)
    account = await load_account(request)
    urls = request.app[URLS]
    viewer_uri = who.actor_uri if who else None
    note = await posts.visible_post(
        request.app[DB], urls, account, request.match_info["id"], viewer_uri
    )
    resp = await _thread(request, who, note)
    resp.headers["Link"] = f'<{note.uri}>; rel="alternate"; type="application/activity+json"'
    return resp


async def _thread(request: web.Request, who: Visitor | None, row: ObjectRow) -> web.Response:
    viewer_uri = who.actor_uri if who else None
    base = request.app[SETTINGS].base_url

    def load(c: sqlite_utils.Database) -> dict[str, Any]:
        up = statuses_store.ancestors(c, row.id, viewer_uri)
        down = statuses_store.descendants(c, row.id, viewer_uri)
        ctx = serialize.load_statuses(
            c, [*up, row, *down], viewer_uri, base, filter_context="thread"
        )
        return {
            "ancestors": serialize.statuses_json(ctx, up),
            "focus": serialize.status_json(ctx, row),
            "descendants": serialize.statuses_json(ctx, down),
        }

    found = await request.app[DB].read(load)
    focus = found["focus"]
    if focus is None:
        raise NotFound("no such post, or not one you may see")
    post = focus["reblog"] or focus
    mention = ""
    if who is not None and post["account"]["acct"] != who.username:
        mention = f"@{post['account']['acct']} "
    name = post["account"]["display_name"] or post["account"]["username"]
    return await page(
        request,
        "thread.html",
        {
            **found,
            "mention": mention,
            "reply_visibility": "public" if post["visibility"] == "public" else post["visibility"],
        },
        title=f"Post by {name}",
    )


def _draft(
    body: Any,
    *,
    in_reply_to: str | None,
    visibility: str | None = None,
    media_ids: tuple[int, ...] | None = None,
) -> Draft:
    text, summary = text_field(body, "status"), text_field(body, "spoiler_text")
    chosen = visibility or text_field(body, "visibility") or "public"
    if chosen not in VISIBILITIES:
        raise UnprocessableEntity(f"visibility must be one of {', '.join(VISIBILITIES)}")
    if not text.strip() and not summary.strip() and not media_ids:
        raise UnprocessableEntity("a post needs some text or a picture")
    return Draft(
        text=text,
        visibility=chosen,
        summary=summary,
        in_reply_to=in_reply_to,
        sensitive=text_field(body, "sensitive") == "1",
        media_ids=media_ids,
    )


async def _parent(request: web.Request, who: Visitor, raw: str) -> str | None:
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound("the post replied to does not exist")
    row = await request.app[DB].read(
        lambda c: statuses_store.get_status_for(c, int(raw), who.actor_uri)
    )
    if row is None or row.boost_of is not None:
        raise NotFound("the post replied to does not exist")
    return row.uri


async def _uploads(
    caller: Caller, service: MediaService, body: Any, files: dict[str, Incoming]
) -> list[int]:
    """The compose form's pictures (``media_0``…, each with its ``alt_0``…), stored."""
    made: list[int] = []
    try:
        for index in range(MAX_ATTACHMENTS):
            got = files.pop(f"media_{index}", None)
            if got is None:
                continue
            row = await media.upload(
                caller, service, got, description=text_field(body, f"alt_{index}"),
                focus=None, wait=True,
            )  # fmt: skip
            made.append(row.id)
        if files:
            raise UnprocessableEntity(f"a post takes at most {MAX_ATTACHMENTS} attachments")
    except BaseException:
        for got in files.values():
            await service.run(functools.partial(got.path.unlink, missing_ok=True))
        await media.discard(caller, service, made)
        raise
    return made


async def create(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    service = request.app[media.MEDIA]
    body, files = await form_with_files(request, service)
    caller = caller_for(request, who)
    made = await _uploads(caller, service, body, files)
    try:
        parent = await _parent(request, who, text_field(body, "in_reply_to_id").strip())
        draft = _draft(body, in_reply_to=parent, media_ids=tuple(made))
        sent = await posts.post(caller, draft)
    except BaseException:
        await media.discard(caller, service, made)
        raise
    if sent.deliveries:
        request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther(safe_next(text_field(body, "next")))


async def _own(request: web.Request, who: Visitor) -> ObjectRow:
    row = await _readable(request, who.actor_uri)
    if row.actor_uri != who.actor_uri or row.boost_of is not None:
        raise NotFound("no such post of yours")
    return row


async def edit_form(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    row = await _own(request, who)
    return await page(
        request,
        "edit.html",
        {
            "post_id": row.id,
            "text": serialize.source_text(row),
            "spoiler_text": row.summary or "",
        },
        title="Edit post",
    )


async def edit(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    row = await _own(request, who)
    body = await form(request)
    draft = _draft(body, in_reply_to=None, visibility=row.visibility)
    await posts.edit(caller_for(request, who), row.uri, draft)
    request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther(f"/statuses/{row.id}")


async def delete(request: web.Request) -> web.Response:
    who = await required_visitor(request)
    row = await _own(request, who)
    body = await form(request)
    await posts.delete(caller_for(request, who), row.uri)
    request.app[DELIVERY_WAKE].set()
    back = safe_next(text_field(body, "next"))
    raise web.HTTPSeeOther("/home" if back.startswith(f"/statuses/{row.id}") else back)


# Private marks: nothing is sent, setting one twice changes nothing.
_KEEPS = {"bookmark": posts.bookmark, "unbookmark": posts.unbookmark}


async def mark(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in social.MARKS and kind not in _KEEPS:
        raise NotFound("no such action")
    who = await required_visitor(request)
    row = await _readable(request, who.actor_uri)
    body = await form(request)
    caller, target = caller_for(request, who), row.boost_of or row.uri
    if kind in _KEEPS:
        await _KEEPS[kind](caller, target)
    elif await social.set_mark(caller, kind, target):
        request.app[DELIVERY_WAKE].set()
    raise web.HTTPSeeOther(safe_next(text_field(body, "next"), f"/statuses/{row.id}"))


def routes() -> list[web.RouteDef]:
    return [
        web.post("/statuses", create),
        web.get("/statuses/{id}", thread),
        web.get("/statuses/{id}/edit", edit_form),
        web.post("/statuses/{id}/edit", edit),
        web.post("/statuses/{id}/delete", delete),
        web.post("/statuses/{id}/{kind}", mark),
    ]
