"""The streaming API's fan-out: what was committed, to whom it goes.

One task per serving process follows the database (``store/stream.py``)
while anyone is connected, every ``POLL_SECONDS``: new posts and boosts, edits
and deletions, notifications, whichever process wrote them. Each is offered
to the connected streams that would show it, with the same visibility rule
as the REST API (``store.statuses.get_status_for`` for signed-in viewers) and
rendered as the REST API renders it. Every connection has a bounded queue:
a client that does not keep up is dropped, never buffered without end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node.api.conversations import conversations_json
from agora_node.context import DB, SETTINGS
from agora_node.entities import serialize
from agora_node.store import conversations as conversations_store
from agora_node.store import hashtags as hashtags_store
from agora_node.store import lists as lists_store
from agora_node.store import mutes as mutes_store
from agora_node.store import objects as objects_store
from agora_node.store import statuses as statuses_store
from agora_node.store import stream as stream_store
from agora_node.store import timelines as timelines_store
from agora_node.store.db import Database
from agora_node.store.objects import ObjectRow

log = logging.getLogger(__name__)

POLL_SECONDS = 0.1
QUEUE_SIZE = 256
_BATCH = 200
# Streams a client may ask for, and whether they need a signed-in account.
STREAMS = {
    "user": True,
    "user:notification": True,
    "public": False,
    "public:local": False,
    "public:remote": False,
    "hashtag": False,
    "hashtag:local": False,
    "list": True,
    "direct": True,
}


# Which filter context (processing/filters.py) each stream's posts are judged in.
_FILTER_CONTEXT = {
    "user": "home",
    "list": "home",
    "public": "public",
    "public:local": "public",
    "public:remote": "public",
    "hashtag": "public",
    "hashtag:local": "public",
}


@dataclass(frozen=True)
class Event:
    stream: tuple[str, ...]
    event: str
    payload: str


@dataclass(eq=False)
class Subscriber:
    """One connection: who it is, what it follows, what waits to be sent."""

    account_id: int | None
    actor_uri: str | None
    streams: set[tuple[str, str]] = field(default_factory=set)
    queue: asyncio.Queue[Event | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_SIZE)
    )
    dropped: bool = False

    def offer(self, event: Event) -> None:
        if self.dropped:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped = True  # a slow consumer: let it go rather than hold its backlog
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)


def _stream_name(name: str, tag: str) -> list[str]:
    """The stream as events name it: a hashtag's tag or a list's id goes with it."""
    return [name, tag] if name.startswith("hashtag") or name == "list" else [name]


class StreamHub:
    def __init__(self, db: Database, base_url: str) -> None:
        self._db = db
        self._base = base_url
        self._subscribers: set[Subscriber] = set()
        self._wake = asyncio.Event()
        self._marks: stream_store.Marks | None = None

    @property
    def connected(self) -> int:
        return len(self._subscribers)

    def add(self, sub: Subscriber) -> None:
        self._subscribers.add(sub)
        self._wake.set()

    def remove(self, sub: Subscriber) -> None:
        self._subscribers.discard(sub)

    def announce(self, account_id: int, event: str) -> None:
        """An event with no payload for one person's ``user`` streams (``filters_changed``)."""
        for sub in list(self._subscribers):
            if sub.account_id == account_id and ("user", "") in sub.streams:
                sub.offer(Event(("user",), event, ""))

    async def run(self) -> None:
        while True:
            if not self._subscribers:
                self._marks = None
                self._wake.clear()
                await self._wake.wait()
            try:
                await self._poll()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad row must not stop every stream; logged, next poll
                log.exception("streaming poll failed")
            await asyncio.sleep(POLL_SECONDS)

    async def _poll(self) -> None:
        if self._marks is None:
            self._marks = await self._db.read(stream_store.current_marks)
            return
        marks = self._marks
        subs = list(self._subscribers)
        accounts = sorted({s.account_id for s in subs if s.account_id is not None})

        def load(
            c: sqlite_utils.Database,
        ) -> tuple[stream_store.Marks, list[tuple[Subscriber, Event]]]:
            top = stream_store.current_marks(c)
            posts = stream_store.new_posts(c, marks.objects, top.objects, _BATCH)
            changed = stream_store.changes(c, marks.changes, top.changes, _BATCH)
            notes = stream_store.new_notifications(
                c, marks.notifications, top.notifications, accounts, _BATCH
            )
            out = [
                *self._post_events(c, posts, subs),
                *self._change_events(c, changed, subs),
                *self._notification_events(c, notes, subs),
            ]
            # A full batch stops at what it read; the rest comes on the next poll.
            newest = stream_store.Marks(
                posts[-1].id if len(posts) == _BATCH else top.objects,
                changed[-1][0] if len(changed) == _BATCH else top.changes,
                notes[-1][1].id if len(notes) == _BATCH else top.notifications,
            )
            return newest, out

        self._marks, deliveries = await self._db.read(load)
        for sub, event in deliveries:
            sub.offer(event)

    # -- who gets what (run on a reader thread) ----------------------------------

    def _render(
        self, c: sqlite_utils.Database, row: ObjectRow, viewer: str | None, context: str | None
    ) -> str | None:
        """The status as ``viewer`` gets it on a stream of ``context`` (their
        filters' ``filtered``), or None when a ``hide`` filter takes it away."""
        ctx = serialize.load_statuses(c, [row], viewer, self._base, filter_context=context)
        if serialize.hidden_by_filters(ctx, row):
            return None
        body = serialize.status_json(ctx, row)
        return json.dumps(body) if body is not None else None

    def _post_events(
        self, c: sqlite_utils.Database, posts: list[ObjectRow], subs: list[Subscriber]
    ) -> list[tuple[Subscriber, Event]]:
        out: list[tuple[Subscriber, Event]] = []
        if not posts:
            return out
        tags = timelines_store.tags_of(c, [p.id for p in posts])
        users = [s for s in subs if ("user", "") in s.streams and s.actor_uri]
        for post in posts:
            anonymous: str | None = None
            # A post is rendered once per viewer, however many connections each has.
            rendered: dict[str, str | None] = {}
            names = {t.name.lower() for t in tags.get(post.id, []) if t.kind == "hashtag"}
            followers = stream_store.followers_among(
                c, post.actor_uri, [s.actor_uri for s in users if s.actor_uri]
            )
            if post.visibility == "public" and post.boost_of is None and names and users:
                followers |= hashtags_store.tag_followers(c, sorted(names))
            muters = mutes_store.muters_among(
                c, [s.actor_uri for s in subs if s.actor_uri], self._authors(c, post)
            )
            in_lists = {
                (str(i), owner) for i, owner in lists_store.lists_listening(c, post.actor_uri)
            }
            for sub in subs:
                if sub.actor_uri in muters:
                    continue
                wanted = [
                    (name, tag)
                    for name, tag in sub.streams
                    if self._wants(name, tag, post, names)
                    and (name != "user" or self._at_home(c, post, sub.actor_uri, followers))
                    and (name != "list" or (tag, sub.actor_uri) in in_lists)
                ]
                if not wanted:
                    continue
                viewer = sub.actor_uri  # user streams always have one
                for name, tag in wanted:
                    if name == "direct":
                        continue
                    context = _FILTER_CONTEXT.get(name)
                    if viewer is None:
                        anonymous = anonymous or self._render(c, post, None, None)
                        payload = anonymous
                    else:
                        key = f"{viewer} {context}"
                        if key not in rendered:
                            readable = statuses_store.get_status_for(c, post.id, viewer)
                            rendered[key] = (
                                self._render(c, post, viewer, context) if readable else None
                            )
                        payload = rendered[key]
                    if payload is not None:
                        out.append((sub, Event(tuple(_stream_name(name, tag)), "update", payload)))
                if ("direct", "") in wanted and viewer is not None:
                    talk = conversations_store.conversation_of_post(c, viewer, post.id)
                    if talk is not None:
                        (body,) = conversations_json(c, [talk], viewer, self._base)
                        out.append((sub, Event(("direct",), "conversation", json.dumps(body))))
        return out

    @staticmethod
    def _authors(c: sqlite_utils.Database, post: ObjectRow) -> list[str]:
        """Whose post this is: its author, and for a boost the boosted post's too."""
        boosted = objects_store.get_object(c, post.boost_of) if post.boost_of else None
        return [post.actor_uri, *([boosted.actor_uri] if boosted else [])]

    @staticmethod
    def _at_home(
        c: sqlite_utils.Database, post: ObjectRow, viewer: str | None, followers: set[str]
    ) -> bool:
        """Whether ``post`` belongs in ``viewer``'s home timeline (visibility aside):
        ``followers`` are the author's followers and those following its hashtags."""
        if viewer is None:
            return False
        if viewer == post.actor_uri or viewer in followers:
            return True
        return stream_store.addressed_to(c, post.id, viewer)

    @staticmethod
    def _wants(name: str, tag: str, post: ObjectRow, tags: set[str]) -> bool:
        if name in ("user", "list"):
            return True
        if name == "direct":
            return post.visibility == "direct" and post.boost_of is None
        if name == "user:notification":
            return False
        public = post.visibility == "public" and post.boost_of is None
        if name == "public":
            return public
        if name == "public:local":
            return public and post.local
        if name == "public:remote":
            return public and not post.local
        if name in ("hashtag", "hashtag:local"):
            return public and tag in tags and (name == "hashtag" or post.local)
        return False

    def _change_events(
        self, c: sqlite_utils.Database, changed: list[tuple[int, int, str]], subs: list[Subscriber]
    ) -> list[tuple[Subscriber, Event]]:
        out: list[tuple[Subscriber, Event]] = []
        for _, object_id, kind in changed:
            if kind == "delete":
                for sub in subs:
                    for name, tag in sub.streams:
                        if name != "user:notification":
                            event = Event(tuple(_stream_name(name, tag)), "delete", str(object_id))
                            out.append((sub, event))
                            break
                continue
            for sub in subs:
                row = statuses_store.get_status_for(c, object_id, sub.actor_uri)
                if row is None:
                    continue
                for name, tag in sub.streams:
                    if name == "user:notification":
                        continue
                    payload = self._render(c, row, sub.actor_uri, _FILTER_CONTEXT.get(name))
                    if payload is not None:
                        stream = tuple(_stream_name(name, tag))
                        out.append((sub, Event(stream, "status.update", payload)))
                    break
        return out

    def _notification_events(
        self,
        c: sqlite_utils.Database,
        notes: list[tuple[int, Any]],
        subs: list[Subscriber],
    ) -> list[tuple[Subscriber, Event]]:
        out: list[tuple[Subscriber, Event]] = []
        for account_id, row in notes:
            if row.type not in serialize.NOTIFICATION_TYPES:
                continue  # a kind of the node's own, for its pages: apps do not know it
            for sub in subs:
                if sub.account_id != account_id or sub.actor_uri is None:
                    continue
                wanted = [n for n, _ in sub.streams if n in ("user", "user:notification")]
                if not wanted:
                    continue
                ctx = serialize.load_notifications(c, [row], sub.actor_uri, self._base)
                shown = serialize.notifications_json(ctx, [row])
                if shown:
                    payload = json.dumps(shown[0])
                    out.append((sub, Event((wanted[0],), "notification", payload)))
        return out


STREAM_HUB = web.AppKey("stream_hub", StreamHub)


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """``cleanup_ctx``: the hub's task runs while the app serves."""
    hub = StreamHub(app[DB], app[SETTINGS].base_url)
    app[STREAM_HUB] = hub
    task = asyncio.create_task(hub.run(), name="stream-hub")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
