"""Suspending and silencing a local account: who still sees its posts, and what
its followers' servers are told."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from agora_node.store import filters as filters_store
from agora_node.store import social as social_store
from tests.conftest import add_account
from tests.store.test_timelines import post, remote_actor
from tests.web.rig import HTML, PASSWORD, sign_in, start_site, submit

AS_JSON = {"Accept": "application/activity+json"}


async def _as(client: TestClient[Any, Any], name: str) -> None:
    client.session.cookie_jar.clear()
    await sign_in(client, name)


async def _ids(client: TestClient[Any, Any], path: str) -> list[str]:
    resp = await client.get(path, headers=HTML)
    assert resp.status == 200, (path, resp.status)
    return re.findall(r'<article class="status[^"]*" id="status-(\d+)"', await resp.text())


async def _site(aiohttp_client: Callable[..., Any], tmp_path: Path) -> tuple[Any, str]:
    """alice posts (#harbour); bob follows her, carol does not; mayor is the admin;
    a remote server follows alice too."""
    client, settings = await start_site(aiohttp_client, tmp_path)
    db = client.server.app[DB]
    for name, admin in (("carol", False), ("mayor", True)):
        add_account(db, settings, name, password=PASSWORD, is_admin=admin)
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice and alice.actor
    fan = "https://far.example/users/fan"

    def remote_follow(c: Any) -> None:
        remote_actor(c, "fan", "far.example")
        social_store.put_follow(c, fan, alice.actor.uri, f"{fan}#follow", "accepted", 1.0)

    db.write_sync(remote_follow)
    await _as(client, "bob")
    await submit(client, "/@alice", "/@alice/follow", {})
    await _as(client, "alice")
    posted = await submit(
        client, "/home", "/statuses", {"status": "Boats at the #harbour", "next": "/home"}
    )
    assert posted.status == 303
    (post_id,) = await _ids(client, "/home")
    return client, post_id


async def _queued_updates(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    rows = client.server.app[DB].read_sync(
        lambda c: c.execute(
            "SELECT a.data FROM deliveries d JOIN activities a ON a.uri = d.activity_uri "
            "WHERE d.inbox LIKE 'https://far.example/%' ORDER BY d.id"
        ).fetchall()
    )
    return [json.loads(r[0]) for r in rows if json.loads(r[0])["type"] == "Update"]


async def test_a_suspended_accounts_posts_are_seen_by_nobody_until_it_is_lifted(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, post_id = await _site(aiohttp_client, tmp_path)
    await _as(client, "bob")
    assert post_id in await _ids(client, "/home")
    note_uri = (await (await client.get(f"/api/v1/statuses/{post_id}")).json())["uri"]
    note_path = note_uri.removeprefix("http://agora.test")
    assert (await client.get(note_path, headers=AS_JSON)).status == 200
    await _as(client, "mayor")
    done = await submit(client, "/admin/accounts", "/admin/accounts/alice/suspend", {})
    assert done.status == 303
    for viewer in ("bob", "carol", "mayor"):
        await _as(client, viewer)
        for path in ("/home", "/public/local", "/public", "/tags/harbour"):
            assert post_id not in await _ids(client, path), (viewer, path)
        assert (await client.get(f"/api/v1/statuses/{post_id}")).status in (401, 404)
    client.session.cookie_jar.clear()
    assert post_id not in await _ids(client, "/public/local")
    actor = await (await client.get("/users/alice", headers=AS_JSON)).json(content_type=None)
    assert actor["suspended"] is True and actor["name"] == "" and actor["summary"] == ""
    assert "publicKey" in actor and "toot:suspended" in json.dumps(actor["@context"])
    (update,) = await _queued_updates(client)
    assert update["object"]["suspended"] is True
    assert (await client.get(note_path, headers=AS_JSON)).status == 404

    await _as(client, "mayor")
    lifted = await submit(client, "/admin/accounts", "/admin/accounts/alice/unsuspend", {})
    assert lifted.status == 303
    await _as(client, "bob")
    assert post_id in await _ids(client, "/home")
    assert post_id in await _ids(client, "/public/local")
    actor = await (await client.get("/users/alice", headers=AS_JSON)).json(content_type=None)
    assert "suspended" not in actor and actor["name"] == "alice"
    assert (await client.get(note_path, headers=AS_JSON)).status == 200
    updates = await _queued_updates(client)
    assert len(updates) == 2 and "suspended" not in updates[1]["object"]


async def test_a_silenced_accounts_posts_leave_public_listings_but_not_its_followers(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, post_id = await _site(aiohttp_client, tmp_path)
    await _as(client, "mayor")
    done = await submit(client, "/admin/accounts", "/admin/accounts/alice/silence", {})
    assert done.status == 303
    listing = await (await client.get("/admin/accounts", headers=HTML)).text()
    assert re.search(r'id="account-alice".*?silenced', listing, re.S)
    found = await (await client.get("/api/v1/accounts/lookup?acct=alice")).json()
    assert found["limited"] is True and "suspended" not in found
    await _as(client, "carol")  # follows nobody
    for path in ("/public/local", "/public", "/tags/harbour"):
        assert post_id not in await _ids(client, path), path
    assert post_id in await _ids(client, "/@alice")  # her own page still shows it
    assert (await client.get(f"/statuses/{post_id}", headers=HTML)).status == 200
    client.session.cookie_jar.clear()
    assert post_id not in await _ids(client, "/public/local")
    await _as(client, "bob")  # a follower sees her everywhere
    for path in ("/home", "/public/local", "/tags/harbour"):
        assert post_id in await _ids(client, path), path
    await _as(client, "alice")  # and she sees herself
    assert post_id in await _ids(client, "/public/local")
    assert await _queued_updates(client) == []  # a silence is this server's own
    await _as(client, "mayor")
    await submit(client, "/admin/accounts", "/admin/accounts/alice/unsilence", {})
    await _as(client, "carol")
    assert post_id in await _ids(client, "/public/local")


async def test_filters_cover_or_remove_posts_and_a_resolved_report_is_told(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    db = client.server.app[DB]
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice is not None and alice.actor is not None
    eve = db.write_sync(lambda c: remote_actor(c, "eve", "far.example"))
    db.write_sync(lambda c: social_store.put_follow(c, alice.actor.uri, eve, None, "accepted", 1))
    db.write_sync(lambda c: post(c, eve, content="<p>the ending has spoilers</p>"))
    db.write_sync(lambda c: post(c, eve, content="<p>my cats again</p>"))

    def filters(c: Any) -> None:
        for title, word, action in (("Spoilers", "spoilers", "hide"), ("Cats", "cats", "warn")):
            made = filters_store.add_filter(
                c, alice.id, title=title, contexts=["home"], action=action, expires_at=None,
                now=1.0,
            )  # fmt: skip
            filters_store.add_keyword(c, made, word, True)

    db.write_sync(filters)
    await sign_in(client, "alice")
    home = await (await client.get("/home", headers=HTML)).text()
    assert "the ending has spoilers" not in home
    covered = re.search(r'<details class="filtered"><summary>Filtered: Cats .*?</details>', home,
                        re.S)  # fmt: skip
    assert covered is not None and "my cats again" in covered.group(0)
    # A report alice filed, resolved: her notifications say so.
    db.write_sync(
        lambda c: social_store.add_notification(
            c, alice.id, "report_resolved", alice.actor.uri, None, "https://agora.test/r/1", 2.0
        )
    )
    notes = await (await client.get("/notifications", headers=HTML)).text()
    assert "closed your report" in notes
