"""Media for Mastodon clients: upload, look up, describe; and serving the files.

``POST /api/v2/media`` answers 200 with the MediaAttachment when the upload
is done at once, 202 (``url`` null) when a large image is still being
processed; ``GET /api/v1/media/:id`` then answers 206 until it is done, 200
after, as Mastodon does. ``POST /api/v1/media`` always waits. ``PUT`` changes
the description (alt text) and the focus point. The form is multipart:
``file``, ``description``, ``focus`` (a ``thumbnail`` is accepted and
ignored: previews are made here).

``GET /media/{key}`` serves a stored file with its type, a year of caching
(a key never changes meaning), an ETag, ``nosniff`` and a sandboxing CSP, so
a browser never treats one as a page.
"""

from __future__ import annotations

from aiohttp import web

from agora_node.actions.media import MEDIA, Incoming, describe, own_media, receive_form, upload
from agora_node.api.requests import base_url, body_params, caller_of, path_id, signed_in, text_param
from agora_node.entities.serialize import media_json
from agora_node.errors import UnprocessableEntity
from agora_node.store.files import is_key

_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "wav": "audio/wav",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
}


async def _received(request: web.Request) -> tuple[Incoming, dict[str, str]]:
    """The ``file`` part (into an incoming file) and the short text parts."""
    if not request.content_type.startswith("multipart/form-data"):
        raise UnprocessableEntity("Validation failed: send the file as multipart/form-data")
    service = request.app[MEDIA]
    form = await receive_form(await request.multipart(), service, ("file",))
    if "file" not in form.files:
        raise UnprocessableEntity("Validation failed: File can't be blank")
    fields: dict[str, str] = {}
    for name, value in form.fields:
        if name in ("description", "focus"):
            fields.setdefault(name, value)
    return form.files["file"], fields


async def _upload(request: web.Request, *, wait: bool) -> web.Response:
    who = await signed_in(request, "write:media")
    incoming, fields = await _received(request)
    row = await upload(
        caller_of(request, who),
        request.app[MEDIA],
        incoming,
        description=fields.get("description"),
        focus=fields.get("focus"),
        wait=wait,
    )
    status = 202 if row.state == "processing" else 200
    return web.json_response(media_json(base_url(request), row), status=status)


async def upload_v1(request: web.Request) -> web.Response:
    return await _upload(request, wait=True)


async def upload_v2(request: web.Request) -> web.Response:
    return await _upload(request, wait=False)


async def show(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:media")
    row = await own_media(caller_of(request, who), path_id(request))
    if row.state == "failed":
        raise UnprocessableEntity(f"Validation failed: {row.error or 'the file was not usable'}")
    status = 206 if row.state == "processing" else 200
    return web.json_response(media_json(base_url(request), row), status=status)


async def update(request: web.Request) -> web.Response:
    who = await signed_in(request, "write:media")
    params = await body_params(request)
    description = text_param(params, "description") if "description" in params else None
    focus = text_param(params, "focus") if "focus" in params else None
    row = await describe(
        caller_of(request, who),
        request.app[MEDIA],
        path_id(request),
        description=description,
        focus=focus,
    )
    return web.json_response(media_json(base_url(request), row))


async def serve(request: web.Request) -> web.StreamResponse:
    key = request.match_info["key"]
    path = None
    if is_key(key):
        service = request.app[MEDIA]
        path = await service.run(lambda: service.files.path_of(key))
    if path is None:
        raise web.HTTPNotFound(text="no such file")
    resp = web.FileResponse(
        path,
        headers={
            "Content-Type": _TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream"),
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Access-Control-Allow-Origin": "*",
        },
    )
    return resp


def routes() -> list[web.RouteDef]:
    return [
        web.post("/api/v1/media", upload_v1),
        web.post("/api/v2/media", upload_v2),
        web.get("/api/v1/media/{id}", show),
        web.put("/api/v1/media/{id}", update),
        web.get("/media/{key}", serve),
    ]
