"""Typed application keys for the federation services built at start-up."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from agora_node.federation.fetcher import Fetcher
from agora_node.federation.keys import KeyResolver
from agora_node.federation.signing import Signers

KEY_RESOLVER = web.AppKey("key_resolver", KeyResolver)
FETCHER = web.AppKey("fetcher", Fetcher)
SIGNERS = web.AppKey("signers", Signers)


class Wake(Protocol):
    """Set when new work is queued, so a worker wakes at once instead of polling
    (an ``asyncio.Event`` in the same process, a pipe to a worker process)."""

    def set(self) -> None: ...


INBOX_WAKE = web.AppKey("inbox_wake", Wake)
DELIVERY_WAKE = web.AppKey("delivery_wake", Wake)
