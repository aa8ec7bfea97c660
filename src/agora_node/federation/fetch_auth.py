"""Signed GETs ("authorized fetch"): who is asking for a document.

With ``federation.authorized_fetch`` on, actor documents and collections
are served only to requests signed by a resolvable key. With it off, an
unsigned GET is fine, but a signature that is present must still be valid:
a forged one is refused, never silently ignored.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.context import SETTINGS
from agora_node.errors import SignatureError
from agora_node.federation.keys import VerifiedRequest
from agora_node.federation.services import KEY_RESOLVER


def _is_signed(request: web.Request) -> bool:
    headers = request.headers
    return (
        "Signature" in headers
        or "Signature-Input" in headers
        or headers.get("Authorization", "").startswith("Signature ")
    )


async def signed_viewer(request: web.Request) -> VerifiedRequest | None:
    """The verified signer of a GET, None when unsigned (401 when required)."""
    settings = request.app[SETTINGS]
    if not _is_signed(request):
        if settings.federation.authorized_fetch:
            raise SignatureError("missing_signature", "this server requires signed fetches")
        return None
    resolver = request.app[KEY_RESOLVER]
    url = settings.base_url + request.raw_path
    parsed = resolver.precheck(request.method, url, request.headers, None)
    return await resolver.verify(parsed)
