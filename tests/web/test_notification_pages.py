"""Notifications, follow requests, bookmarks and favourites as pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from agora_node.store import client_state
from agora_node.store import notifications as notifications_store
from agora_node.store import relationships as relationships_store
from agora_node.store.timelines import Page
from tests.conftest import add_account
from tests.web.rig import HTML, sign_in, start_site, submit


async def _page(client: Any, path: str) -> str:
    resp = await client.get(path, headers=HTML)
    assert resp.status == 200, await resp.text()
    return await resp.text()


async def _sign_out(client: Any) -> None:
    await submit(client, "/home", "/auth/sign_out", {})


async def test_a_locked_account_approves_and_refuses_follow_requests(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    db = client.server.app[DB]
    carol = add_account(db, settings, "carol", password="correct horse", locked=True)
    assert carol.actor is not None
    for name in ("alice", "bob"):
        await sign_in(client, name)
        resp = await submit(client, "/@carol", "/@carol/follow", {})
        assert resp.status == 303
        await _sign_out(client)

    await sign_in(client, "carol")
    text = await _page(client, "/notifications")
    assert "Follow requests" in text
    ids = dict(re.findall(r'action="/follow_requests/(\d+)/authorize".*?Approve @(\w+)', text))
    assert set(ids.values()) == {"alice", "bob"}
    by_name = {v: k for k, v in ids.items()}
    ok = await submit(
        client, "/notifications", f"/follow_requests/{by_name['alice']}/authorize", {}
    )
    assert ok.status == 303 and ok.headers["Location"] == "/notifications"
    no = await submit(client, "/notifications", f"/follow_requests/{by_name['bob']}/reject", {})
    assert no.status == 303
    # Answering again: nothing is pending any more.
    again = await submit(client, "/notifications", f"/follow_requests/{by_name['bob']}/reject", {})
    assert again.status == 404

    followers = db.read_sync(
        lambda c: relationships_store.actors_listed(c, "followers", carol.actor.uri, Page())
    )
    assert [a.username for _, a in followers] == ["alice"]
    assert "Follow requests" not in await _page(client, "/notifications")


async def test_favourites_and_mentions_notify_and_move_the_read_marker(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    db = client.server.app[DB]
    await sign_in(client, "alice")
    made = await submit(client, "/home", "/statuses", {"status": "Soup's on", "next": "/home"})
    assert made.status == 303
    home = await _page(client, "/home")
    (post_id,) = re.findall(r'id="status-(\d+)"', home)
    await _sign_out(client)

    await sign_in(client, "bob")
    fav = await submit(client, "/home", f"/statuses/{post_id}/favourite", {"next": "/home"})
    assert fav.status == 303
    await submit(client, "/home", "/statuses", {"status": "@alice what kind?", "next": "/home"})
    await _sign_out(client)

    await sign_in(client, "alice")
    text = await _page(client, "/notifications")
    assert "favourited your post" in text and "mentioned you" in text
    assert "what kind?" in text  # the mention's post is shown with it
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice is not None and alice.actor is not None
    (marker,) = db.read_sync(lambda c: client_state.get_markers(c, alice.id, ("notifications",)))
    newest = db.read_sync(
        lambda c: notifications_store.notifications(c, alice.id, alice.actor.uri, Page(limit=1))
    )
    assert marker.last_read_id == newest[0].id


async def test_bookmarks_and_favourites_pages(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    await submit(client, "/home", "/statuses", {"status": "keep this one", "next": "/home"})
    await submit(client, "/home", "/statuses", {"status": "like this one", "next": "/home"})
    ids = dict(
        (text, i)
        for i, text in re.findall(
            r'id="status-(\d+)".*?<p>(keep this one|like this one)</p>',
            await _page(client, "/home"),
            re.S,
        )
    )
    keep, like = ids["keep this one"], ids["like this one"]
    assert (await _page(client, "/bookmarks")).count('class="status') == 0
    for _ in range(2):  # twice: a bookmark is kept once
        resp = await submit(client, "/home", f"/statuses/{keep}/bookmark", {"next": "/bookmarks"})
        assert resp.status == 303 and resp.headers["Location"] == "/bookmarks"
    await submit(client, "/home", f"/statuses/{like}/favourite", {"next": "/home"})
    marks = await _page(client, "/bookmarks")
    assert marks.count('class="status') == 1 and "keep this one" in marks
    assert 'aria-pressed="true">Bookmark' in marks
    faves = await _page(client, "/favourites")
    assert "like this one" in faves and "keep this one" not in faves
    await submit(client, "/home", f"/statuses/{keep}/unbookmark", {"next": "/home"})
    assert "keep this one" not in await _page(client, "/bookmarks")
    bogus = await submit(client, "/home", f"/statuses/{keep}/hoard", {"next": "/home"})
    assert bogus.status == 404
    await _sign_out(client)
    anonymous = await client.get("/bookmarks", headers=HTML, allow_redirects=False)
    assert anonymous.status == 303 and "/auth/sign_in" in anonymous.headers["Location"]
