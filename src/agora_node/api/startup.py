"""Endpoints apps call as they start that the node does not back yet.

Announcements and endorsements: each
answers with Mastodon's documented empty shape (an empty list) for a
signed-in app, because Tusky, Ivory and the web clients stop
loading on a 404 there. Each needs a token with its read scope, as on
Mastodon, so an app learns early when its token is wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from agora_node.api.requests import signed_in

_EMPTY = {
    "/api/v1/announcements": "read",
    "/api/v1/endorsements": "read:accounts",
}


def _empty(scope: str) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def view(request: web.Request) -> web.Response:
        await signed_in(request, scope)
        return web.json_response([])

    return view


def routes() -> list[web.RouteDef]:
    return [web.get(path, _empty(scope)) for path, scope in _EMPTY.items()]
