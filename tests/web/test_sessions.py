"""Signing in and out of the web pages, the CSRF check, and the page headers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from agora_node.context import DB
from agora_node.store import web_sessions as sessions_store
from tests.web.rig import HTML, PASSWORD, sign_in, start_site, submit, token_on


async def test_sign_in_starts_a_session_and_sign_out_ends_it(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    home = await client.get("/home", headers=HTML, allow_redirects=False)
    assert home.status == 303 and home.headers["Location"] == "/auth/sign_in?next=/home"
    resp = await submit(
        client,
        "/auth/sign_in?next=/public",
        "/auth/sign_in",
        {"username": "alice", "password": PASSWORD, "next": "/public"},
    )
    assert resp.status == 303 and resp.headers["Location"] == "/public"
    cookie = resp.cookies["agora_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert not cookie["max-age"]  # not remembered: it ends with the browser
    page = await client.get("/home", headers=HTML)
    text = await page.text()
    assert page.status == 200 and "Sign out" in text and "What is on your mind?" in text
    assert page.headers["Cache-Control"] == "private, no-store"
    out = await submit(client, "/home", "/auth/sign_out", {})
    assert out.status == 303
    assert (await client.get("/home", headers=HTML, allow_redirects=False)).status == 303
    db = client.server.app[DB]
    assert db.read_sync(lambda c: c.execute("SELECT count(*) FROM web_sessions").fetchone()[0]) == 0


async def test_remember_me_keeps_the_cookie_for_weeks(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    fields = {"username": "alice", "password": PASSWORD, "remember": "1"}
    resp = await submit(client, "/auth/sign_in", "/auth/sign_in", fields)
    assert int(resp.cookies["agora_session"]["max-age"]) == 30 * 86400


async def test_wrong_password_and_unknown_name_get_the_same_answer(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    wrong = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": "alice", "password": "nope nope"}
    )
    unknown = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": "zed", "password": "nope nope"}
    )
    assert wrong.status == unknown.status == 422
    assert "Wrong username or password." in await wrong.text()
    assert "Wrong username or password." in await unknown.text()
    assert "agora_session" not in wrong.cookies


async def test_sign_in_is_throttled(aiohttp_client: Callable[..., Any], tmp_path: Path) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    for _ in range(5):
        await submit(client, "/auth/sign_in", "/auth/sign_in", {"username": "bob", "password": "x"})
    blocked = await submit(
        client, "/auth/sign_in", "/auth/sign_in", {"username": "bob", "password": PASSWORD}
    )
    assert blocked.status == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "agora_session" not in blocked.cookies


async def test_a_form_without_its_token_is_refused(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    for fields in ({}, {"csrf": "forged"}):
        resp = await client.post(
            "/statuses", data={"status": "sneaky", **fields}, headers=HTML, allow_redirects=False
        )
        assert resp.status == 403 and resp.content_type == "text/html"
        assert "did not come from this site" in await resp.text()
    as_json = await client.post(
        "/statuses", json={"status": "sneaky"}, headers=HTML, allow_redirects=False
    )
    assert as_json.status == 403
    public = await client.get("/public/local", headers=HTML)
    assert "sneaky" not in await public.text()
    # The pre-session token of another browser does not work for this one.
    other = await token_on(client, "/home")
    client.session.cookie_jar.clear()
    resp = await client.post(
        "/auth/sign_in",
        data={"csrf": other, "username": "alice", "password": PASSWORD},
        headers=HTML,
        allow_redirects=False,
    )
    assert resp.status == 403


async def test_pages_carry_a_strict_content_security_policy(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    for path in ("/", "/about", "/auth/sign_in", "/public", "/no/such/page"):
        page = await client.get(path, headers=HTML)
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "same-origin"
        text = await page.text()
        assert "<script>" not in text and " style=" not in text
    theme = await client.get("/theme.css")
    assert theme.content_type == "text/css" and "--accent: #3a4fb8" in await theme.text()


async def test_a_session_ends_when_its_account_is_deleted_or_it_expires(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    await sign_in(client, "alice")
    db = client.server.app[DB]
    db.write_sync(lambda c: c.execute("UPDATE web_sessions SET expires_at = 0"))
    assert (await client.get("/home", headers=HTML, allow_redirects=False)).status == 303
    assert db.read_sync(lambda c: sessions_store.delete_sessions_expired_before(c, 1)) == 1


async def test_next_never_leaves_the_site(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path)
    for bad in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        resp = await submit(
            client,
            "/auth/sign_in",
            "/auth/sign_in",
            {"username": "alice", "password": PASSWORD, "next": bad},
        )
        assert resp.headers["Location"] == "/home"


async def test_a_node_served_over_https_marks_its_cookies_secure(
    aiohttp_client: Callable[..., Any], tmp_path: Path
) -> None:
    client, _ = await start_site(aiohttp_client, tmp_path, base_url="https://agora.test")
    page = await client.get("/auth/sign_in", headers=HTML)
    cookie = page.cookies["agora_csrf"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"
