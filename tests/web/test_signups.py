"""Signing up in each registration mode, approval, and invites."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_node.actions import signups
from agora_node.context import DB, URLS
from agora_node.store import accounts as accounts_store
from agora_node.store import signups as signups_store
from tests.web.rig import HTML, sign_in, start_site, submit

NEW = {"username": "carol", "password": "a good long one", "confirm": "a good long one"}


def _accounts(client: Any) -> list[str]:
    return [a.username for a in client.server.app[DB].read_sync(accounts_store.list_accounts)]


async def test_open_sign_up_makes_the_account_and_signs_in(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path, registration="open")
    resp = await submit(client, "/auth/sign_up", "/auth/sign_up", NEW)
    assert resp.status == 303 and resp.headers["Location"] == "/home"
    assert "carol" in _accounts(client)
    home = await client.get("/home", headers=HTML)
    assert home.status == 200 and 'href="/@carol"' in await home.text()
    profile = await client.get("/@carol", headers=HTML)
    assert "@carol@agora.test" in await profile.text()


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"username": "no spaces"}, "Username: username must be 1-30 characters"),
        ({"username": "admin"}, "is reserved"),
        ({"username": "alice"}, "that name is taken"),
        ({"username": "ALICE"}, "that name is taken"),
        ({"password": "short", "confirm": "short"}, "at least 8 characters"),
        ({"password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"}, "too easy to guess"),
        ({"confirm": "something else"}, "The two passwords differ."),
    ],
)
async def test_a_bad_sign_up_says_why_and_makes_nothing(
    aiohttp_client: Callable[..., Any], tmp_path: Path, fields: dict[str, str], reason: str
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path, registration="open")
    resp = await submit(client, "/auth/sign_up", "/auth/sign_up", {**NEW, **fields})
    text = await resp.text()
    assert resp.status == 422 and reason in text, text
    assert sorted(_accounts(client)) == ["alice", "bob"]


async def test_rules_must_be_agreed_to(aiohttp_client: Callable[..., Any], tmp_path: Path) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path, registration="open", rules=["Be kind."])
    page = await (await client.get("/auth/sign_up", headers=HTML)).text()
    assert "Be kind." in page
    refused = await submit(client, "/auth/sign_up", "/auth/sign_up", NEW)
    assert refused.status == 422 and "agree to the rules" in await refused.text()
    agreed = await submit(client, "/auth/sign_up", "/auth/sign_up", {**NEW, "agreement": "1"})
    assert agreed.status == 303


async def test_approval_mode_keeps_the_sign_up_until_an_admin_approves(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path, registration="approval")
    missing = await submit(client, "/auth/sign_up", "/auth/sign_up", NEW)
    assert missing.status == 422 and "why you want to join" in await missing.text()
    resp = await submit(
        client, "/auth/sign_up", "/auth/sign_up", {**NEW, "reason": "I garden nearby"}
    )
    assert resp.status == 200 and "waiting for approval" in await resp.text()
    assert "carol" not in _accounts(client)
    db = client.server.app[DB]
    (pending,) = db.read_sync(signups_store.pending_signups)
    assert pending.username == "carol" and pending.reason == "I garden nearby"
    # Not an account yet: no profile, no actor, and signing in fails like a wrong password.
    assert (await client.get("/@carol", headers=HTML)).status == 404
    assert (
        await client.get("/users/carol", headers={"Accept": "application/activity+json"})
    ).status == 404
    wrong = await submit(
        client,
        "/auth/sign_in",
        "/auth/sign_in",
        {"username": "carol", "password": NEW["password"]},
    )
    assert wrong.status == 422 and "Wrong username or password." in await wrong.text()
    again = await submit(client, "/auth/sign_up", "/auth/sign_up", {**NEW, "reason": "x"})
    assert again.status == 422 and "that name is taken" in await again.text()
    node = signups.Node(db, client.server.app[URLS], settings.domain)
    account = await signups.approve(node, "carol", 1.0)
    assert account.username == "carol" and db.read_sync(signups_store.pending_signups) == []
    await sign_in(client, "carol", NEW["password"])
    assert (await client.get("/home", headers=HTML)).status == 200


async def test_closed_and_invite_modes(aiohttp_client: Callable[..., Any], tmp_path: Path) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path, registration="invite")
    page = await (await client.get("/auth/sign_up", headers=HTML)).text()
    assert "by invitation" in page and 'name="password"' not in page
    db = client.server.app[DB]
    node = signups.Node(db, client.server.app[URLS], settings.domain)
    code = await signups.create_invite(
        node, created_by=None, now=time.time(), expires_in=3600, max_uses=1
    )
    form_page = f"/auth/sign_up?invite={code}"
    assert 'name="password"' in await (await client.get(form_page, headers=HTML)).text()
    made = await submit(client, form_page, "/auth/sign_up", {**NEW, "invite": code})
    assert made.status == 303 and "carol" in _accounts(client)
    client.session.cookie_jar.clear()
    spent = await submit(
        client, form_page, "/auth/sign_up", {**NEW, "username": "dave", "invite": code}
    )
    assert spent.status == 422 and "used up" in await spent.text()
    none = await submit(client, "/auth/sign_in", "/auth/sign_up", {**NEW, "username": "dave"})
    assert none.status == 422 and "invitation only" in await none.text()
    assert "dave" not in _accounts(client)


async def test_closed_mode_refuses_even_with_an_invite(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, settings = await start_site(aiohttp_client, tmp_path, registration="closed")
    page = await (await client.get("/auth/sign_up", headers=HTML)).text()
    assert "Sign-ups are closed" in page
    node = signups.Node(client.server.app[DB], client.server.app[URLS], settings.domain)
    code = await signups.create_invite(
        node, created_by=None, now=1e12, expires_in=None, max_uses=None
    )
    resp = await submit(client, "/auth/sign_in", "/auth/sign_up", {**NEW, "invite": code})
    assert resp.status == 422 and "closed" in await resp.text()
    assert "carol" not in _accounts(client)
