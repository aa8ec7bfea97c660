"""Account settings pages: authorised apps, export and import, moving, deletion."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from agora_node.actions.media import MEDIA, remove_unattached
from agora_node.context import DB
from agora_node.store import accounts as accounts_store
from agora_node.store import social as social_store
from tests.api.test_media import photo
from tests.conftest import add_account
from tests.web.rig import HTML, PASSWORD, sign_in, start_site, submit, token_on


async def _app_token(client: TestClient[Any, Any], name: str) -> str:
    app = await (
        await client.post(
            "/api/v1/apps",
            json={
                "client_name": name,
                "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                "scopes": "read write",
            },
        )
    ).json()
    got = await client.post(
        "/oauth/token",
        data={
            "grant_type": "password", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "username": "alice", "password": PASSWORD,
            "scope": "read write",
        },
    )  # fmt: skip
    assert got.status == 200, await got.text()
    return str((await got.json())["access_token"])


async def test_authorised_apps_are_listed_and_revoked(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    token = await _app_token(client, "Pocket Toot")
    other = await _app_token(client, "Desk Client")
    await sign_in(client, "alice")
    listed = await (await client.get("/settings/apps", headers=HTML)).text()
    assert "Pocket Toot" in listed and "Desk Client" in listed and "read, write" in listed
    (pocket,) = re.findall(r'name="app" value="(\d+)"', listed.split("Desk Client")[0])
    me = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=me)).status == 200
    resp = await submit(client, "/settings/apps", "/settings/apps/revoke", {"app": pocket})
    assert resp.status == 303
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=me)).status == 401
    still = {"Authorization": f"Bearer {other}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=still)).status == 200
    after = await (await client.get("/settings/apps?revoked=1", headers=HTML)).text()
    assert "Pocket Toot" not in after and "Desk Client" in after
    assert (
        await submit(client, "/settings/apps", "/settings/apps/revoke", {"app": pocket})
    ).status == 404
    bad = await submit(client, "/settings/apps", "/settings/apps/revoke", {"app": "x1"})
    assert bad.status == 400


async def test_exports_list_each_relation_as_mastodon_writes_it(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    add_account(client.server.app[DB], settings, "carol", password=PASSWORD)
    await sign_in(client, "bob")
    await submit(client, "/@alice", "/@alice/follow", {})
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "alice")
    await submit(client, "/@bob", "/@bob/follow", {})
    await submit(client, "/@carol", "/@carol/mute", {})
    page = await (await client.get("/settings/data", headers=HTML)).text()
    assert 'href="/settings/export/following_accounts.csv"' in page
    host = settings.domain

    async def exported(name: str) -> str:
        resp = await client.get(f"/settings/export/{name}")
        assert resp.status == 200 and resp.content_type == "text/csv"
        assert resp.headers["Content-Disposition"] == f'attachment; filename="{name}"'
        return await resp.text()

    assert await exported("following_accounts.csv") == (
        f"Account address,Show boosts,Notify on new posts,Languages\nbob@{host},true,false,\n"
    )
    assert await exported("followers.csv") == f"Account address\nbob@{host}\n"
    assert await exported("muted_accounts.csv") == (
        f"Account address,Hide notifications\ncarol@{host},true\n"
    )
    await submit(client, "/@carol", "/@carol/block", {})
    assert await exported("blocked_accounts.csv") == f"carol@{host}\n"
    assert (await client.get("/settings/export/passwords.csv")).status == 404
    client.session.cookie_jar.clear()
    anonymous = await client.get(
        "/settings/export/followers.csv", headers=HTML, allow_redirects=False
    )
    assert anonymous.status == 303  # to the sign-in page


async def _upload(client: TestClient[Any, Any], text: str) -> aiohttp.ClientResponse:
    token = await token_on(client, "/settings/data")
    data = aiohttp.FormData()
    data.add_field("csrf", token)
    data.add_field(
        "file", text.encode(), filename="following_accounts.csv", content_type="text/csv"
    )
    return await client.post("/settings/import", data=data, headers=HTML, allow_redirects=False)


async def test_a_follows_file_is_imported_with_progress_and_reasons(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    add_account(client.server.app[DB], settings, "carol", password=PASSWORD)
    await sign_in(client, "alice")
    host = settings.domain
    bad = await _upload(client, "bob@" + host + "\nnonsense\n")
    assert (
        bad.status == 422
        and "line 2: &#39;nonsense&#39; is not an account address" in await bad.text()
    )
    resp = await _upload(
        client,
        "Account address,Show boosts,Notify on new posts,Languages\n"
        f"bob@{host},false,true,\ncarol@{host},true,false,\nghost@{host},true,false,\n",
    )
    assert resp.status == 303 and resp.headers["Location"] == "/settings/data"
    page = ""
    for _ in range(100):
        page = await (await client.get("/settings/data", headers=HTML)).text()
        if "finished" in page:
            break
        assert "in progress" in page and 'data-refresh="3"' in page
        await asyncio.sleep(0.05)
    assert "3 of 3 handled: 2 followed, 1 failed" in page
    assert f"ghost@{host}: " in page and "data-refresh" not in page
    db = client.server.app[DB]
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice and alice.actor
    bob_follow = db.read_sync(
        lambda c: social_store.get_follow(c, alice.actor.uri, settings.base_url + "/users/bob")
    )
    assert bob_follow is not None and bob_follow.state == "accepted"
    exported = await (await client.get("/settings/export/following_accounts.csv")).text()
    assert f"bob@{host},false,true," in exported and f"carol@{host},true,false," in exported
    # importing the same file again follows nobody twice
    again = await _upload(client, f"bob@{host}\n")
    assert again.status == 303
    for _ in range(100):
        page = await (await client.get("/settings/data", headers=HTML)).text()
        if "in progress" not in page:
            break
        await asyncio.sleep(0.05)
    assert "1 of 1 handled: 1 followed, 0 failed" in page
    assert exported == await (await client.get("/settings/export/following_accounts.csv")).text()


async def test_aliases_and_a_move_to_another_local_account(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path)
    host = settings.domain
    await sign_in(client, "bob")
    as_json = {"Accept": "application/activity+json"}
    before = await (await client.get("/users/bob", headers=as_json)).json(content_type=None)
    assert "alsoKnownAs" not in before  # and the rendered document is now cached
    added = await submit(
        client, "/settings/migration", "/settings/aliases/add", {"address": f"alice@{host}"}
    )
    assert added.status == 303
    page = await (await client.get("/settings/migration", headers=HTML)).text()
    assert f'href="{settings.base_url}/users/alice"' in page
    after = await (await client.get("/users/bob", headers=as_json)).json(content_type=None)
    assert after["alsoKnownAs"] == [f"{settings.base_url}/users/alice"]
    own = await submit(
        client, "/settings/migration", "/settings/aliases/add", {"address": f"bob@{host}"}
    )
    assert own.status == 422 and "cannot be its own alias" in await own.text()
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "alice")
    wrong = await submit(
        client,
        "/settings/migration",
        "/settings/move",
        {"address": f"bob@{host}", "password": "nope"},
    )
    assert wrong.status == 422 and "password is not right" in await wrong.text()
    unknown = await submit(
        client,
        "/settings/migration",
        "/settings/move",
        {"address": f"nobody@{host}", "password": PASSWORD},
    )
    assert unknown.status == 422
    moved = await submit(
        client,
        "/settings/migration",
        "/settings/move",
        {"address": f"bob@{host}", "password": PASSWORD},
    )
    assert moved.status == 303, await moved.text()
    page = await (await client.get("/settings/migration", headers=HTML)).text()
    assert f'This account has moved to <a href="{settings.base_url}/users/bob">' in page
    again = await submit(
        client,
        "/settings/migration",
        "/settings/move",
        {"address": f"bob@{host}", "password": PASSWORD},
    )
    assert again.status == 422 and "less than 7 days ago" in await again.text()


async def test_deleting_ones_account_takes_it_and_its_posts_down(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    posted = await submit(client, "/home", "/statuses", {"status": "last words", "next": "/home"})
    assert posted.status == 303
    (post_id,) = re.findall(
        r'id="status-(\d+)"', await (await client.get("/home", headers=HTML)).text()
    )
    token = await _app_token(client, "Pocket Toot")
    form = aiohttp.FormData()
    form.add_field("avatar", photo(80, 80), filename="me.jpg", content_type="image/jpeg")
    me = await (
        await client.patch(
            "/api/v1/accounts/update_credentials", data=form,
            headers={"Authorization": f"Bearer {token}"},
        )
    ).json()  # fmt: skip
    avatar_key = me["avatar"].rsplit("/", 1)[-1]
    unconfirmed = await submit(
        client, "/settings/delete", "/settings/delete", {"password": PASSWORD, "confirm": "bob"}
    )
    assert unconfirmed.status == 422 and "Type your username" in await unconfirmed.text()
    wrong = await submit(
        client, "/settings/delete", "/settings/delete", {"password": "nope", "confirm": "alice"}
    )
    assert wrong.status == 422 and "password is not right" in await wrong.text()
    done = await submit(
        client, "/settings/delete", "/settings/delete", {"password": PASSWORD, "confirm": "alice"}
    )
    assert done.status == 200 and "Your account is deleted" in await done.text()
    assert (await client.get("/home", headers=HTML, allow_redirects=False)).status == 303
    me = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=me)).status == 401
    assert "last words" not in await (await client.get("/public/local", headers=HTML)).text()
    db = client.server.app[DB]
    alice = db.read_sync(lambda c: accounts_store.get_account_by_username(c, "alice"))
    assert alice is not None and alice.deleted_at is not None
    assert (await client.get(f"/api/v1/statuses/{post_id}")).status == 404
    service = client.server.app[MEDIA]
    assert await remove_unattached(db, service, time.time()) == 1  # her avatar goes too
    assert service.files.path_of(avatar_key) is None
    again = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": "alice", "password": PASSWORD}
    )
    assert again.status != 303
