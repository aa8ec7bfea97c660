"""Server-rendered pages for people. Every value is escaped on output."""

from __future__ import annotations

from html import escape

from aiohttp import web

from agora_node import __version__
from agora_node.context import DB, SETTINGS, URLS
from agora_node.errors import Gone, NotFound
from agora_node.store import accounts as accounts_store
from agora_node.store import collections as coll_store

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem;"
    "color:#1d1d1f;background:#fafafa}header{border-bottom:1px solid #ddd;margin-bottom:1rem}"
    ".muted{color:#666}.card{background:#fff;border:1px solid #e3e3e3;border-radius:8px;"
    "padding:1rem;margin:.75rem 0}a{color:#3a4fb8}"
)


def layout(title: str, body: str, site_name: str, status: int = 200) -> web.Response:
    """The page frame; ``body`` must already be escaped HTML."""
    html = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · {escape(site_name)}</title><style>{_STYLE}</style></head>"
        f'<body><header><p><a href="/">{escape(site_name)}</a></p></header>'
        f'<main>{body}</main><footer class="muted"><p>Agora {escape(__version__)}</p></footer>'
        "</body></html>\n"
    )
    return web.Response(
        text=html,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept"},
    )


def error_page(status: int, message: str, site_name: str = "Agora") -> web.Response:
    body = f"<h1>{status}</h1><p>{escape(message)}</p>"
    return layout(f"Error {status}", body, site_name, status=status)


async def profile(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    account = await request.app[DB].read(
        lambda db: accounts_store.get_account_by_username(db, name)
    )
    if account is None or account.actor is None:
        raise NotFound("no such account")
    if account.deleted_at is not None:
        raise Gone("this account has been deleted")
    actor = account.actor
    counts = await request.app[DB].read(
        lambda db: (
            coll_store.count_followers(db, actor.uri),
            coll_store.count_following(db, actor.uri),
            coll_store.count_outbox(db, actor.uri, ("public",)),
        )
    )
    handle = f"@{account.username}@{settings.domain}"
    # The summary of a local account is stored as sanitized HTML.
    body = (
        f'<section class="card h-card"><h1 class="p-name">{escape(actor.display_name)}</h1>'
        f'<p class="muted">{escape(handle)}</p>'
        f'<div class="p-note">{actor.summary}</div>'
        f"<p>{counts[2]} posts · {counts[0]} followers · {counts[1]} following</p>"
        f'<p class="muted">ActivityPub: <a href="{escape(actor.uri)}">{escape(actor.uri)}</a></p>'
        "</section>"
    )
    resp = layout(actor.display_name or account.username, body, settings.instance.name)
    resp.headers["Link"] = (
        f'<{urls.actor(account.username)}>; rel="alternate"; type="application/activity+json"'
    )
    return resp


async def home(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    accounts = await request.app[DB].read(accounts_store.list_accounts)
    domain = escape(settings.domain)
    items = "".join(
        f'<li><a href="/@{escape(a.username)}">@{escape(a.username)}@{domain}</a></li>'
        for a in accounts
        if a.deleted_at is None
    )
    body = (
        f"<h1>{escape(settings.instance.name)}</h1>"
        f"<p>{escape(settings.instance.description)}</p>"
        f"<h2>People here</h2><ul>{items or '<li>No accounts yet.</li>'}</ul>"
    )
    return layout(settings.instance.name, body, settings.instance.name)


def routes() -> list[web.RouteDef]:
    return [web.get("/", home), web.get("/@{name}", profile)]
