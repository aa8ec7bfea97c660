"""What apps ask first: the instance, its limits and rules, CORS, empty start-up lists."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.processing.outbound_notes import MAX_TEXT
from agora_node.store import accounts as accounts_store
from tests.api.c2s_rig import token_for
from tests.conftest import BASE_URL, add_account, make_settings


@pytest.fixture
async def app_client(aiohttp_client: Callable[..., Any], tmp_path: Path) -> Any:
    settings = make_settings(
        tmp_path,
        instance={
            "rules": ["Be kind.", "No spam."],
            "registration": "approval",
            "admin_contact": "admin@agora.test",
        },
    )
    client = await aiohttp_client(create_app(settings, run_workers=False))
    db = client.server.app[DB]
    alice = add_account(db, settings, "alice", is_admin=True)
    db.write_sync(
        lambda c: accounts_store.upsert_actor(
            c,
            {
                "uri": "https://far.example/users/bob", "username": "bob",
                "host": "far.example", "inbox": "https://far.example/users/bob/inbox",
            },
        )
    )  # fmt: skip
    client.token = token_for(db, alice)  # type: ignore[attr-defined]
    return client


async def test_instance_v2_and_v1(app_client: Any) -> None:
    v2 = await (await app_client.get("/api/v2/instance")).json()
    assert v2["domain"] == "agora.test" and v2["title"] == "Test Agora"
    assert v2["version"].startswith("4.") and "Agora" in v2["version"]
    assert v2["configuration"]["statuses"]["max_characters"] == MAX_TEXT
    media = v2["configuration"]["media_attachments"]
    assert {"image/jpeg", "image/png", "image/webp", "image/gif", "video/mp4"} <= set(
        media["supported_mime_types"]
    )
    assert media["image_size_limit"] == 16 * 1024 * 1024 and media["description_limit"] == 1500
    assert v2["configuration"]["statuses"]["max_media_attachments"] == 4
    assert v2["registrations"] == {
        "enabled": True, "approval_required": True, "message": None, "url": None,
    }  # fmt: skip
    assert v2["contact"]["email"] == "admin@agora.test"
    assert v2["contact"]["account"]["acct"] == "alice"
    assert [r["text"] for r in v2["rules"]] == ["Be kind.", "No spam."]
    assert v2["configuration"]["urls"]["streaming"] == BASE_URL.replace("https", "wss")
    thumb = await app_client.get(v2["thumbnail"]["url"].removeprefix(BASE_URL))
    assert thumb.status == 200 and thumb.content_type == "image/png"
    v1 = await (await app_client.get("/api/v1/instance")).json()
    assert v1["uri"] == "agora.test" and v1["stats"] == {
        "user_count": 1, "status_count": 0, "domain_count": 1,
    }  # fmt: skip
    assert v1["registrations"] is True and v1["approval_required"] is True
    assert v1["contact_account"]["username"] == "alice"


async def test_peers_activity_rules_emoji(app_client: Any) -> None:
    assert await (await app_client.get("/api/v1/instance/peers")).json() == ["far.example"]
    weeks = await (await app_client.get("/api/v1/instance/activity")).json()
    assert len(weeks) == 12 and weeks[0]["registrations"] == "1" and weeks[0]["logins"] == "1"
    assert all(set(w) == {"week", "statuses", "logins", "registrations"} for w in weeks)
    rules = await (await app_client.get("/api/v1/instance/rules")).json()
    assert rules == [
        {"id": "1", "text": "Be kind.", "hint": ""},
        {"id": "2", "text": "No spam.", "hint": ""},
    ]
    assert await (await app_client.get("/api/v1/custom_emojis")).json() == []


async def test_preferences_and_start_up_lists_need_a_token(app_client: Any) -> None:
    h = {"Authorization": f"Bearer {app_client.token}"}
    prefs = await app_client.get("/api/v1/preferences", headers=h)
    assert (await prefs.json())["posting:default:visibility"] == "public"
    for path in ("/api/v1/filters", "/api/v2/filters", "/api/v1/announcements",
                 "/api/v1/endorsements", "/api/v1/followed_tags"):  # fmt: skip
        resp = await app_client.get(path, headers=h)
        assert resp.status == 200 and await resp.json() == [], path
        anonymous = await app_client.get(path)
        assert anonymous.status == 401 and "missing" in (await anonymous.json())["error"]


async def test_default_avatar_and_header_are_images(app_client: Any) -> None:
    h = {"Authorization": f"Bearer {app_client.token}"}
    me = await (await app_client.get("/api/v1/accounts/verify_credentials", headers=h)).json()
    for key in ("avatar", "avatar_static", "header", "header_static"):
        assert me[key].startswith(f"{BASE_URL}/static/")
        image = await app_client.get(me[key].removeprefix(BASE_URL))
        assert image.status == 200 and image.content_type == "image/png"
    assert me["source"]["privacy"] == "public"


@pytest.mark.parametrize(
    "path", ["/api/v1/instance", "/oauth/token", "/.well-known/nodeinfo", "/nodeinfo/2.0"]
)
async def test_cors_for_browser_apps(app_client: Any, path: str) -> None:
    pre = await app_client.options(
        path,
        headers={
            "Origin": "https://elk.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert pre.status == 204 and pre.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    resp = await app_client.get(path, headers={"Origin": "https://elk.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in resp.headers["Access-Control-Expose-Headers"]


async def test_no_cors_on_pages_or_the_authorize_form(app_client: Any) -> None:
    for path in ("/", "/oauth/authorize", "/users/alice"):
        resp = await app_client.get(path, headers={"Origin": "https://elk.example"})
        assert "Access-Control-Allow-Origin" not in resp.headers, path
