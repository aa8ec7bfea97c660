"""The admin pages: who may open them, sign-up approval, suspension, resets, invites."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agora_node.context import DB
from agora_node.store import signups as signups_store
from tests.conftest import add_account
from tests.web.rig import HTML, PASSWORD, sign_in, start_site, submit


async def _admin_site(aiohttp_client: Callable[..., Any], tmp_path: Path, **instance: Any) -> Any:
    client, settings = await start_site(aiohttp_client, tmp_path, **instance)
    add_account(client.server.app[DB], settings, "mayor", password=PASSWORD, is_admin=True)
    return client


async def _token(client: Any, username: str, password: str = PASSWORD) -> Any:
    app = await (
        await client.post(
            "/api/v1/apps", data={"client_name": "T", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"}
        )
    ).json()
    return await client.post(
        "/oauth/token",
        data={
            "grant_type": "password",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "username": username,
            "password": password,
            "scope": "read",
        },
    )


async def test_only_admins_open_the_admin_pages(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path)
    anonymous = await client.get("/admin", headers=HTML, allow_redirects=False)
    assert anonymous.status == 303 and "/auth/sign_in" in anonymous.headers["Location"]
    await sign_in(client, "bob")
    for path in ("/admin", "/admin/accounts", "/admin/invites"):
        refused = await client.get(path, headers=HTML)
        assert refused.status == 403 and "only the admins" in await refused.text()
    home = await (await client.get("/home", headers=HTML)).text()
    assert 'href="/admin"' not in home
    forged = await submit(client, "/home", "/admin/accounts/alice/suspend", {})
    assert forged.status == 403
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "mayor")
    overview = await client.get("/admin", headers=HTML)
    text = await overview.text()
    assert overview.status == 200 and "Deliveries" in text and "Inbox" in text
    assert "Nothing waiting" in text


async def test_an_admin_approves_a_pending_sign_up(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path, registration="approval")
    asked = await submit(
        client,
        "/auth/sign_up",
        "/auth/sign_up",
        {"username": "dora", "password": "dora-password-1", "confirm": "dora-password-1",
         "reason": "I run the bakery"},
    )  # fmt: skip
    assert asked.status == 200 and "waiting for approval" in await asked.text()
    await sign_in(client, "mayor")
    listing = await (await client.get("/admin/accounts", headers=HTML)).text()
    assert "@dora" in listing and "I run the bakery" in listing
    approved = await submit(client, "/admin/accounts", "/admin/signups/dora/approve", {})
    assert approved.status == 303
    assert client.server.app[DB].read_sync(signups_store.pending_signups) == []
    again = await submit(client, "/admin/accounts", "/admin/signups/dora/approve", {})
    assert again.status == 404
    await submit(client, "/home", "/auth/sign_out", {})
    await sign_in(client, "dora", "dora-password-1")


async def test_suspension_ends_sign_ins_hides_the_profile_and_can_be_lifted(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path)
    token = (await (await _token(client, "bob")).json())["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer)).status == 200
    await sign_in(client, "mayor")
    own = await submit(client, "/admin/accounts", "/admin/accounts/mayor/suspend", {})
    assert own.status == 422
    done = await submit(client, "/admin/accounts", "/admin/accounts/bob/suspend", {})
    assert done.status == 303
    listing = await (await client.get("/admin/accounts", headers=HTML)).text()
    assert re.search(r'id="account-bob".*?suspended', listing, re.S)

    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer)).status == 401
    refused = await _token(client, "bob")
    assert refused.status == 400 and "suspended" in (await refused.json())["error_description"]
    gone = await client.get("/@bob", headers=HTML)
    assert gone.status == 410 and "suspended" in await gone.text()
    await submit(client, "/home", "/auth/sign_out", {})
    page = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": "bob", "password": PASSWORD}
    )
    assert page.status == 403 and "suspended" in await page.text()

    await sign_in(client, "mayor")
    lifted = await submit(client, "/admin/accounts", "/admin/accounts/bob/unsuspend", {})
    assert lifted.status == 303
    assert (await client.get("/@bob", headers=HTML)).status == 200
    assert (await _token(client, "bob")).status == 200


async def test_a_reset_password_is_shown_once_and_ends_sign_ins(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path)
    token = (await (await _token(client, "alice")).json())["access_token"]
    await sign_in(client, "mayor")
    reset = await submit(client, "/admin/accounts", "/admin/accounts/alice/reset_password", {})
    text = await reset.text()
    found = re.search(r"The new password of @alice is (\S+) ", text)
    assert reset.status == 200 and found, text
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=bearer)).status == 401
    assert (await _token(client, "alice")).status == 400
    assert (await _token(client, "alice", found.group(1))).status == 200
    nobody = await submit(client, "/admin/accounts", "/admin/accounts/zed/reset_password", {})
    assert nobody.status == 404


async def test_invites_are_made_listed_and_revoked(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path, registration="invite")
    await sign_in(client, "mayor")
    bad = await submit(client, "/admin/invites", "/admin/invites", {"max_uses": "-3"})
    assert bad.status == 422 and "max uses must be a number" in await bad.text()
    made = await submit(
        client, "/admin/invites", "/admin/invites", {"expires_in_hours": "24", "max_uses": "2"}
    )
    text = await made.text()
    code = re.search(r"/auth/sign_up\?invite=([\w-]+)", text)
    assert made.status == 200 and code
    assert "0 of 2" in text
    revoked = await submit(client, "/admin/invites", f"/admin/invites/{code.group(1)}/revoke", {})
    assert revoked.status == 303
    assert "revoked" in await (await client.get("/admin/invites", headers=HTML)).text()
    twice = await submit(client, "/admin/invites", f"/admin/invites/{code.group(1)}/revoke", {})
    assert twice.status == 404
