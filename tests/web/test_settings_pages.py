"""Settings pages: the profile, a password change that ends other sign-ins, sessions."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient
from PIL import Image

from tests.api.test_media import photo
from tests.web.rig import HTML, PASSWORD, sign_in, start_site, submit, token_on

NEW = {"new_password": "a-new-password", "confirm": "a-new-password"}


async def test_the_profile_form_saves_what_the_profile_page_shows(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    saved = await submit(
        client,
        "/settings/profile",
        "/settings/profile",
        {"display_name": "Alice Baker", "note": "Bread <b>daily</b>", "locked": "1"},
    )
    assert saved.status == 303 and saved.headers["Location"] == "/settings/profile?saved=1"
    form_again = await (await client.get("/settings/profile?saved=1", headers=HTML)).text()
    assert "Your profile is saved" in form_again
    assert 'name="locked" value="1" checked' in form_again
    assert 'name="bot" value="1">' in form_again
    shown = await (await client.get("/@alice", headers=HTML)).text()
    assert "Alice Baker" in shown and "locked" in shown
    assert "Bread &lt;b&gt;daily&lt;/b&gt;" in shown
    too_long = await submit(
        client, "/settings/profile", "/settings/profile", {"display_name": "x" * 31}
    )
    assert too_long.status == 422 and "display name is over 30" in await too_long.text()


async def test_a_password_change_ends_other_sessions_but_this_one(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    # A second browser on the same node: sign in with its own cookie jar.
    second = TestClient(client.server)  # another browser: its own cookies, the same node
    await sign_in(second, "alice")
    listed = await (await client.get("/settings/account", headers=HTML)).text()
    assert listed.count("Sign out there") == 1 and "this browser" in listed

    wrong = await submit(
        client, "/settings/account", "/settings/password",
        {"current_password": "nope-nope", **NEW},
    )  # fmt: skip
    assert wrong.status == 422 and "password is not right" in await wrong.text()
    differ = await submit(
        client, "/settings/account", "/settings/password",
        {"current_password": PASSWORD, "new_password": "a-new-password", "confirm": "another-one"},
    )  # fmt: skip
    assert differ.status == 422 and "differ" in await differ.text()
    done = await submit(
        client, "/settings/account", "/settings/password",
        {"current_password": PASSWORD, **NEW},
    )  # fmt: skip
    assert done.status == 303
    assert (await client.get("/home", headers=HTML, allow_redirects=False)).status == 200
    ended = await second.get("/home", headers=HTML, allow_redirects=False)
    assert ended.status == 303 and "/auth/sign_in" in ended.headers["Location"]
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "alice", "a-new-password")
    await second.session.close()


async def test_signing_out_another_session(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    second = TestClient(client.server)  # another browser: its own cookies, the same node
    await sign_in(second, "alice")
    listed = await (await client.get("/settings/account", headers=HTML)).text()
    (target,) = re.findall(r'name="session" value="([0-9a-f]+)"', listed)
    ended = await submit(client, "/settings/account", "/settings/sessions/end", {"session": target})
    assert ended.status == 303
    gone = await second.get("/home", headers=HTML, allow_redirects=False)
    assert gone.status == 303
    again = await submit(client, "/settings/account", "/settings/sessions/end", {"session": target})
    assert again.status == 404
    await second.session.close()


async def test_profile_fields_are_saved_in_order_and_shown(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    token = await token_on(client, "/settings/profile")
    form = [("csrf", token), ("display_name", "Alice")]
    for name, value in [("Pronouns", "she/her"), ("", ""), ("Garden", "<i>roses</i>"), ("", "")]:
        form += [("field_name", name), ("field_value", value)]
    saved = await client.post("/settings/profile", data=form, headers=HTML, allow_redirects=False)
    assert saved.status == 303
    again = await (await client.get("/settings/profile", headers=HTML)).text()
    assert 'name="field_name" maxlength="255" value="Pronouns"' in again
    assert 'id="st-f1-name" name="field_name" maxlength="255" value="Garden"' in again
    shown = await (await client.get("/@alice", headers=HTML)).text()
    assert "<dt>Pronouns</dt><dd>she/her</dd>" in shown
    assert "<dt>Garden</dt><dd>&lt;i&gt;roses&lt;/i&gt;</dd>" in shown
    uneven = await client.post(
        "/settings/profile",
        data=[("csrf", token), ("field_name", "a"), ("field_name", "b"), ("field_value", "x")],
        headers=HTML,
    )
    assert uneven.status == 400


async def test_an_avatar_from_the_settings_page(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    token = await token_on(client, "/settings/profile")

    async def send(**files: bytes) -> Any:
        data = aiohttp.FormData()
        for name, value in (("csrf", token), ("display_name", "Alice"), ("discoverable", "1")):
            data.add_field(name, value)
        for name, content in files.items():
            data.add_field(name, content, filename="me.jpg", content_type="image/jpeg")
        return await client.post(
            "/settings/profile", data=data, headers=HTML, allow_redirects=False
        )

    saved = await send(avatar=photo(500, 300))
    assert saved.status == 303, await saved.text()
    profile = await (await client.get("/@alice", headers=HTML)).text()
    found = re.search(r'<img class="avatar big" src="([^"]+)"', profile)
    assert found is not None and "/media/" in found.group(1)
    path = found.group(1).removeprefix("http://agora.test")
    assert Image.open(io.BytesIO(await (await client.get(path)).read())).size == (300, 300)
    bad = await send(header=b"this is not an image at all")
    assert bad.status == 422 and "must be a JPEG, PNG" in await bad.text()


async def test_hidden_followers_and_following_are_kept_to_oneself(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "bob")
    await submit(client, "/@alice", "/@alice/follow", {})
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "alice")
    saved = await submit(
        client, "/settings/profile", "/settings/profile",
        {"display_name": "Alice", "hide_collections": "1"},
    )  # fmt: skip
    assert saved.status == 303
    form_again = await (await client.get("/settings/profile", headers=HTML)).text()
    assert 'name="hide_collections" value="1" checked' in form_again
    own = await (await client.get("/@alice/followers", headers=HTML)).text()
    assert 'href="/@bob"' in own  # she sees her own list
    alice_id = (await (await client.get("/api/v1/accounts/lookup?acct=alice")).json())["id"]
    client.session.cookie_jar.clear()
    others = await (await client.get("/@alice/followers", headers=HTML)).text()
    assert "keeps this list to themselves" in others and 'href="/@bob"' not in others
    assert await (await client.get(f"/api/v1/accounts/{alice_id}/followers")).json() == []
    as_json = {"Accept": "application/activity+json"}
    collection = await (await client.get("/users/alice/followers?page=true", headers=as_json)).json(
        content_type=None
    )
    assert collection["totalItems"] == 1 and collection["orderedItems"] == []
    bob_list = await (await client.get("/@bob/following", headers=HTML)).text()
    assert 'href="/@alice"' in bob_list  # bob does not hide his
