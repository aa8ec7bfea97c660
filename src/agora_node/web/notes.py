"""The HTML page of one of our posts (``/@{name}/{id}``), for people.

Who may read it is decided by ``actions.posts.visible_post``, as for its
JSON. Pages have no signed-in viewer yet, so followers-only and direct posts
are a 404 here, the same answer as for a post that does not exist.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.actions.posts import visible_post
from agora_node.context import DB, SETTINGS, URLS
from agora_node.federation.actors import load_account
from agora_node.processing.visibility import is_open
from agora_node.protocol import builders
from agora_node.web.rendering import render

_VISIBILITY_LABELS = {
    "public": "Public",
    "unlisted": "Unlisted",
    "private": "Followers only",
    "direct": "Direct",
}


async def note_page(request: web.Request) -> web.Response:
    account = await load_account(request)
    urls = request.app[URLS]
    note = await visible_post(request.app[DB], urls, account, request.match_info["id"], None)
    settings = request.app[SETTINGS]
    actor = account.actor
    assert actor is not None
    name = actor.display_name or account.username
    resp = render(
        request,
        "note.html",
        {
            "note": note,
            "name": name,
            "handle": f"@{account.username}@{settings.domain}",
            "profile_url": urls.profile_page(account.username),
            "published": builders.iso(note.published) or "",
            "edited": builders.iso(note.updated) if note.updated else "",
            "visibility": _VISIBILITY_LABELS.get(note.visibility, ""),
        },
        title=f"{name}: post",
        site_name=settings.instance.name,
    )
    resp.headers["Link"] = f'<{note.uri}>; rel="alternate"; type="application/activity+json"'
    if not is_open(note.visibility):
        resp.headers["Cache-Control"] = "private, no-store"
    return resp
