"""Uploading media through the client API: what is kept of a photograph, what is
refused, alt text and focus, attaching to posts, and how the files are served."""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib
from typing import Any

import aiohttp
import pytest
from PIL import Image

from agora_node.actions.media import MEDIA, remove_unattached
from tests.api.c2s_rig import BASE_URL, Node, auth

GPS_IFD = 0x8825
ORIENTATION = 0x0112
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b"<rdf:Description>secret place</rdf:Description></x:xmpmeta>"
)


def photo(width: int = 320, height: int = 160, *, orientation: int = 1) -> bytes:
    """A JPEG as a phone writes one: EXIF with a GPS position and an orientation, and XMP."""
    im = Image.new("RGB", (width, height), (30, 120, 200))
    for x in range(width // 2):  # something that is not one flat colour
        im.putpixel((x, height // 2), (250, 250, 10))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), xmp=XMP, comment=b"taken at home")
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (64, 64), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 30, 128) if mode == "RGBA" else (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims to be ``width`` x ``height``: a bomb if anyone decoded it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (40, 30), (i * 100, 50, 200 - i * 60)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], duration=[80, 120, 200], loop=0,
        comment=b"made by a tool",
    )  # fmt: skip
    return out.getvalue()


async def upload(
    node: Node, data: bytes, *, version: int = 2, name: str = "a.jpg", **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    for key, value in fields.items():
        form.add_field(key, value)
    return await node.client.post(f"/api/v{version}/media", data=form, headers=auth(node.token))


async def fetch(node: Node, url: str) -> aiohttp.ClientResponse:
    return await node.client.get(url.replace(BASE_URL, ""))


async def test_a_photograph_loses_its_metadata_and_stands_upright(node: Node) -> None:
    resp = await upload(node, photo(320, 160, orientation=6), description="A blue sky")
    assert resp.status == 200, await resp.text()
    media = await resp.json()
    assert media["type"] == "image" and media["description"] == "A blue sky"
    assert media["meta"]["original"]["width"] == 160 and media["meta"]["original"]["height"] == 320
    assert media["meta"]["small"]["height"] <= 400 and media["blurhash"]
    assert media["meta"]["focus"] == {"x": 0.0, "y": 0.0}
    served = await fetch(node, media["url"])
    assert served.status == 200 and served.content_type == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert "immutable" in served.headers["Cache-Control"] and served.headers.get("ETag")
    body = await served.read()
    kept = Image.open(io.BytesIO(body))
    assert kept.size == (160, 320)  # the orientation went into the pixels
    assert not kept.getexif() and "exif" not in kept.info  # no GPS, no maker, nothing
    assert "xmp" not in kept.info and b"secret place" not in body
    assert b"taken at home" not in body and b"PhoneMaker" not in body
    preview = await fetch(node, media["preview_url"])
    assert preview.status == 200 and not Image.open(io.BytesIO(await preview.read())).getexif()
    again = await node.client.get(f"/api/v1/media/{media['id']}", headers=auth(node.token))
    assert again.status == 200 and (await again.json())["url"] == media["url"]
    cached = await node.client.get(
        media["url"].replace(BASE_URL, ""), headers={"If-None-Match": served.headers["ETag"]}
    )
    assert cached.status == 304


async def test_large_images_are_scaled_to_the_instance_limit(node: Node) -> None:
    resp = await upload(node, photo(2400, 1800), version=1)
    media = await resp.json()
    width, height = media["meta"]["original"]["width"], media["meta"]["original"]["height"]
    assert width * height <= 1920 * 1080 and abs(width / height - 4 / 3) < 0.01


@pytest.mark.parametrize(
    ("data", "status", "needle"),
    [
        (b"just some text, not a picture", 422, "not an image, video or audio"),
        (png_header_only(50_000, 50_000), 422, "more than 33177600 pixels"),
        (photo() + b"<script>alert(document.cookie)</script>", 422, "markup or script"),
        (animated_gif() + b"PK\x03\x04" + b"\x00" * 30 + b"PK\x05\x06" + b"\x00" * 18, 422,
         "also an archive"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 100, 422, "could not be read"),
        (b"", 422, "can't be blank"),
    ],
)  # fmt: skip
async def test_bad_uploads_are_refused_and_leave_nothing(
    node: Node, data: bytes, status: int, needle: str
) -> None:
    resp = await upload(node, data)
    assert resp.status == status
    assert needle in (await resp.json())["error"]
    root = node.client.server.app[MEDIA].files.root  # type: ignore[attr-defined]
    kept = [p for p in root.rglob("*") if p.is_file()]
    assert kept == []


async def test_an_upload_over_the_size_limit_is_a_413(node: Node) -> None:
    service = node.client.server.app[MEDIA]
    service.limits = type(service.limits)(max_image_bytes=50_000)
    resp = await upload(node, photo(1200, 900) + b"\x00" * 60_000)
    assert resp.status == 413 and "over" in (await resp.json())["error"]
    assert [p for p in service.files.root.rglob("*") if p.is_file()] == []


async def test_animated_gif_keeps_its_frames_and_png_its_transparency(node: Node) -> None:
    gif = await (await upload(node, animated_gif(), name="x.gif")).json()
    kept = Image.open(io.BytesIO(await (await fetch(node, gif["url"])).read()))
    assert kept.format == "GIF" and kept.n_frames == 3 and gif["type"] == "image"
    assert "comment" not in kept.info
    png = await (await upload(node, png_bytes(), name="x.png")).json()
    kept_png = Image.open(io.BytesIO(await (await fetch(node, png["url"])).read()))
    assert kept_png.format == "PNG" and kept_png.mode == "RGBA"


async def test_video_is_kept_as_uploaded(node: Node) -> None:
    video = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x11" * 5000
    media = await (await upload(node, video, name="clip.bin")).json()
    assert media["type"] == "video" and media["preview_url"] is None
    served = await fetch(node, media["url"])
    assert served.content_type == "video/mp4" and await served.read() == video


async def test_alt_text_and_focus_round_trip(node: Node) -> None:
    media = await (await upload(node, photo())).json()
    changed = await node.client.put(
        f"/api/v1/media/{media['id']}",
        data={"description": "Two gulls on the harbour wall", "focus": "-0.5,0.25"},
        headers=auth(node.token),
    )
    body = await changed.json()
    assert body["description"] == "Two gulls on the harbour wall"
    assert body["meta"]["focus"] == {"x": -0.5, "y": 0.25}
    for bad in ({"focus": "2,0"}, {"focus": "left"}, {"description": "x" * 1501}):
        refused = await node.client.put(
            f"/api/v1/media/{media['id']}", data=bad, headers=auth(node.token)
        )
        assert refused.status == 422, bad
    missing = await node.client.put(
        "/api/v1/media/999999", data={"description": "x"}, headers=auth(node.token)
    )
    assert missing.status == 404


async def _post(node: Node, **form: Any) -> aiohttp.ClientResponse:
    return await node.client.post("/api/v1/statuses", data=form, headers=auth(node.token))


async def test_attachments_go_out_with_the_post_in_order(node: Node) -> None:
    first = await (await upload(node, photo(), description="first")).json()
    second = await (await upload(node, png_bytes(), description="second")).json()
    resp = await _post(
        node, status="Harbour pictures", sensitive="true",
        **{"media_ids[]": [second["id"], first["id"]]},
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    status = await resp.json()
    assert [m["id"] for m in status["media_attachments"]] == [second["id"], first["id"]]
    assert [m["description"] for m in status["media_attachments"]] == ["second", "first"]
    note = await (await node.get(status["uri"])).json(content_type=None)
    assert note["sensitive"] is True
    docs = note["attachment"]
    assert [d["name"] for d in docs] == ["second", "first"]
    assert docs[1]["mediaType"] == "image/jpeg" and docs[1]["url"] == first["url"]
    assert docs[1]["width"] == 320 and docs[1]["blurhash"] and docs[1]["focalPoint"] == [0.0, 0.0]
    # an upload goes on one post only
    again = await _post(node, status="again", **{"media_ids[]": first["id"]})
    assert again.status == 422 and "no upload" in (await again.json())["error"]
    # an edit names the attachments it keeps
    edited = await node.client.put(
        f"/api/v1/statuses/{status['id']}",
        data={"status": "Harbour picture", "media_ids[]": first["id"]},
        headers=auth(node.token),
    )
    assert [m["id"] for m in (await edited.json())["media_attachments"]] == [first["id"]]
    # media alone is a post
    only = await (await upload(node, photo())).json()
    alone = await _post(node, **{"media_ids[]": only["id"]})
    assert alone.status == 200 and (await alone.json())["content"] == ""


async def test_attachment_rules(node: Node) -> None:
    pictures = [(await (await upload(node, png_bytes((8 + i, 8)))).json())["id"] for i in range(5)]
    video = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"\x22" * 100
    clip = (await (await upload(node, video)).json())["id"]
    too_many = await _post(node, status="x", **{"media_ids[]": pictures})
    assert too_many.status == 422 and "at most 4" in (await too_many.json())["error"]
    mixed = await _post(node, status="x", **{"media_ids[]": [pictures[0], clip]})
    assert (
        mixed.status == 422 and "cannot be attached with anything" in (await mixed.json())["error"]
    )
    twice = await _post(node, status="x", **{"media_ids[]": [pictures[0], pictures[0]]})
    assert twice.status == 422
    with_poll = await _post(
        node, status="x", **{"media_ids[]": pictures[0], "poll[options][]": ["a", "b"],
                             "poll[expires_in]": "600"},
    )  # fmt: skip
    assert with_poll.status == 422


async def _credentials(node: Node, **files: bytes) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field("display_name", "Alice with a face")
    for name, data in files.items():
        form.add_field(name, data, filename=f"{name}.jpg", content_type="image/jpeg")
    return await node.client.patch(
        "/api/v1/accounts/update_credentials", data=form, headers=auth(node.token)
    )


async def test_avatar_and_header_are_cropped_served_and_in_the_actor(node: Node) -> None:
    resp = await _credentials(node, avatar=photo(900, 600), header=photo(3000, 1500))
    assert resp.status == 200, await resp.text()
    me = await resp.json()
    assert me["display_name"] == "Alice with a face"
    assert "/media/" in me["avatar"] and me["avatar"] == me["avatar_static"]
    avatar = Image.open(io.BytesIO(await (await fetch(node, me["avatar"])).read()))
    header = Image.open(io.BytesIO(await (await fetch(node, me["header"])).read()))
    assert avatar.size == (400, 400) and not avatar.getexif()
    assert header.size == (1500, 500)
    actor = await (await node.get(f"{BASE_URL}/users/alice")).json(content_type=None)
    assert actor["icon"] == {"type": "Image", "mediaType": "image/jpeg", "url": me["avatar"]}
    assert actor["image"]["url"] == me["header"]
    # a new avatar takes the old one's place; its file goes
    old = node.client.server.app[MEDIA].files.path_of(me["avatar"].rsplit("/", 1)[-1])
    again = await (await _credentials(node, avatar=photo(500, 500))).json()
    assert again["avatar"] != me["avatar"] and not old.exists()
    gone = await node.client.delete("/api/v1/profile/avatar", headers=auth(node.token))
    assert gone.status == 200 and (await gone.json())["avatar"].endswith("/static/avatar.png")
    refused = await _credentials(node, avatar=b"GIF89a" + b"\x00" * 40)
    assert refused.status == 422
    # an upload that is only an avatar is never swept as unattached
    service = node.client.server.app[MEDIA]
    await remove_unattached(node.db, service, time.time() + 10 * 86400)
    header_file = service.files.path_of(again["header"].rsplit("/", 1)[-1])
    assert header_file is not None and header_file.exists()


async def test_uploads_no_post_took_are_removed_after_a_day(node: Node) -> None:
    kept = await (await upload(node, photo(100, 100))).json()
    await _post(node, status="with it", **{"media_ids[]": kept["id"]})
    orphan = await (await upload(node, photo(120, 90))).json()
    service = node.client.server.app[MEDIA]
    key = orphan["url"].rsplit("/", 1)[-1]
    assert await remove_unattached(node.db, service, time.time()) == 0  # not yet a day
    assert await remove_unattached(node.db, service, time.time() + 86400 + 1) == 1
    assert service.files.path_of(key) is None
    assert (await fetch(node, orphan["url"])).status == 404
    assert (await fetch(node, kept["url"])).status == 200


async def test_v2_answers_202_and_the_upload_is_ready_later(
    node: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora_node.actions import media as media_actions

    monkeypatch.setattr(media_actions, "SYNC_BYTES", 1000)  # this photo counts as large
    resp = await upload(node, photo(640, 480), description="later")
    assert resp.status == 202
    pending = await resp.json()
    assert pending["url"] is None and pending["description"] == "later"
    ready: dict[str, Any] = {}
    for _ in range(100):
        got = await node.client.get(f"/api/v1/media/{pending['id']}", headers=auth(node.token))
        assert got.status in (200, 206)
        if got.status == 200:
            ready = await got.json()
            break
        await asyncio.sleep(0.02)
    assert ready["url"] and ready["meta"]["original"]["width"] == 640
    # v1 always waits
    direct = await upload(node, photo(640, 480), version=1)
    assert direct.status == 200 and (await direct.json())["url"]
    # a large upload that turns out unreadable is a 422 on GET, with the reason
    broken = await upload(node, b"\xff\xd8\xff\xe0" + b"\x01" * 4000)
    assert broken.status == 202
    for _ in range(100):
        got = await node.client.get(
            f"/api/v1/media/{(await broken.json())['id']}", headers=auth(node.token)
        )
        if got.status != 206:
            break
        await asyncio.sleep(0.02)
    assert got.status == 422 and "could not be read" in (await got.json())["error"]


async def test_the_media_of_a_deleted_post_goes(node: Node) -> None:
    media = await (await upload(node, photo(90, 60))).json()
    posted = await (await _post(node, status="soon gone", **{"media_ids[]": media["id"]})).json()
    service = node.client.server.app[MEDIA]
    key = media["url"].rsplit("/", 1)[-1]
    assert await remove_unattached(node.db, service, time.time()) == 0
    deleted = await node.client.delete(f"/api/v1/statuses/{posted['id']}", headers=auth(node.token))
    assert deleted.status == 200
    assert await remove_unattached(node.db, service, time.time()) == 1
    assert service.files.path_of(key) is None and (await fetch(node, media["url"])).status == 404
