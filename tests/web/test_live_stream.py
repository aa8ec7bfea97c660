"""The pages' own stream: a signed-in page listens to its home timeline over
SSE with its session cookie; nothing else may use that cookie to listen."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.web.rig import HTML, sign_in, start_site, submit

WAIT = 5.0


async def _first_update(sse: aiohttp.ClientResponse) -> dict[str, Any]:
    lines: list[str] = []
    async with asyncio.timeout(WAIT):
        while not (lines and lines[-1].startswith("data: ") and "event: update" in lines):
            lines.append((await sse.content.readline()).decode().strip())
    return dict(json.loads(lines[-1][6:]))


async def test_a_signed_in_page_hears_its_home_timeline(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await submit(client, "/@bob", "/@bob/follow", {})
    home = await (await client.get("/home", headers=HTML)).text()
    assert 'data-stream="user"' in home
    assert "data-stream" not in await (await client.get("/home?max_id=1", headers=HTML)).text()
    bob = TestClient(client.server)  # another browser
    await sign_in(bob, "bob")
    async with client.get(
        "/api/v1/streaming/user", headers={"Sec-Fetch-Site": "same-origin"}
    ) as sse:
        assert sse.status == 200 and sse.content_type == "text/event-stream"
        await asyncio.sleep(0.2)
        posted = await submit(
            bob, "/home", "/statuses", {"status": "fresh loaves", "next": "/home"}
        )
        assert posted.status == 303
        update = await _first_update(sse)
        assert "fresh loaves" in update["content"] and update["account"]["username"] == "bob"
    await bob.session.close()


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_another_site_cannot_listen_with_the_cookie(
    aiohttp_client: Callable[..., Any], tmp_path: Path, site: str
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    refused = await client.get("/api/v1/streaming/user", headers={"Sec-Fetch-Site": site})
    assert refused.status == 401


async def test_a_websocket_never_takes_the_cookie(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/streaming?stream=user")
    assert refused.value.status == 401


async def test_public_pages_name_their_streams(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    for path, stream in [
        ("/public/local", "public/local"),
        ("/public", "public"),
        ("/tags/Harbour", "hashtag?tag=harbour"),
    ]:
        page = await (await client.get(path, headers=HTML)).text()
        assert f'data-stream="{stream}"' in page, path
