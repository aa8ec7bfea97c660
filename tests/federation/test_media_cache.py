"""The cache of remote media: copies fetched when first shown, over real HTTP
from a server on loopback, type-checked, limited, pruned."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from agora_node.app import create_app
from agora_node.cli import main as cli_main
from agora_node.config import load_settings
from agora_node.context import DB
from agora_node.federation.media_cache import REMOTE_MEDIA
from agora_node.store import accounts as accounts_store
from agora_node.store import media_cache as cache_store
from tests.api.test_media import photo
from tests.conftest import add_account
from tests.store.test_timelines import post

BIG = b"\xff\xd8\xff" + b"\x00" * 300_000


@pytest.fixture
async def remote() -> AsyncIterator[TestServer]:
    """Another server's files: a photo, an avatar, a page pretending, a huge file."""
    files = {
        "/boat.jpg": (photo(300, 200), "image/jpeg"),
        "/face.jpg": (photo(64, 64), "image/jpeg"),
        "/trick.jpg": (b"<html><script>alert(1)</script></html>", "image/jpeg"),
        "/big.jpg": (BIG, "image/jpeg"),
    }

    async def serve(request: web.Request) -> web.Response:
        body, kind = files[request.path]
        return web.Response(body=body, content_type=kind)

    app = web.Application()
    for path in files:
        app.router.add_get(path, serve)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


async def _node(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remote: TestServer, cache_bytes: int = 0
) -> Any:
    """A node from a config file (the command line reads the same one)."""
    config = tmp_path / "agora.toml"
    config.write_text(
        "[instance]\n"
        'domain = "agora.test"\nbase_url = "https://agora.test"\nname = "Test Agora"\n'
        "[database]\n"
        f'path = "{tmp_path / "agora.db"}"\n'
        "[federation]\n"
        'allowed_networks = ["127.0.0.0/8"]\n'
        f'plain_http_hosts = ["127.0.0.1:{remote.port}"]\n'
        "[media]\n"
        "remote_max_bytes = 200000\n"
        + (f"remote_cache_bytes = {cache_bytes}\n" if cache_bytes else ""),
        encoding="utf-8",
    )
    settings = load_settings(config)
    return await aiohttp_client(create_app(settings)), settings


def _remote_post(client: Any, base: str, names: list[str]) -> int:
    def write(c: Any) -> int:
        from tests.store.test_timelines import remote_actor

        actor = remote_actor(c, "eve", "far.example")
        c.execute("UPDATE actors SET avatar_url = ? WHERE uri = ?", [f"{base}/face.jpg", actor])
        attachments = [
            {"type": "Document", "mediaType": "image/jpeg", "url": f"{base}{n}", "name": n}
            for n in names
        ]
        return post(c, actor, data={"attachments": attachments})

    return int(client.server.app[DB].write_sync(write))


async def _status(client: Any, object_id: int) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/statuses/{object_id}")
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def _settled(client: Any, urls: list[str]) -> None:
    for _ in range(200):
        known = client.server.app[DB].read_sync(lambda c: cache_store.cached_among(c, urls))
        if len(known) == len(urls):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the cache did not fetch in time: {known}")


async def test_remote_media_is_copied_when_first_shown(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remote: TestServer
) -> None:
    client, _ = await _node(aiohttp_client, tmp_path, remote)
    base = f"http://127.0.0.1:{remote.port}"
    object_id = _remote_post(client, base, ["/boat.jpg", "/trick.jpg", "/big.jpg"])
    first = await _status(client, object_id)
    urls = [m["url"] for m in first["media_attachments"]]
    assert urls == [f"{base}/boat.jpg", f"{base}/trick.jpg", f"{base}/big.jpg"]
    await _settled(client, [*urls, f"{base}/face.jpg"])
    again = await _status(client, object_id)
    boat, trick, big = again["media_attachments"]
    assert boat["url"].startswith("https://agora.test/media/")
    assert boat["remote_url"] == f"{base}/boat.jpg" and boat["preview_url"] == boat["url"]
    assert trick["url"] == f"{base}/trick.jpg"  # not a picture: never kept
    assert big["url"] == f"{base}/big.jpg"  # over media.remote_max_bytes
    assert "/media/" in again["account"]["avatar"]
    served = await client.get("/media/" + boat["url"].rsplit("/media/", 1)[1])
    assert served.status == 200 and await served.read() == photo(300, 200)
    failed = client.server.app[DB].read_sync(
        lambda c: c.execute("SELECT url, error FROM media_cache WHERE state = 'failed' "
                            "ORDER BY url").fetchall()
    )  # fmt: skip
    assert [u for u, _ in failed] == [f"{base}/big.jpg", f"{base}/trick.jpg"]
    assert "too large" in failed[0][1] and "not an image" in failed[1][1]


async def test_the_cache_keeps_to_its_size_and_prune_trims_it(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remote: TestServer, capsys: Any
) -> None:
    boat, face = len(photo(300, 200)), len(photo(64, 64))
    client, settings = await _node(aiohttp_client, tmp_path, remote, boat + face // 2)
    base = f"http://127.0.0.1:{remote.port}"
    cache = client.server.app[REMOTE_MEDIA]
    db = client.server.app[DB]
    assert await cache.fetch_one(f"{base}/face.jpg")
    assert await cache.fetch_one(f"{base}/boat.jpg")
    files, held = db.read_sync(cache_store.cache_size)
    assert held <= boat + face // 2 and files == 1  # the older copy went to make room
    known = db.read_sync(lambda c: cache_store.cached_among(c, [f"{base}/boat.jpg"]))
    assert known[f"{base}/boat.jpg"]
    # the command line: usage, then everything older than 0 days goes
    code = await asyncio.to_thread(cli_main, ["--config", settings.source, "media", "usage"])
    assert code == 0 and "remote media cache: 1 files" in capsys.readouterr().out
    code = await asyncio.to_thread(
        cli_main, ["--config", settings.source, "media", "prune", "--older-than", "0"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "dropped 1 cached files" in out and "0 left" in out
    assert db.read_sync(cache_store.cache_size) == (0, 0)
    assert (
        await asyncio.to_thread(
            cli_main, ["--config", settings.source, "media", "prune", "--older-than", "-1"]
        )
        == 2
    )


async def test_a_file_shared_by_an_upload_and_a_cached_copy_stays_while_either_needs_it(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remote: TestServer
) -> None:
    from agora_node.actions.media import MEDIA
    from agora_node.store import media as media_store

    client, settings = await _node(aiohttp_client, tmp_path, remote)
    base = f"http://127.0.0.1:{remote.port}"
    key = await client.server.app[REMOTE_MEDIA].fetch_one(f"{base}/boat.jpg")
    assert key
    db = client.server.app[DB]
    files = client.server.app[MEDIA].files
    add_account(db, settings, "alice")
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice is not None

    def fake_upload(c: Any) -> list[str]:  # an upload of the very same bytes, then deleted
        media_id = media_store.insert_media(
            c, media_store.NewMedia(alice.id, "image", "image/jpeg", "", 0.0, 0.0, 0.0)
        )
        media_store.mark_ready(c, media_id, media_store.StoredFiles("image", "image/jpeg", key, 1))
        return media_store.delete_media(c, media_id)

    assert db.write_sync(fake_upload) == []  # the cache still names the file
    assert files.path_of(key) is not None
