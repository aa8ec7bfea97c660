"""Typed application keys shared by the views, the workers and ``app.py``.

They live in their own module so that views can name them without importing
``app.py`` (which imports the views).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from aiohttp import web

from agora_node.config import InstanceSettings, Settings, instance_with
from agora_node.errors import ConfigError
from agora_node.protocol.urls import LocalUrls
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool

SETTINGS = web.AppKey("settings", Settings)


class Instance:
    """The instance's public face (name, description, rules, sign-up mode,
    contact, accent): the config file's ``[instance]`` with what an admin
    changed in the admin pages (kept in the database) laid over it. Read it
    here, not from ``Settings.instance``, for what people see."""

    def __init__(self, configured: InstanceSettings, changes: Mapping[str, Any]) -> None:
        self.configured = configured
        try:
            self.current = instance_with(configured, changes)
        except ConfigError as exc:  # kept from an older version's rules: the file's values
            logging.getLogger(__name__).error("instance settings from the admin pages: %s", exc)
            self.current = configured

    def apply(self, changes: Mapping[str, Any]) -> None:
        self.current = instance_with(self.configured, changes)


INSTANCE = web.AppKey("instance", Instance)
DB = web.AppKey("db", Database)
# Accepted inbound activities, committed on the serving loop (store/spool.py).
INBOX_SPOOL = web.AppKey("inbox_spool", InboxSpool)
URLS = web.AppKey("urls", LocalUrls)
HTTP = web.AppKey("http", aiohttp.ClientSession)
