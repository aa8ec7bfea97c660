"""The server-to-server inbox: authenticate, authorise, validate, store once.

Order matters: the cheap checks that need no network come first, so a
forged or malformed request never makes us fetch anything.
size cap → signature header, coverage, time window and digest (401) →
JSON (400) → blocked domain (403) → key resolution and verification (401)
→ origin rules (401/403) → schema (400) → spooled once by id → 202
(store/spool.py; the inbox worker queues it as a job and processes it).
"""

from __future__ import annotations

import json
import logging
import time

from aiohttp import web

from agora_node.context import DB, INBOX_SPOOL, SETTINGS, URLS
from agora_node.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge
from agora_node.federation.blocklist import HOST_BLOCKLIST, HostBlocklist
from agora_node.federation.services import INBOX_WAKE, KEY_RESOLVER
from agora_node.federation.turns import TURN_SHARE
from agora_node.protocol.authority import check_activity_authority
from agora_node.protocol.hosts import host_of
from agora_node.protocol.json_reader import parse_json_object
from agora_node.protocol.validation import validate_activity
from agora_node.protocol.vocab import id_of, types_of
from agora_node.ratelimit import RATE_LIMITER
from agora_node.store import accounts as accounts_store

log = logging.getLogger(__name__)

BLOCKED_MESSAGE = "this server does not accept activities from your domain"


async def read_capped(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    body = await request.content.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge(f"body larger than {limit} bytes")
    return body


def refuse_blocked_hosts(blocklist: HostBlocklist, uris: tuple[str | None, ...]) -> None:
    """403 when a URI's host is blocked; 400 when one is not http(s) (checked in order)."""
    for uri in uris:
        try:
            host = host_of(uri or "")
        except ValueError:
            raise BadRequest("actor and keyId must be http(s) URIs") from None
        if blocklist.is_blocked(host):
            raise Forbidden(BLOCKED_MESSAGE)


def request_url(request: web.Request, base_url: str) -> str:
    """The URL the sender signed: our public base URL plus the raw path and query."""
    return base_url + request.raw_path


async def inbox(request: web.Request) -> web.Response:
    app = request.app
    settings = app[SETTINGS]
    db = app[DB]
    name = request.match_info.get("name")
    if name is not None:
        account = await db.read(lambda c: accounts_store.get_account_by_username(c, name))
        if account is None or account.deleted_at is not None:
            raise NotFound("no such inbox")
    body = await read_capped(request, settings.federation.max_inbox_bytes)
    await app[TURN_SHARE].wait_turn()
    resolver = app[KEY_RESOLVER]
    url = request_url(request, settings.base_url)
    parsed = resolver.precheck("POST", url, request.headers, body)
    activity = parse_json_object(body)
    actor = id_of(activity.get("actor"))
    refuse_blocked_hosts(app[HOST_BLOCKLIST], (parsed.key_id, actor))
    limiter = app[RATE_LIMITER]
    if limiter.enabled:
        # Per sending server, before its key is fetched or its signature checked.
        limiter.check(limiter.inbox, host_of(parsed.key_id).split(":")[0])
    if (
        "Delete" in types_of(activity)
        and actor is not None
        and id_of(activity.get("object")) == actor
        and not await resolver.known_key(parsed.key_id)
    ):
        # A stranger deleting itself: nothing of it is stored, and its key is
        # gone anyway. Accept without fetching anything.
        log.info("ignored self-delete of unknown actor actor=%s", actor)
        return web.Response(status=202)
    verified = await resolver.verify(parsed)
    check_activity_authority(activity, verified.actor_uri)
    validate_activity(activity)
    activity_id = str(activity["id"])
    if "Flag" in types_of(activity) and app[HOST_BLOCKLIST].rejects_reports(
        host_of(verified.actor_uri)
    ):
        # The admin takes no reports from that server: accepted, and dropped.
        log.info("dropped report from a reject_reports domain activity_id=%s", activity_id)
        return web.Response(status=202)
    recipient = app[URLS].actor(name) if name else None
    # The job's payload holds the activity as received: the body is a JSON
    # object that parsed and validated, so it is spliced in as it is rather
    # than serialised again (a repeated key resolves the same way when the
    # worker parses it: the last one wins).
    received_at = time.time()
    payload_json = (
        f'{{"activity":{body.decode()},"recipient":{json.dumps(recipient)},'
        f'"received_at":{received_at!r}}}'
    )

    spooled = await app[INBOX_SPOOL].add(f"inbox:{activity_id}", payload_json, received_at)
    if spooled:
        app[INBOX_WAKE].set()
    log.info(
        "inbox accepted activity_id=%s type=%s actor=%s scheme=%s spooled=%s",
        activity_id, activity.get("type"), verified.actor_uri, verified.scheme, spooled,
    )  # fmt: skip
    return web.Response(status=202)


def routes() -> list[web.RouteDef]:
    return [
        web.post("/inbox", inbox),
        web.post("/users/{name}/inbox", inbox),
    ]
