"""Typed application keys shared by the views, the workers and ``app.py``.

They live in their own module so that views can name them without importing
``app.py`` (which imports the views).
"""

from __future__ import annotations

import aiohttp
from aiohttp import web

from agora_node.config import Settings
from agora_node.protocol.urls import LocalUrls
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
# Accepted inbound activities, committed on the serving loop (store/spool.py).
INBOX_SPOOL = web.AppKey("inbox_spool", InboxSpool)
URLS = web.AppKey("urls", LocalUrls)
HTTP = web.AppKey("http", aiohttp.ClientSession)
