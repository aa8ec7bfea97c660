"""The application factory: the one place that wires settings, storage,
HTTP client, workers, routes and middlewares together."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import sqlite_utils
from aiohttp import web

from agora_node.actions import admin, domains
from agora_node.actions.imports import Importer
from agora_node.actions.media import MEDIA, MediaService, remove_unattached
from agora_node.actions.signups import Node
from agora_node.api import accounts as account_views
from agora_node.api import (
    admin_accounts,
    admin_domains,
    apps,
    c2s,
    instance,
    notifications,
    oauth,
    relationships,
    startup,
    streaming,
)
from agora_node.api import conversations as conversation_views
from agora_node.api import discovery as discovery_views
from agora_node.api import domain_blocks as domain_block_views
from agora_node.api import filters as filter_views
from agora_node.api import lists as list_views
from agora_node.api import media as media_views
from agora_node.api import objects as object_views
from agora_node.api import polls as poll_views
from agora_node.api import reports as report_views
from agora_node.api import search as search_views
from agora_node.api import statuses as status_views
from agora_node.api import tags as tag_views
from agora_node.api import timelines as timeline_views
from agora_node.api.cors import cors_middleware
from agora_node.api.stream_hub import hub_ctx
from agora_node.background import (
    DELIVERY_BYTE,
    INBOX_BYTE,
    BackgroundWorkers,
    PipeWake,
    WorkerProcess,
)
from agora_node.config import WORKER_MODES, Settings
from agora_node.context import DB, HTTP, INBOX_SPOOL, INSTANCE, SETTINGS, URLS, Instance
from agora_node.entities import serialize
from agora_node.errors import AgoraError, Gone, NotAcceptable
from agora_node.federation import actors as actor_views
from agora_node.federation import discovery, inbox
from agora_node.federation.actor_cache import ACTOR_CACHE, RenderedCache
from agora_node.federation.blocklist import HOST_BLOCKLIST
from agora_node.federation.http import fetch_policy
from agora_node.federation.media_cache import REMOTE_MEDIA, RemoteMediaCache
from agora_node.federation.resolve import Resolver
from agora_node.federation.services import (
    DELIVERY_WAKE,
    FETCHER,
    INBOX_WAKE,
    KEY_RESOLVER,
    SIGNERS,
)
from agora_node.federation.turns import TURN_SHARE, TurnShare
from agora_node.loopmon import loop_monitor_ctx
from agora_node.processing.policies import Pipeline
from agora_node.processing.polls import announce_end
from agora_node.protocol import validation
from agora_node.protocol.keys import generate_rsa_keypair
from agora_node.protocol.negotiate import preferred
from agora_node.protocol.urls import LocalUrls
from agora_node.ratelimit import RATE_LIMITER, RateLimiter, rate_limit_middleware
from agora_node.services import Services, running_services
from agora_node.store import accounts as accounts_store
from agora_node.store import instance as instance_store
from agora_node.store import media as media_store
from agora_node.store import polls as polls_store
from agora_node.store.db import Database
from agora_node.store.spool import InboxSpool
from agora_node.web import account_settings, admin_moderation, authorize, pages, rendering
from agora_node.web import admin as web_admin
from agora_node.web import auth as web_auth
from agora_node.web import explore as web_explore
from agora_node.web import notifications as web_notifications
from agora_node.web import profiles as web_profiles
from agora_node.web import remote as web_remote
from agora_node.web import search as web_search
from agora_node.web import settings as web_settings
from agora_node.web import statuses as web_statuses
from agora_node.web import timelines as web_timelines
from agora_node.web.account_settings import IMPORTER
from agora_node.web.session import page_middleware

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_JSON_PREFIXES = ("/api/", "/oauth/", "/.well-known/", "/nodeinfo/", "/inbox", "/actor")


def _wants_html(request: web.Request) -> bool:
    path = request.path
    if path.startswith(_JSON_PREFIXES) or path.endswith(("/inbox", "/outbox")):
        return False
    return preferred(request.headers.get("Accept"), ("json", "html")) == "html"


def _error_response(
    request: web.Request, status: int, message: str, body: dict[str, object]
) -> web.StreamResponse:
    if _wants_html(request):
        live = request.app.get(INSTANCE)
        name = live.current.name if live else request.app[SETTINGS].instance.name
        return rendering.error_page(request, status, message, name)
    return web.Response(
        body=json.dumps(body).encode(), status=status, content_type="application/json"
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error the same way; never leak a stack trace."""
    try:
        return await handler(request)
    except AgoraError as exc:
        if exc.status >= 500:
            log.error("request failed path=%s status=%s error=%s", request.path, exc.status, exc)
        else:
            log.info(
                "request refused path=%s status=%s reason=%s",
                request.path,
                exc.status,
                exc.public_message,
            )
        if isinstance(exc, Gone) and exc.document is not None and not _wants_html(request):
            return actor_views.as_response(exc.document, status=410)
        resp = _error_response(request, exc.status, exc.public_message, exc.to_json())
        if exc.status == 401 and "WWW-Authenticate" in exc.details:
            resp.headers["WWW-Authenticate"] = str(exc.details["WWW-Authenticate"])
        resp.headers.update(exc.response_headers)
        return resp
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason.lower()
        resp = _error_response(request, exc.status, message, {"error": message})
        if exc.status == 405 and "Allow" in exc.headers:
            resp.headers["Allow"] = exc.headers["Allow"]
        return resp
    except Exception:
        log.exception("unhandled error path=%s", request.path)
        return _error_response(request, 500, "internal error", {"error": "internal error"})


def negotiated(**handlers: Handler) -> Handler:
    """One route, several representations picked by Accept (406 when none fits)."""
    offers = tuple(handlers)

    async def handler(request: web.Request) -> web.StreamResponse:
        choice = preferred(request.headers.get("Accept"), offers)
        if choice is None:
            raise NotAcceptable(
                "acceptable types: application/activity+json, application/ld+json, text/html"
            )
        resp = await handlers[choice](request)
        resp.headers["Vary"] = "Accept"
        return resp

    return handler


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = Database(
        settings.database.path,
        read_threads=settings.database.read_threads,
        # With a worker process, WAL checkpoints are its work (background), not
        # a thread competing with the serving loop for a core.
        checkpoints=app[WORKER_MODE] != "process",
    )
    db.open()
    app[DB] = db
    # Accepted inbound activities: committed on this loop to spool files only
    # this process writes (store/spool.py); the workers take them from there.
    spool = InboxSpool(settings.database.path)
    await asyncio.to_thread(spool.open)
    app[INBOX_SPOOL] = spool
    await db.write(ensure_instance_keys)
    app[INSTANCE] = Instance(settings.instance, await db.read(instance_store.instance_changes))
    yield
    await asyncio.to_thread(spool.close)
    db.close()


# How often uploads no post took, and those of deleted posts and accounts, are removed.
MEDIA_SWEEP_SECONDS = 600.0


async def _media_ctx(app: web.Application) -> AsyncIterator[None]:
    """The media store and threads; uploads left half-processed by a stop are
    marked failed, and uploads no post took (after a day) and those of deleted
    posts and accounts are swept out every ten minutes; remote
    media shown here is copied into the cache (federation/media_cache.py)."""
    settings = app[SETTINGS]
    service = MediaService.local(settings.media_root, settings.media)
    app[MEDIA] = service
    db = app[DB]
    await db.write(media_store.fail_interrupted)
    await service.run(service.clear_incoming)

    async def sweep() -> None:
        await remove_unattached(db, service, time.time())

    cache = RemoteMediaCache(
        db,
        app[HTTP],
        fetch_policy(settings, app[HOST_BLOCKLIST].rejects_media),
        service.files,
        settings.media,
        service.run,
    )
    app[REMOTE_MEDIA] = cache
    async with _every(MEDIA_SWEEP_SECONDS, sweep, "sweeping unattached uploads"):
        async with cache.running():
            serialize.MEDIA_WANTED[settings.base_url] = cache.want
            try:
                yield
            finally:
                serialize.MEDIA_WANTED.pop(settings.base_url, None)
    await service.close()


# How often accounts suspended past the reversal period are looked for.
PURGE_SWEEP_SECONDS = 3600.0


async def _purge_ctx(app: web.Application) -> AsyncIterator[None]:
    """Accounts suspended longer than ``moderation.suspension_purge_days``: what
    they left is deleted (the reversal period is over)."""
    settings = app[SETTINGS]
    node = Node(app[DB], app[URLS], settings.domain)

    async def sweep() -> None:
        purged = await admin.purge_suspended(
            node, days=settings.moderation.suspension_purge_days, now=time.time()
        )
        if purged:
            log.info("purged suspended accounts count=%d", purged)
            app[DELIVERY_WAKE].set()

    async with _every(PURGE_SWEEP_SECONDS, sweep, "purging suspended accounts"):
        yield


# How often ended polls are looked for (a notification may come this much late).
POLL_SWEEP_SECONDS = 30.0


async def _polls_ctx(app: web.Application) -> AsyncIterator[None]:
    """Tell the author and the local voters of each poll that has ended."""
    db = app[DB]

    async def sweep() -> None:
        ended = await db.read(lambda c: polls_store.ended_unannounced(c, time.time(), 100))
        for uri in ended:
            await db.write(functools.partial(announce_end, poll_uri=uri, now=time.time()))

    async with _every(POLL_SWEEP_SECONDS, sweep, "announcing ended polls"):
        yield


def ensure_instance_keys(conn: sqlite_utils.Database) -> None:
    """The instance actor's key pair, made once and kept."""
    if accounts_store.get_instance_value(conn, "instance_rsa_private_pem"):
        return
    pair = generate_rsa_keypair()
    accounts_store.put_instance_value(conn, "instance_rsa_private_pem", pair.private_pem)
    accounts_store.put_instance_value(conn, "instance_rsa_public_pem", pair.public_pem)


async def _federation_ctx(app: web.Application) -> AsyncIterator[None]:
    """The process's services (HTTP client, signers, key resolver); then the workers."""
    settings = app[SETTINGS]
    async with contextlib.AsyncExitStack() as stack:
        services = await stack.enter_async_context(running_services(settings, app[DB]))
        app[HTTP] = services.session
        app[SIGNERS] = services.signers
        app[FETCHER] = services.fetcher
        app[KEY_RESOLVER] = services.key_resolver
        # Slow one-time work before the first request, not on its event-loop turn:
        # compiling the schemas and loading the instance key.
        await asyncio.to_thread(validation.warm_up)
        await services.signers.key_for(None)
        app[HOST_BLOCKLIST] = services.blocklist
        await stack.enter_async_context(_workers(app, services))
        importer = Importer(
            app[DB],
            Resolver(app[DB], services.fetcher, app[URLS], settings.domain),
            app[URLS],
            settings.domain,
            delivered=lambda: app[DELIVERY_WAKE].set(),
        )
        app[IMPORTER] = importer
        if app[WORKER_MODE] != "off":
            await stack.enter_async_context(importer.running())
            await stack.enter_async_context(_blocklist_refreshes(app, services))
        yield


@contextlib.asynccontextmanager
async def _blocklist_refreshes(app: web.Application, services: Services) -> AsyncIterator[None]:
    """The block lists subscribed to, fetched again every ``blocklist_refresh_hours``
    through the guarded client; each refresh is recorded (``domain subscriptions``)."""
    settings = app[SETTINGS]
    m = domains.Moderation(app[DB], services.blocklist, settings.domain)
    fetch = domains.list_fetcher(services.session, services.policy)
    period = settings.federation.blocklist_refresh_hours * 3600.0

    async def due() -> None:
        for sub in await domains.subscriptions(m):
            if sub.fetched_at is not None and time.time() - sub.fetched_at < period:
                continue
            try:
                changes = await domains.refresh(m, sub, fetch, by="subscription", now=time.time())
                log.info("block list refreshed url=%s changes=%d", sub.url, len(changes))
            except Exception:
                log.exception("block list refresh failed url=%s", sub.url)

    async with _every(min(period, 600.0), due, "refreshing block lists"):
        yield


@contextlib.asynccontextmanager
async def _every(
    seconds: float, work: Callable[[], Awaitable[None]], what: str
) -> AsyncIterator[None]:
    """Run ``work`` at once, then every ``seconds``, while the app runs (a
    failure is logged and the next round comes)."""

    async def loop() -> None:
        while True:
            try:
                await work()
            except Exception:
                log.exception("%s failed", what)
            await asyncio.sleep(seconds)

    task = asyncio.create_task(loop(), name=what)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def _workers(app: web.Application, services: Services) -> AsyncIterator[None]:
    """The inbox and delivery workers, here or in a worker process (see create_app)."""
    mode = app[WORKER_MODE]
    workers: BackgroundWorkers | None = None
    worker_process: WorkerProcess | None = None
    if mode == "inline":
        workers = BackgroundWorkers(services)
        app[INBOX_WAKE], app[DELIVERY_WAKE] = workers.inbox_wake, workers.delivery_wake
        await workers.start()
    elif mode == "process":
        worker_process = WorkerProcess(services.settings)
        app[INBOX_WAKE] = PipeWake(worker_process, INBOX_BYTE)
        app[DELIVERY_WAKE] = PipeWake(worker_process, DELIVERY_BYTE)
        await worker_process.start()
    else:  # "off": work stays queued for a node that runs workers
        app[INBOX_WAKE], app[DELIVERY_WAKE] = asyncio.Event(), asyncio.Event()
    try:
        yield
    finally:
        if workers is not None:
            await workers.stop()
        if worker_process is not None:
            await worker_process.stop()


WORKER_MODE = web.AppKey("worker_mode", str)


def create_app(
    settings: Settings, *, run_workers: bool = True, worker_mode: str | None = None
) -> web.Application:
    """The node's application.

    Workers: ``worker_mode`` "inline" runs them on this event loop (tests),
    "process" in a worker process of their own (``serve``; see
    ``background.py``), "off" not at all; by default "inline", or "off" when
    ``run_workers`` is false.
    """
    mode = worker_mode or ("inline" if run_workers else "off")
    if mode not in WORKER_MODES:
        raise ValueError(f"worker_mode must be one of {WORKER_MODES}")
    app = web.Application(
        # Apps (Mastodon.py among them) ask for "/api/v1/instance/": a path that
        # only resolves without its trailing slash is redirected there (308
        # keeps the method and body).
        middlewares=[
            cors_middleware,
            web.normalize_path_middleware(
                append_slash=False, remove_slash=True, redirect_class=web.HTTPPermanentRedirect
            ),
            page_middleware,
            error_middleware,
            rate_limit_middleware,
        ],
        client_max_size=settings.federation.max_inbox_bytes,
    )
    app[SETTINGS] = settings
    Pipeline.from_specs(settings.policies)  # a wrong policy stops the start, named
    app[RATE_LIMITER] = RateLimiter(settings.rate_limits)
    rendering.setup(app)
    app[URLS] = LocalUrls(settings.base_url)
    app[WORKER_MODE] = mode
    app[ACTOR_CACHE] = RenderedCache()
    app[TURN_SHARE] = TurnShare()
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_federation_ctx)
    app.cleanup_ctx.append(_media_ctx)
    if mode != "off":
        app.cleanup_ctx.append(_polls_ctx)
        app.cleanup_ctx.append(_purge_ctx)
    app.cleanup_ctx.append(hub_ctx)
    if settings.server.loop_monitor:  # last: stopped first
        app.cleanup_ctx.append(
            loop_monitor_ctx(settings.server.loop_monitor, settings.server.loop_monitor_callbacks)
        )
    app.add_routes(inbox.routes())
    app.add_routes(discovery.routes())
    app.add_routes(actor_views.routes())
    app.add_routes(pages.routes())
    app.add_routes(web_auth.routes())
    app.add_routes(web_timelines.routes())
    app.add_routes(web_statuses.routes())
    app.add_routes(web_profiles.routes())
    app.add_routes(web_search.routes())
    app.add_routes(web_notifications.routes())
    app.add_routes(web_admin.routes())
    app.add_routes(admin_moderation.routes())
    app.add_routes(web_remote.routes())
    app.add_routes(web_settings.routes())
    app.add_routes(account_settings.routes())
    app.add_routes(web_explore.routes())
    app.add_routes(oauth.routes())
    app.add_routes(media_views.routes())
    app.add_routes(domain_block_views.routes())
    app.add_routes(admin_domains.routes())
    app.add_routes(admin_accounts.routes())
    app.add_routes(report_views.routes())
    app.add_routes(filter_views.routes())
    app.add_routes(apps.routes())
    app.add_routes(instance.routes())
    app.add_routes(startup.routes())
    app.add_routes(authorize.routes())
    app.add_routes(account_views.routes())
    app.add_routes(relationships.routes())
    app.add_routes(notifications.routes())
    app.add_routes(streaming.routes())
    app.add_routes(timeline_views.routes())
    app.add_routes(status_views.routes())
    app.add_routes(tag_views.routes())
    app.add_routes(list_views.routes())
    app.add_routes(discovery_views.routes())
    app.add_routes(poll_views.routes())
    app.add_routes(conversation_views.routes())
    app.add_routes(search_views.routes())
    actor_handler = negotiated(
        activity=actor_views.actor_json, html=web_profiles.profile, json=actor_views.actor_json
    )
    app.router.add_get("/users/{name}", actor_handler)
    app.add_routes(c2s.routes())
    app.add_routes(object_views.routes())
    note_handler = negotiated(
        activity=object_views.note_json, html=web_statuses.note_page, json=object_views.note_json
    )
    app.router.add_get("/users/{name}/statuses/{id}", note_handler)
    app.router.add_get("/@{name}/{id}", note_handler)
    return app
