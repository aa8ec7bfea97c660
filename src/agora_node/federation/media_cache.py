"""Copies of remote media, fetched when first shown and served from here.

When a page or an app's answer shows a remote attachment, avatar or header
that the cache does not know, the renderer names its address (``want``,
safe to call from a database thread); this task fetches it through the
node's guarded HTTP client (no private addresses, at most
``media.remote_max_bytes``, within the fetch timeout), keeps it only if its
first bytes say it is an image, video or audio file, and records it. Later
renderings point at the copy; until then, and for anything that failed, at
the remote address. The cache keeps at most ``media.remote_cache_bytes``:
past that, the oldest copies go (``prune``, which ``agora-node media prune``
also runs, with ``media.remote_keep_days`` as the longest a copy is kept).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from agora_node.config import MediaSettings
from agora_node.errors import AgoraError
from agora_node.federation.http import FetchPolicy, fetch_media
from agora_node.processing.media import sniff
from agora_node.store import media_cache as cache_store
from agora_node.store.db import Database
from agora_node.store.files import FileStore

log = logging.getLogger(__name__)

# Fetches at once; addresses waiting beyond this many are dropped (asked again later).
CONCURRENCY = 4
_BACKLOG = 2000
_REMEMBERED = 20_000


class RemoteMediaCache:
    def __init__(
        self,
        db: Database,
        session: aiohttp.ClientSession,
        policy: FetchPolicy,
        files: FileStore,
        limits: MediaSettings,
        run: Callable[[Callable[[], Any]], Awaitable[Any]],
    ) -> None:
        self._db, self._session, self._policy = db, session, policy
        self._files, self._limits, self._run = files, limits, run
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue(_BACKLOG)
        self._asked: set[str] = set()

    @property
    def enabled(self) -> bool:
        return self._limits.remote_cache_bytes > 0

    def want(self, url: str) -> None:
        """Fetch ``url`` soon (from any thread); asked once per run."""
        loop = self._loop
        if loop is None or not self.enabled or url in self._asked:
            return
        if len(self._asked) > _REMEMBERED:
            self._asked.clear()
        self._asked.add(url)
        loop.call_soon_threadsafe(self._offer, url)

    def _offer(self, url: str) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(url)

    async def fetch_one(self, url: str) -> str | None:
        """Fetch and keep one address; the file key, or None when it failed."""
        known = await self._db.read(lambda c: cache_store.cached_among(c, [url]))
        if url in known:
            return known[url]
        now = time.time()
        try:
            data = await fetch_media(
                self._session, url, policy=self._policy, max_bytes=self._limits.remote_max_bytes
            )
            kind = sniff(data[:64])
            if kind is None:
                raise AgoraError("not an image, video or audio file")
            key = await self._run(lambda: self._files.put(data, kind.ext))
        except AgoraError as exc:
            reason = exc.public_message
            await self._db.write(
                lambda c: cache_store.put_cached(
                    c, url, file_key=None, mime=None, size=0, error=reason, now=now
                )
            )
            return None
        assert isinstance(key, str)
        await self._db.write(
            lambda c: cache_store.put_cached(
                c, url, file_key=key, mime=kind.mime, size=len(data), error=None, now=now
            )
        )
        await prune(self._db, self._files, self._limits, self._run, now=now)
        return key

    async def _worker(self) -> None:
        while True:
            url = await self._queue.get()
            try:
                await self.fetch_one(url)
            except Exception:
                log.exception("caching %s failed", url)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RemoteMediaCache]:
        self._loop = asyncio.get_running_loop()
        tasks = [asyncio.create_task(self._worker()) for _ in range(CONCURRENCY)]
        try:
            yield self
        finally:
            self._loop = None
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task


REMOTE_MEDIA = web.AppKey("remote_media", RemoteMediaCache)


async def prune(
    db: Database,
    files: FileStore,
    limits: MediaSettings,
    run: Callable[[Callable[[], Any]], Awaitable[Any]],
    *,
    now: float,
    keep_days: float | None = None,
    max_bytes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Drop cache entries older than ``keep_days`` and then the oldest until the
    cache holds at most ``max_bytes`` (the settings by default). (entries, bytes) gone."""
    days = limits.remote_keep_days if keep_days is None else keep_days
    budget = limits.remote_cache_bytes if max_bytes is None else max_bytes
    cutoff = now - days * 86400
    gone = freed = 0
    while True:
        _, held = await db.read(cache_store.cache_size)
        batch = await db.read(functools.partial(cache_store.oldest, limit=200))
        dropped = 0
        for entry in batch:
            if entry.fetched_at >= cutoff and held <= budget:
                break  # the rest are newer still
            key = await db.write(functools.partial(cache_store.forget, url=entry.url))
            if key:
                await run(functools.partial(files.delete, key))
            held -= entry.size if entry.state == "ready" else 0
            dropped += 1
            gone, freed = gone + 1, freed + entry.size
            if progress is not None:
                progress(gone, freed)
        if dropped < len(batch) or not batch:
            return gone, freed
