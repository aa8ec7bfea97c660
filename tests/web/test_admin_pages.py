"""The admin pages: who may open them, sign-up approval, suspension, resets, invites."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agora_node.app import create_app
from agora_node.context import DB, SETTINGS
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
    for path in ("/admin", "/admin/accounts", "/admin/invites", "/admin/settings"):
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


async def test_server_settings_change_what_pages_apps_and_sign_ups_see(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path, registration="closed")
    closed = await (await client.get("/auth/sign_up", headers=HTML)).text()
    assert "Create account" not in closed
    await sign_in(client, "mayor")
    fields = {
        "name": "Harbour <Town>",
        "description": "Boats and bread.",
        "rules": "Be kind\n\n  No spam  \n",
        "registration": "open",
        "admin_contact": "mayor@harbour.example",
        "accent_color": "#aa3300",
    }
    saved = await submit(client, "/admin/settings", "/admin/settings", fields)
    assert saved.status == 303 and saved.headers["Location"] == "/admin/settings?saved=1"
    form_again = await (await client.get("/admin/settings?saved=1", headers=HTML)).text()
    assert "saved and in effect" in form_again and "Be kind\nNo spam</textarea>" in form_again
    assert '<option value="open" selected>' in form_again
    client.session.cookie_jar.clear()
    front = await (await client.get("/", headers=HTML)).text()
    assert "Harbour &lt;Town&gt;" in front and "Boats and bread." in front and "No spam" in front
    assert 'href="/theme.css?v=aa3300"' in front
    theme = await (await client.get("/theme.css?v=aa3300")).text()
    assert "#aa3300" in theme.lower()
    v2 = await (await client.get("/api/v2/instance")).json()
    assert v2["title"] == "Harbour <Town>" and v2["registrations"]["enabled"] is True
    assert [r["text"] for r in v2["rules"]] == ["Be kind", "No spam"]
    assert v2["contact"]["email"] == "mayor@harbour.example"
    info = await (await client.get("/nodeinfo/2.1")).json()
    assert info["metadata"]["nodeName"] == "Harbour <Town>" and info["openRegistrations"] is True
    signing_up = await submit(
        client, "/auth/sign_up", "/auth/sign_up",
        {"username": "sailor", "password": "sailor-password", "confirm": "sailor-password",
         "agreement": "1"},
    )  # fmt: skip
    assert signing_up.status == 303 and signing_up.headers["Location"] == "/home"

    await sign_in(client, "mayor")
    for bad, message in [
        ({"registration": "everyone"}, "registration: must be one of"),
        ({"accent_color": "red"}, "accent_color: must be a colour"),
        ({"name": "  "}, "name: must not be empty"),
        ({"rules": "\n".join(f"rule {i}" for i in range(31))}, "at most 30 rules"),
        ({"description": "x" * 2001}, "description: longer than 2000"),
    ]:
        resp = await submit(client, "/admin/settings", "/admin/settings", {**fields, **bad})
        assert resp.status == 422, bad
        assert message in await resp.text(), bad
    v2 = await (await client.get("/api/v2/instance")).json()
    assert v2["title"] == "Harbour <Town>"  # nothing of a refused change was kept


async def test_server_settings_outlive_a_restart(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = await _admin_site(aiohttp_client, tmp_path)
    await sign_in(client, "mayor")
    token = await (await client.get("/admin/settings", headers=HTML)).text()
    assert "Test Agora" in token
    saved = await submit(
        client, "/admin/settings", "/admin/settings",
        {"name": "Renamed", "description": "d", "rules": "", "registration": "approval",
         "admin_contact": "", "accent_color": "#123"},
    )  # fmt: skip
    assert saved.status == 303
    settings = client.server.app[SETTINGS]
    await client.close()
    again = await aiohttp_client(create_app(settings))
    v1 = await (await again.get("/api/v1/instance")).json()
    assert v1["title"] == "Renamed" and v1["approval_required"] is True and v1["rules"] == []
