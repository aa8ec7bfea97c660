"""The HTML page of one of our posts (``/@{name}/{id}``), for people.

Who may see it is decided as for its JSON (``api.objects``). Every value is
escaped, except the content, which is HTML we rendered and sanitised when
the post was written.
"""

from __future__ import annotations

from html import escape

from aiohttp import web

from agora_node.api.objects import visible_note
from agora_node.context import SETTINGS, URLS
from agora_node.protocol import builders
from agora_node.web.pages import layout

_VISIBILITY_LABELS = {
    "public": "Public",
    "unlisted": "Unlisted",
    "private": "Followers only",
    "direct": "Direct",
}


async def note_page(request: web.Request) -> web.Response:
    account, note = await visible_note(request, signed=False)
    settings = request.app[SETTINGS]
    urls = request.app[URLS]
    actor = account.actor
    assert actor is not None
    handle = f"@{account.username}@{settings.domain}"
    name = actor.display_name or account.username
    if note.summary:
        content = (
            f"<details><summary>{escape(note.summary)}</summary>"
            f'<div class="e-content">{note.content}</div></details>'
        )
    else:
        content = f'<div class="e-content">{note.content}</div>'
    reply = ""
    if note.in_reply_to:
        target = escape(note.in_reply_to)
        link = f'<a class="u-in-reply-to" href="{target}">{target}</a>'
        reply = f'<p class="muted">In reply to {link}</p>'
    published = escape(builders.iso(note.published) or "")
    edited = f" · edited {escape(builders.iso(note.updated) or '')}" if note.updated else ""
    profile = escape(urls.profile_page(account.username))
    body = (
        '<article class="card h-entry">'
        f'<p class="p-author h-card"><a class="u-url" href="{profile}">'
        f"<strong>{escape(name)}</strong></a> "
        f'<span class="muted">{escape(handle)}</span></p>'
        f"{reply}{content}"
        f'<p class="muted"><a class="u-url" href="{escape(note.url or note.uri)}">'
        f'<time class="dt-published" datetime="{published}">{published}</time></a>{edited}'
        f" · {_VISIBILITY_LABELS.get(note.visibility, '')}</p>"
        "</article>"
    )
    resp = layout(f"{name}: post", body, settings.instance.name)
    resp.headers["Link"] = f'<{note.uri}>; rel="alternate"; type="application/activity+json"'
    if note.visibility not in ("public", "unlisted"):
        resp.headers["Cache-Control"] = "private, no-store"
    return resp
