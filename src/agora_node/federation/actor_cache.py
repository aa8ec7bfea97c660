"""Rendered actor documents and WebFinger answers of local accounts, kept in memory.

Why: peers fetch a local actor document (and its WebFinger) on every follow,
mention and signature check. Rendering one costs two database reads through
the reader threads, which on a small machine costs more than the HTTP
exchange itself (``bench/discovery.py``: 0.35 of a bare handler's rate
without this cache).

What stays correct:
- only successful renderings are kept; an unknown name (404) or a deleted
  account (410) is looked up every time, so a new account appears at once;
- a write in this process that changes what is rendered (profile, keys,
  deletion, move) calls :meth:`RenderedCache.invalidate` after it commits,
  and a rendering that raced with that invalidation is not stored;
- a write by *another* process (``agora-node account delete`` opens the
  database directly) cannot reach this cache, so every entry also expires
  after ``ttl`` seconds: such changes show within that time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web

DEFAULT_TTL_SECONDS = 1.0
DEFAULT_MAX_ENTRIES = 4096

ACTOR_DOCUMENT = "actor"
WEBFINGER = "webfinger"

Render = Callable[[], Awaitable[bytes]]


def cache_key(username: str) -> str | None:
    """Usernames compare case-insensitively (ASCII, like SQLite NOCASE); others are not cached."""
    return username.lower() if username.isascii() else None


class RenderedCache:
    """Response bodies by (kind, username), bounded in size and age."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[tuple[str, str], tuple[float, bytes]] = {}
        # Bumped by every invalidation, so a rendering started before it is not stored.
        self._generation = 0
        self.hits = 0
        self.misses = 0

    def get(self, kind: str, username: str) -> bytes | None:
        key = cache_key(username)
        if key is None:
            return None
        entry = self._entries.get((kind, key))
        if entry is None:
            return None
        expires, body = entry
        if self._clock() >= expires:
            del self._entries[(kind, key)]
            return None
        return body

    def put(self, kind: str, username: str, body: bytes) -> None:
        key = cache_key(username)
        if key is None or self._ttl <= 0:
            return
        self._entries.pop((kind, key), None)
        while len(self._entries) >= self._max_entries:
            del self._entries[next(iter(self._entries))]  # the oldest
        self._entries[(kind, key)] = (self._clock() + self._ttl, body)

    def invalidate(self, username: str | None = None) -> None:
        """Forget one account's renderings (after a write that changes them), or all."""
        self._generation += 1
        if username is None:
            self._entries.clear()
            return
        key = cache_key(username)
        for entry_key in [k for k in self._entries if k[1] == key]:
            del self._entries[entry_key]

    async def get_or_render(self, kind: str, username: str, render: Render) -> bytes:
        """The cached body, or ``render()``'s (stored unless invalidated meanwhile).

        Exceptions from ``render`` (NotFound, Gone…) propagate and nothing is stored.
        """
        body = self.get(kind, username)
        if body is not None:
            self.hits += 1
            return body
        self.misses += 1
        generation = self._generation
        body = await render()
        if generation == self._generation:
            self.put(kind, username, body)
        return body

    def __len__(self) -> int:
        return len(self._entries)


ACTOR_CACHE = web.AppKey("actor_cache", RenderedCache)
