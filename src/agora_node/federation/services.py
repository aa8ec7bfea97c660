"""Typed application keys for the federation services built at start-up."""

from __future__ import annotations

import asyncio

from aiohttp import web

from agora_node.federation.fetcher import Fetcher
from agora_node.federation.keys import KeyResolver
from agora_node.federation.signing import Signers

KEY_RESOLVER = web.AppKey("key_resolver", KeyResolver)
FETCHER = web.AppKey("fetcher", Fetcher)
SIGNERS = web.AppKey("signers", Signers)
# Set when new work is queued, so workers wake at once instead of polling.
INBOX_WAKE = web.AppKey("inbox_wake", asyncio.Event)
DELIVERY_WAKE = web.AppKey("delivery_wake", asyncio.Event)
