"""Pages from templates: escaped by the engine, the stylesheet served, errors as pages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from tests.api.c2s_rig import start_node
from tests.conftest import add_account, make_settings

HTML = {"Accept": "text/html"}
EVIL = '<script>alert("x")</script>'


async def test_instance_name_and_description_are_escaped(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, instance={"name": EVIL, "description": f"about {EVIL}"})
    client = await aiohttp_client(create_app(settings, run_workers=False))
    add_account(client.server.app[DB], settings, "alice")
    resp = await client.get("/")
    text = await resp.text()
    assert resp.status == 200 and resp.content_type == "text/html"
    assert EVIL not in text and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text
    assert "1 person post from agora.test" in text
    assert '<link rel="stylesheet" href="/static/agora.css">' in text


async def test_profile_escapes_the_name_and_keeps_the_sanitised_summary(client, settings) -> None:  # type: ignore[no-untyped-def]
    alice = add_account(client.server.app[DB], settings, "alice")
    await client.server.app[DB].write(
        lambda c: accounts_store.set_account_profile(
            c, alice.id, {"display_name": EVIL, "summary": "<p>I <em>like</em> gardens</p>"}
        )
    )
    text = await (await client.get("/@alice")).text()
    assert EVIL not in text and "&lt;script&gt;" in text
    assert "<p>I <em>like</em> gardens</p>" in text  # stored sanitised, shown as HTML


async def test_note_page_escapes_the_warning_and_shows_the_content(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    node = await start_node(aiohttp_client, tmp_path, [])
    form = {"status": f"hello {EVIL}", "spoiler_text": 'if 5 < 6 & "so" <b>bold</b>'}
    headers = {"Authorization": f"Bearer {node.token}"}
    status = await (await node.client.post("/api/v1/statuses", data=form, headers=headers)).json()
    page = await node.client.get(status["url"].replace("https://agora.test", ""), headers=HTML)
    text = await page.text()
    assert page.status == 200
    assert "<summary>if 5 &lt; 6 &amp; &#34;so&#34; bold <span" in text
    assert "hello &lt;script&gt;" in text  # the content as rendered when posted
    private = {"status": "for followers", "visibility": "private"}
    hidden = await (
        await node.client.post("/api/v1/statuses", data=private, headers=headers)
    ).json()
    path = hidden["url"].replace("https://agora.test", "")
    assert (await node.client.get(path, headers=HTML)).status == 404


async def test_stylesheet_is_served_with_its_type(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/static/agora.css")
    assert resp.status == 200 and resp.content_type == "text/css"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "max-age" in resp.headers["Cache-Control"]
    assert "prefers-color-scheme: dark" in await resp.text()
    assert (await client.get("/static/nothing.css")).status == 404
    assert (await client.get("/static/..%2Fpages.py")).status == 404


@pytest.mark.parametrize("path", ["/no/such/page", "/@nobody"])
async def test_errors_are_pages_for_browsers_and_json_for_apps(client, path: str) -> None:  # type: ignore[no-untyped-def]
    page = await client.get(path, headers=HTML)
    assert page.status == 404 and page.content_type == "text/html"
    assert "<h1>404</h1>" in await page.text()
    data = await client.get(path, headers={"Accept": "application/json"})
    assert data.status == 404 and "error" in await data.json()
