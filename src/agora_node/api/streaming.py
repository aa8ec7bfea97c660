"""The streaming API: WebSocket (``/api/v1/streaming``) and Server-Sent Events.

A WebSocket client names a stream in the query (``?stream=user``) and/or
sends ``{"type": "subscribe", "stream": "hashtag", "tag": "cats"}`` (and
``unsubscribe``); an SSE client opens ``/api/v1/streaming/user``,
``/public``, ``/public/local``, ``/public/remote``, ``/hashtag?tag=``,
``/user/notification``, ``/list?list=``, ``/direct``. Events are Mastodon's:
``update``, ``notification``, ``delete``, ``status.update`` (and
``conversation`` on ``direct``), with the REST API's JSON as the payload.
The token comes from the header, ``access_token`` or ``Sec-WebSocket-Protocol``;
an SSE stream opened by this site's own pages may use the session cookie.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from typing import Any

from aiohttp import WSMsgType, web

from agora_node.actions.login import SESSION_COOKIE, signed_in
from agora_node.aio import within
from agora_node.api import auth
from agora_node.api.requests import as_id
from agora_node.api.stream_hub import STREAM_HUB, STREAMS, Event, Subscriber
from agora_node.context import DB
from agora_node.errors import BadRequest, Forbidden, Unauthorized
from agora_node.store import accounts as accounts_store
from agora_node.store import lists as lists_store
from agora_node.store.db import Database

log = logging.getLogger(__name__)

# A comment line this often keeps proxies from closing an idle SSE stream.
HEARTBEAT_SECONDS = 15.0
_MAX_TAG = 100


async def _page_session(request: web.Request) -> Subscriber:
    """The signed-in browser of this site's own pages (their script opens an SSE
    stream with the session cookie, as it cannot hold a token). Only for a
    request the browser says comes from this site, never a WebSocket: another
    site's page cannot listen to someone's home timeline."""
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret or request.headers.get("Sec-Fetch-Site", "same-origin") != "same-origin":
        return Subscriber(None, None)
    now = time.time()
    found = await request.app[DB].read(lambda c: signed_in(c, secret, now))
    if found is None:
        return Subscriber(None, None)
    account, _ = found
    return Subscriber(account.id, account.actor.uri if account.actor else None)


async def _subscriber(
    request: web.Request, *, pages: bool = False
) -> tuple[Subscriber, str | None]:
    """Who connects (anonymous when no token is sent), and the WebSocket protocol to
    echo; with ``pages``, a signed-in page of this site without a token too."""
    token = auth.stream_token(request)
    protocol = request.headers.get("Sec-WebSocket-Protocol", "").strip() or None
    if token is None:
        return (await _page_session(request) if pages else Subscriber(None, None)), None
    info = await auth.token_info(request, token)
    if not info.allows("read:statuses") and not info.allows("read:notifications"):
        raise Forbidden("This action is outside the authorized scopes", scope="read:statuses")
    account_id = info.account_id
    account = None
    if account_id is not None:
        account = await request.app[DB].read(
            lambda c: accounts_store.get_account_by_id(c, account_id)
        )
    actor_uri = account.actor.uri if account is not None and account.actor else None
    return Subscriber(account_id, actor_uri), protocol if protocol == token else None


async def _stream_key(
    db: Database, sub: Subscriber, name: str, tag: Any, list_id: Any
) -> tuple[str, str]:
    """Check one requested stream; ``(name, tag)`` as the hub keys it (a list's
    id in place of the tag for a list stream, which must be one's own list)."""
    if name not in STREAMS:
        raise BadRequest("Unknown stream type", stream=name[:50])
    if STREAMS[name] and sub.account_id is None:
        raise Unauthorized("Missing access token: this stream needs a signed-in account")
    if name == "list":
        number = as_id(list_id)
        owner = sub.actor_uri or ""
        found = None
        if number is not None:
            found = await db.read(lambda c: lists_store.get_list(c, owner, number))
        if found is None:
            raise BadRequest("No such list", list=str(list_id)[:50])
        return name, str(found.id)
    tag = tag if isinstance(tag, str) else None
    if name.startswith("hashtag"):
        tag = (tag or "").strip().lstrip("#").lower()
        if not tag or len(tag) > _MAX_TAG:
            raise BadRequest("a hashtag stream needs a tag")
        return name, tag
    return name, ""


@functools.lru_cache(maxsize=1024)
def _wire(event: Event) -> str:
    """An event as sent over a WebSocket; encoded once for all its subscribers
    (events are equal when their stream, kind and payload are)."""
    return json.dumps(
        {"stream": list(event.stream), "event": event.event, "payload": event.payload}
    )


async def websocket(request: web.Request) -> web.StreamResponse:
    sub, protocol = await _subscriber(request)
    first = request.query.get("stream")
    if first:
        sub.streams.add(
            await _stream_key(
                request.app[DB], sub, first, request.query.get("tag"), request.query.get("list")
            )
        )
    ws = web.WebSocketResponse(protocols=[protocol] if protocol else (), heartbeat=30.0)
    await ws.prepare(request)
    hub = request.app[STREAM_HUB]
    hub.add(sub)

    async def send() -> None:
        while True:
            event = await sub.queue.get()
            if event is None:  # dropped for falling behind
                await ws.close(code=1008, message=b"too slow")
                return
            await ws.send_str(_wire(event))

    sender = asyncio.create_task(send())
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            await _control(request.app[DB], ws, sub, msg.data)
    finally:
        hub.remove(sub)
        sender.cancel()
    return ws


async def _control(db: Database, ws: web.WebSocketResponse, sub: Subscriber, text: str) -> None:
    """A subscribe or unsubscribe message; a bad one gets an error event, not a close."""
    try:
        msg: Any = json.loads(text)
        if not isinstance(msg, dict) or msg.get("type") not in ("subscribe", "unsubscribe"):
            raise BadRequest('send {"type": "subscribe", "stream": ...}')
        key = await _stream_key(
            db, sub, str(msg.get("stream", "")), msg.get("tag"), msg.get("list")
        )
    except (ValueError, BadRequest, Unauthorized) as exc:
        message = getattr(exc, "public_message", "invalid JSON")
        await ws.send_str(json.dumps({"error": message}))
        return
    if msg["type"] == "subscribe":
        sub.streams.add(key)
    else:
        sub.streams.discard(key)


def _sse(name: str) -> Any:
    async def view(request: web.Request) -> web.StreamResponse:
        sub, _ = await _subscriber(request, pages=True)
        sub.streams.add(
            await _stream_key(
                request.app[DB], sub, name, request.query.get("tag"), request.query.get("list")
            )
        )
        resp = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        await resp.prepare(request)
        hub = request.app[STREAM_HUB]
        hub.add(sub)
        try:
            await resp.write(b":)\n\n")
            while True:
                try:
                    event = await within(sub.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    await resp.write(b":thump\n\n")
                    continue
                if event is None:
                    break
                await resp.write(f"event: {event.event}\ndata: {event.payload}\n\n".encode())
        except ConnectionResetError:
            pass  # the client went away
        finally:
            hub.remove(sub)
        return resp

    return view


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


def routes() -> list[web.RouteDef]:
    base = "/api/v1/streaming"
    sse = {
        "user": "user",
        "user/notification": "user:notification",
        "public": "public",
        "public/local": "public:local",
        "public/remote": "public:remote",
        "hashtag": "hashtag",
        "hashtag/local": "hashtag:local",
        "list": "list",
        "direct": "direct",
    }
    return [
        web.get(base, websocket),
        web.get(f"{base}/", websocket),
        web.get(f"{base}/health", health),
        *(web.get(f"{base}/{path}", _sse(name)) for path, name in sse.items()),
    ]
