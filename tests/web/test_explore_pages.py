"""Explore, hashtag pages with follow, and the directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.web.rig import HTML, sign_in, start_site, submit


async def test_hashtag_page_follow_explore_and_directory(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await submit(client, "/home", "/statuses", {"status": "Market day #Harvest", "next": "/home"})
    tag = await client.get("/tags/harvest", headers=HTML)
    text = await tag.text()
    assert tag.status == 200 and "Market day" in text and "Follow #harvest" in text
    followed = await submit(client, "/tags/harvest", "/tags/harvest/follow", {})
    assert followed.status == 303 and followed.headers["Location"] == "/tags/harvest"
    assert "Unfollow #harvest" in await (await client.get("/tags/harvest", headers=HTML)).text()
    assert (await submit(client, "/tags/harvest", "/tags/harvest/hoard", {})).status == 404
    assert (await client.get("/tags/12345", headers=HTML)).status == 404
    explore = await client.get("/explore", headers=HTML)
    body = await explore.text()
    assert explore.status == 200 and "#harvest</a>" in body and "1 post by 1 person" in body
    people = await (await client.get("/directory", headers=HTML)).text()
    assert "@alice" in people
