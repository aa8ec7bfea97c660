"""What apps ask a server about itself when they connect, in Mastodon's shapes.

``/api/v1/instance`` and ``/api/v2/instance`` (name, limits, registrations,
contact, rules), peers, weekly activity, rules, custom emoji and the
signed-in person's preferences. The limits are the node's own (the post
length ``processing.outbound_notes`` and the poll limits ``processing.polls``
enforce); what the node does not offer yet (media uploads) is announced as a
zero limit, so an app does not offer it. The version string names the
Mastodon API version we follow, as other compatible servers do, because apps
pick features by it.
"""

from __future__ import annotations

import time
from typing import Any

import sqlite_utils
from aiohttp import web

from agora_node import __version__
from agora_node.actions import profile
from agora_node.api.requests import base_url, caller_of, signed_in
from agora_node.config import InstanceSettings, MediaSettings
from agora_node.context import DB, INSTANCE, SETTINGS
from agora_node.entities import serialize
from agora_node.processing import polls
from agora_node.processing.media import SUPPORTED_TYPES
from agora_node.processing.outbound_notes import MAX_ATTACHMENTS, MAX_TEXT
from agora_node.store import accounts as accounts_store
from agora_node.store import instance as instance_store

API_VERSION = f"4.3.0 (compatible; Agora {__version__})"
_CHARACTERS_PER_URL = 23


def _rules(inst: InstanceSettings) -> list[dict[str, str]]:
    return [{"id": str(i), "text": text, "hint": ""} for i, text in enumerate(inst.rules, 1)]


def _status_limits() -> dict[str, Any]:
    return {
        "max_characters": MAX_TEXT,
        "max_media_attachments": MAX_ATTACHMENTS,
        "characters_reserved_per_url": _CHARACTERS_PER_URL,
    }


def _media_limits(media: MediaSettings) -> dict[str, Any]:
    """What apps may upload. Video is kept as uploaded (no transcoding): its
    frame rate and size limits are the upload's own, so they are not bounded
    here beyond the file size."""
    return {
        "supported_mime_types": list(SUPPORTED_TYPES),
        "description_limit": media.max_description,
        "image_size_limit": media.max_image_bytes,
        "image_matrix_limit": media.max_image_pixels,
        "video_size_limit": media.max_video_bytes,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8192 * 4320,
        # Not Mastodon's: video and audio are kept as uploaded, never transcoded.
        "video_transcoding": False,
    }


_POLL_LIMITS = {
    "max_options": polls.MAX_OPTIONS,
    "max_characters_per_option": polls.MAX_OPTION_CHARS,
    "min_expiration": polls.MIN_EXPIRATION,
    "max_expiration": polls.MAX_EXPIRATION,
}


def _contact(c: sqlite_utils.Database, base: str) -> dict[str, Any] | None:
    """The first admin's account, as the one to contact."""
    admin = accounts_store.get_first_admin(c)
    if admin is None or admin.actor is None:
        return None
    return serialize.account_json(serialize.account_rendering(c, admin.actor, base), admin.actor)


async def instance_v2(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[dict[str, Any] | None, int]:
        return _contact(c, base), instance_store.instance_stats(c)[0]

    contact, users = await request.app[DB].read(load)
    inst = request.app[INSTANCE].current
    return web.json_response(
        {
            "domain": settings.domain,
            "title": inst.name,
            "version": API_VERSION,
            "source_url": inst.source_url or f"{base}/",
            "description": inst.description,
            "usage": {"users": {"active_month": users}},
            "thumbnail": {"url": f"{base}/static/thumbnail.png"},
            "icon": [],
            "languages": ["en"],
            "configuration": {
                "urls": {"streaming": base.replace("http", "ws", 1), "status": None},
                "vapid": {"public_key": ""},
                "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
                "statuses": _status_limits(),
                "media_attachments": _media_limits(settings.media),
                "polls": _POLL_LIMITS,
                "translation": {"enabled": False},
            },
            "registrations": {
                "enabled": inst.registration in ("open", "approval"),
                "approval_required": inst.registration == "approval",
                "message": None,
                "url": None,
            },
            "api_versions": {"mastodon": 2},
            "contact": {"email": inst.admin_contact, "account": contact},
            "rules": _rules(inst),
        }
    )


async def instance_v1(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    base = base_url(request)

    def load(c: sqlite_utils.Database) -> tuple[dict[str, Any] | None, tuple[int, int, int]]:
        return _contact(c, base), instance_store.instance_stats(c)

    contact, (users, posts, domains) = await request.app[DB].read(load)
    inst = request.app[INSTANCE].current
    return web.json_response(
        {
            "uri": settings.domain,
            "title": inst.name,
            "short_description": inst.description,
            "description": inst.description,
            "email": inst.admin_contact,
            "version": API_VERSION,
            "urls": {"streaming_api": base.replace("http", "ws", 1)},
            "stats": {"user_count": users, "status_count": posts, "domain_count": domains},
            "thumbnail": f"{base}/static/thumbnail.png",
            "languages": ["en"],
            "registrations": inst.registration in ("open", "approval"),
            "approval_required": inst.registration == "approval",
            "invites_enabled": inst.registration != "closed",
            "configuration": {
                "accounts": {"max_featured_tags": 0},
                "statuses": _status_limits(),
                "media_attachments": _media_limits(settings.media),
                "polls": _POLL_LIMITS,
            },
            "contact_account": contact,
            "rules": _rules(inst),
        }
    )


async def peers(request: web.Request) -> web.Response:
    return web.json_response(await request.app[DB].read(instance_store.peer_domains))


async def activity(request: web.Request) -> web.Response:
    now = time.time()
    weeks = await request.app[DB].read(lambda c: instance_store.weekly_activity(c, now))
    return web.json_response(
        [
            {
                "week": str(int(start)),
                "statuses": str(posts),
                "logins": str(logins),
                "registrations": str(signups),
            }
            for start, posts, logins, signups in weeks
        ]
    )


async def rules(request: web.Request) -> web.Response:
    return web.json_response(_rules(request.app[INSTANCE].current))


async def custom_emojis(request: web.Request) -> web.Response:
    """The node has no custom emoji of its own."""
    return web.json_response([])


async def preferences(request: web.Request) -> web.Response:
    who = await signed_in(request, "read:accounts")
    defaults = await profile.posting_defaults(caller_of(request, who))
    return web.json_response(
        {
            "posting:default:visibility": defaults.privacy,
            "posting:default:sensitive": defaults.sensitive,
            "posting:default:language": defaults.language or None,
            "reading:expand:media": "default",
            "reading:expand:spoilers": False,
        }
    )


def routes() -> list[web.RouteDef]:
    return [
        web.get("/api/v1/instance", instance_v1),
        web.get("/api/v2/instance", instance_v2),
        web.get("/api/v1/instance/peers", peers),
        web.get("/api/v1/instance/activity", activity),
        web.get("/api/v1/instance/rules", rules),
        web.get("/api/v1/custom_emojis", custom_emojis),
        web.get("/api/v1/preferences", preferences),
    ]
