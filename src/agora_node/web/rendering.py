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
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from agora_node import __version__

_HERE = Path(__file__).resolve().parent
TEMPLATES = _HERE / "templates"
STATIC = _HERE / "static"
STATIC_FILES = web.AppKey("static_files", dict)
_STATIC_CACHE = "public, max-age=86400"


def setup(app: web.Application) -> None:
    """Templates (autoescape on) and the static routes for ``app``."""
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
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
    page = {**context, "title": title, "site_name": site_name, "version": __version__}
    text = aiohttp_jinja2.render_string(template, request, page)
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Vary": "Accept"},
    )


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
