"""Pages rendered from Jinja2 templates with autoescaping, and the static files.

Every page goes through ``render``: a template under ``web/templates/``
filled with plain values, escaped by the template engine. The few fields
that are already sanitised HTML (a post's content, an account's summary,
cleaned by nh3 when they were stored) are marked ``|safe`` in the template,
each with a comment saying why. The stylesheet and other static files under
``web/static/`` are read once at start-up and served from memory.
"""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from agora_node import __version__
from agora_node.context import INSTANCE, SETTINGS
from agora_node.processing.outbound_notes import MAX_TEXT
from agora_node.web import session

_HERE = Path(__file__).resolve().parent
TEMPLATES = _HERE / "templates"
STATIC = _HERE / "static"
STATIC_FILES = web.AppKey("static_files", dict)
_STATIC_CACHE = "public, max-age=86400"


VISIBILITY_LABELS = {
    "public": "Public",
    "unlisted": "Unlisted",
    "private": "Followers only",
    "direct": "Mentioned people only",
}


def when(iso_time: str | None) -> str:
    """An entity's ISO time as people read it: ``7 Dec 2026, 15:40 UTC``."""
    if not iso_time:
        return ""
    try:
        moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return iso_time
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def moment(epoch: float | None) -> str:
    """A stored time (seconds since the epoch) as ``when`` shows an entity's."""
    if epoch is None:
        return ""
    at = datetime.fromtimestamp(epoch, UTC)
    return f"{at.day} {at:%b %Y, %H:%M} UTC"


def profile_path(account: dict[str, Any]) -> str:
    """The page of an Account entity here: ``/@name`` or ``/@name@host``."""
    return f"/@{account['acct']}"


def setup(app: web.Application) -> None:
    """Templates (autoescape on) and the static routes for ``app``."""
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(
        when=when,
        moment=moment,
        profile_path=profile_path,
        visibility_label=VISIBILITY_LABELS.get,
    )
    files: dict[str, tuple[bytes, str]] = {}
    for path in sorted(STATIC.iterdir()):
        if path.is_file():
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            files[path.name] = (path.read_bytes(), kind)
    app[STATIC_FILES] = files
    app.router.add_get("/static/{name}", _static)


async def _static(request: web.Request) -> web.Response:
    found = request.app[STATIC_FILES].get(request.match_info["name"])
    if found is None:
        raise web.HTTPNotFound(text="no such file")
    body, kind = found
    return web.Response(
        body=body,
        content_type=kind,
        headers={"Cache-Control": _STATIC_CACHE, "X-Content-Type-Options": "nosniff"},
    )


def render(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    site_name: str,
    status: int = 200,
) -> web.Response:
    """``template`` filled with ``context`` (plus the frame's values), as an HTML page."""
    live = request.app.get(INSTANCE)
    # The theme's address names its accent, so a changed colour is fetched anew.
    accent = live.current.accent_color.lstrip("#").lower() if live else ""
    page = {
        **context,
        "title": title,
        "site_name": site_name,
        "version": __version__,
        "theme_url": f"/theme.css?v={accent}",
    }
    text = aiohttp_jinja2.render_string(template, request, page)
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept"},
    )


async def page(
    request: web.Request,
    template: str,
    context: dict[str, Any],
    *,
    title: str,
    status: int = 200,
) -> web.Response:
    """A page of the site's frame: the signed-in visitor's navigation and the CSRF
    token its forms carry."""
    who = await session.visitor(request)
    frame = {
        "visitor": who,
        "csrf": await session.csrf_token(request),
        "here": request.path_qs,
        "char_limit": MAX_TEXT,
        "require_alt": request.app[SETTINGS].media.require_alt_text,
        **context,
    }
    resp = render(
        request, template, frame, title=title, site_name=request.app[INSTANCE].current.name
    )
    resp.set_status(status)
    resp.headers["Cache-Control"] = "private, no-store" if who else "no-cache"
    return resp


def error_page(
    request: web.Request, status: int, message: str, site_name: str = "Agora"
) -> web.Response:
    """The page for an error (the middleware's HTML answer)."""
    return render(
        request,
        "error.html",
        {"status": status, "message": message},
        title=f"Error {status}",
        site_name=site_name,
        status=status,
    )
