"""Posting, reading and acting on posts through the pages, as a signed-in person."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from agora_node.actions.media import MEDIA
from agora_node.app import create_app
from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from agora_node.store import relationships as relationships_store
from tests.api.test_media import photo, png_bytes
from tests.conftest import add_account, make_settings
from tests.web.rig import HTML, PASSWORD, csrf_in, sign_in, start_site, submit, token_on


async def _post(client: Any, **fields: str) -> None:
    resp = await submit(client, "/home", "/statuses", {"next": "/home", **fields})
    assert resp.status == 303, await resp.text()


def _ids(text: str) -> list[str]:
    return re.findall(r'<article class="status[^"]*" id="status-(\d+)"', text)


async def test_a_post_with_a_content_warning_reaches_the_local_timeline(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await _post(client, status="Tomatoes <b>ripe</b> today", spoiler_text="garden talk")
    local = await (await client.get("/public/local", headers=HTML)).text()
    assert "<summary>garden talk <span" in local
    assert "Tomatoes &lt;b&gt;ripe&lt;/b&gt; today" in local  # what was typed, escaped
    client.session.cookie_jar.clear()  # anonymous visitors see it too
    front = await (await client.get("/", headers=HTML)).text()
    assert "garden talk" in front and "Tomatoes" in front


async def test_visibility_is_kept_from_those_who_may_not_see(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await _post(client, status="only my followers", visibility="private")
    own = await (await client.get("/home", headers=HTML)).text()
    assert "only my followers" in own and "Followers only" in own
    (post_id,) = _ids(own)
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "bob")
    assert (await client.get(f"/statuses/{post_id}", headers=HTML)).status == 404
    assert "only my followers" not in await (await client.get("/@alice", headers=HTML)).text()
    bad = await submit(client, "/home", "/statuses", {"status": "x", "visibility": "everyone"})
    assert bad.status == 422 and "visibility must be one of" in await bad.text()
    empty = await submit(client, "/home", "/statuses", {"status": "  "})
    assert empty.status == 422


async def test_favourite_boost_reply_edit_and_delete(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await _post(client, status="first post")
    (post_id,) = _ids(await (await client.get("/home", headers=HTML)).text())
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "bob")
    thread = f"/statuses/{post_id}"
    for kind in ("favourite", "favourite", "reblog"):  # a second favourite changes nothing
        resp = await submit(client, thread, f"{thread}/{kind}", {"next": thread})
        assert resp.status == 303 and resp.headers["Location"] == thread
    page = await (await client.get(thread, headers=HTML)).text()
    assert 'aria-pressed="true">Favourite <span>1</span>' in page
    assert 'aria-pressed="true">Boost <span>1</span>' in page
    assert "@alice " in page  # the reply form starts with the author's handle
    await submit(client, thread, "/statuses", {"status": "@alice nice", "in_reply_to_id": post_id})
    page = await (await client.get(thread, headers=HTML)).text()
    assert "Replies" in page and "nice" in page and "Reply <span>1</span>" in page
    unfav = await submit(client, thread, f"{thread}/unfavourite", {"next": thread})
    assert unfav.status == 303
    assert "Favourite <span>0</span>" in await (await client.get(thread, headers=HTML)).text()
    # Someone else's post cannot be edited or deleted.
    assert (await client.get(f"{thread}/edit", headers=HTML)).status == 404
    assert (await submit(client, thread, f"{thread}/delete", {})).status == 404
    await submit(client, thread, "/auth/sign_out", {})
    await sign_in(client, "alice")
    edit_page = await (await client.get(f"{thread}/edit", headers=HTML)).text()
    assert ">first post</textarea>" in edit_page
    edited = await submit(client, f"{thread}/edit", f"{thread}/edit", {"status": "first, edited"})
    assert edited.status == 303
    page = await (await client.get(thread, headers=HTML)).text()
    assert "first, edited" in page and "· edited" in page
    gone = await submit(client, thread, f"{thread}/delete", {"next": thread})
    assert gone.status == 303 and gone.headers["Location"] == "/home"
    assert (await client.get(thread, headers=HTML)).status == 404
    assert (await client.post(f"{thread}/shout", headers=HTML)).status == 404


async def test_follow_mute_and_block_from_a_profile(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "bob")
    await _post(client, status="bob was here")
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "alice")
    profile = await (await client.get("/@bob", headers=HTML)).text()
    assert ">Follow</button>" in profile and "bob was here" in profile
    resp = await submit(client, "/@bob", "/@bob/follow", {})
    assert resp.status == 303 and resp.headers["Location"] == "/@bob"
    db = client.server.app[DB]

    def standing() -> Any:
        alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
        bob = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "bob"))
        assert alice and alice.actor and bob and bob.actor
        me, them = alice.actor.uri, bob.actor.uri
        return db.read_sync(lambda c: relationships_store.standings(c, me, [them]))[them]

    assert standing().following
    home = await (await client.get("/home", headers=HTML)).text()
    assert "bob was here" in home
    profile = await (await client.get("/@bob", headers=HTML)).text()
    assert ">Unfollow</button>" in profile and ">Mute</button>" in profile
    await submit(client, "/@bob", "/@bob/mute", {})
    assert standing().muting
    assert "bob was here" not in await (await client.get("/home", headers=HTML)).text()
    await submit(client, "/@bob", "/@bob/unmute", {})
    await submit(client, "/@bob", "/@bob/block", {})
    assert standing().blocking and not standing().following
    assert ">Unblock</button>" in await (await client.get("/@bob", headers=HTML)).text()
    followers = await (await client.get("/@alice/followers", headers=HTML)).text()
    assert "Nobody yet." in followers
    assert (await client.get("/@nobody", headers=HTML)).status == 404
    assert (await submit(client, "/@bob", "/@bob/poke", {})).status == 404


async def test_search_finds_people_here(aiohttp_client: Callable[..., Any], tmp_path: Path) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    page = await (await client.get("/search?q=bo", headers=HTML)).text()
    assert 'href="/@bob"' in page and "Sign in to look people and posts up" in page
    long = await client.get("/search?q=" + "x" * 600, headers=HTML)
    assert long.status == 400


async def test_authorize_page_uses_the_signed_in_session(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    app = await (
        await client.post(
            "/api/v1/apps",
            data={"client_name": "web test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"},
        )
    ).json()
    query = (
        f"/oauth/authorize?response_type=code&client_id={app['client_id']}"
        "&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
    )
    await sign_in(client, "alice")
    page = await (await client.get(query, headers=HTML)).text()
    assert "You are signed in as <strong>@alice</strong>" in page and 'name="password"' not in page
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    forged = {**hidden, "csrf": "nope", "decision": "approve"}
    assert (await client.post("/oauth/authorize", data=forged, headers=HTML)).status == 403
    shown = await client.post(
        "/oauth/authorize", data={**hidden, "decision": "approve"}, headers=HTML
    )
    assert shown.status == 200 and re.search(r"<code>[^<]+</code>", await shown.text())
    fresh = await (await client.get(query + "&force_login=true", headers=HTML)).text()
    assert 'name="password"' in fresh


async def test_timelines_page_by_max_id_and_limit(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    token = await token_on(client, "/home")
    for i in range(25):
        resp = await client.post(
            "/statuses",
            data={"csrf": token, "status": f"post number {i}", "next": "/home"},
            headers=HTML,
            allow_redirects=False,
        )
        assert resp.status == 303, await resp.text()
    first = await (await client.get("/public/local", headers=HTML)).text()
    assert len(_ids(first)) == 20
    older = re.search(r'<a rel="next" href="([^"]+)">Older posts</a>', first)
    assert older is not None
    rest = await (await client.get(older.group(1).replace("&amp;", "&"), headers=HTML)).text()
    assert len(_ids(rest)) == 5 and not set(_ids(rest)) & set(_ids(first))
    assert 'rel="next"' not in rest  # the last page
    whole = await (await client.get("/home?limit=40", headers=HTML)).text()
    assert len(_ids(whole)) == 25 and 'rel="next"' not in whole
    few = await (await client.get("/home?limit=3", headers=HTML)).text()
    assert len(_ids(few)) == 3 and "limit=3" in few  # the next page keeps the size
    for bad in ("0", "41", "ten", "-1"):
        resp = await client.get(f"/home?limit={bad}", headers=HTML)
        assert resp.status == 400, bad
        assert "limit must be a number from 1 to 40" in await resp.text()


async def _compose_with_files(
    client: Any, token: str, fields: dict[str, str], files: dict[str, bytes]
) -> Any:
    data = aiohttp.FormData()
    data.add_field("csrf", token)
    for name, value in fields.items():
        data.add_field(name, value)
    for name, content in files.items():
        data.add_field(name, content, filename=f"{name}.jpg", content_type="image/jpeg")
    return await client.post("/statuses", data=data, headers=HTML, allow_redirects=False)


def _stored_files(client: Any) -> list[Path]:
    root = client.server.app[MEDIA].files.root
    return [p for p in root.rglob("*") if p.is_file()]


async def test_a_post_with_pictures_and_alt_text_from_the_compose_form(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    home = await (await client.get("/home", headers=HTML)).text()
    assert 'enctype="multipart/form-data"' in home and 'name="media_0"' in home
    token = csrf_in(home)
    resp = await _compose_with_files(
        client, token,
        {"status": "Gulls", "alt_0": "Two gulls on a wall", "sensitive": "1", "next": "/home"},
        {"media_0": photo(), "media_2": png_bytes()},
    )  # fmt: skip
    assert resp.status == 303, await resp.text()
    page = await (await client.get("/home", headers=HTML)).text()
    assert 'alt="Two gulls on a wall"' in page and "<summary>Sensitive media" in page
    assert '<figcaption class="muted" aria-hidden="true">Two gulls on a wall</figcaption>' in page
    assert page.count("<figure>") == 2
    # two pictures; each small enough to be its own preview (the same bytes, one file)
    assert len(_stored_files(client)) == 2
    # a picture alone is a post
    alone = await _compose_with_files(client, token, {"next": "/home"}, {"media_0": photo(64, 64)})
    assert alone.status == 303
    # a bad file refuses the post and keeps nothing of it
    before = _stored_files(client)
    bad = await _compose_with_files(
        client, token, {"status": "x", "next": "/home"},
        {"media_0": photo(32, 32), "media_1": b"not a picture at all"},
    )  # fmt: skip
    assert bad.status == 422 and "not an image" in await bad.text()
    assert _stored_files(client) == before
    # without the form's token nothing is read into a file
    forged = await _compose_with_files(client, "wrong", {"status": "x"}, {"media_0": photo()})
    assert forged.status == 403 and _stored_files(client) == before


async def test_the_server_can_ask_for_alt_text_everywhere(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, instance={"base_url": "http://agora.test"}, media={"require_alt_text": True}
    )
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice", password=PASSWORD)
    await sign_in(client, "alice")
    home = await (await client.get("/home", headers=HTML)).text()
    assert "alt text, needed here" in home
    refused = await _compose_with_files(
        client, csrf_in(home), {"status": "x", "next": "/home"}, {"media_0": photo()}
    )
    assert refused.status == 422 and "describe every image" in await refused.text()
    assert _stored_files(client) == []
    described = await _compose_with_files(
        client, csrf_in(home), {"status": "x", "alt_0": "a blue sky", "next": "/home"},
        {"media_0": photo()},
    )  # fmt: skip
    assert described.status == 303
