"""Cross-origin access for browser apps (Elk, Phanpy…) served from another origin.

The client API, the token and revocation endpoints, discovery and NodeInfo
answer any origin: they are authorised by bearer tokens, never by cookies,
so a foreign page gains nothing it could not get with the token itself.
Preflight (``OPTIONS``) requests are answered here, before routing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/")
_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, Accept"
_EXPOSE_HEADERS = "Link, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset"
_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_cross_origin_path(path: str) -> bool:
    return path.startswith(_PREFIXES)


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_cross_origin_path(request.path):
        return await handler(request)
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": _METHODS,
                "Access-Control-Allow-Headers": _ALLOW_HEADERS,
                "Access-Control-Max-Age": "86400",
            },
        )
    response = await handler(request)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = _EXPOSE_HEADERS
    return response
