"""Mastodon's admin API for domain blocks and allows, and the public list."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_node.store import audit
from tests.api.c2s_rig import Node, WebFingerRemote, answer, auth, start_node, token_for
from tests.conftest import add_account

BLOCKS = "/api/v1/admin/domain_blocks"
ALLOWS = "/api/v1/admin/domain_allows"


@pytest.fixture
async def admin(node: Node) -> str:
    mod = add_account(node.db, node.settings, "mod", is_admin=True)
    return token_for(node.db, mod, "admin:read admin:write")


async def test_only_admins_with_admin_scopes_may_use_it(node: Node, admin: str) -> None:
    # alice is not an admin: 403, whatever her token holds.
    alice_admin_scopes = token_for(node.db, node.alice, "admin:read admin:write")
    resp = await node.client.get(BLOCKS, headers=auth(alice_admin_scopes))
    assert resp.status == 403 and (await resp.json())["error"] == "This action is not allowed"
    # An admin without the admin scopes: 403 naming the scope.
    mod = add_account(node.db, node.settings, "mayor", is_admin=True)
    narrow = token_for(node.db, mod, "read write")
    resp = await node.client.get(BLOCKS, headers=auth(narrow))
    assert resp.status == 403
    assert "admin:read:domain_blocks" in (await resp.json())["error_description"]
    assert (await node.client.get(BLOCKS)).status == 401
    assert (await node.client.get(BLOCKS, headers=auth(admin))).status == 200


async def test_create_change_list_show_and_lift_a_block(node: Node, admin: str) -> None:
    made = await answer(
        await node.client.post(
            BLOCKS,
            json={"domain": "Spam.Example", "severity": "suspend", "reject_media": True,
                  "private_comment": "wave of spam", "public_comment": "spam"},
            headers=auth(admin),
        )
    )  # fmt: skip
    assert made["domain"] == "spam.example" and made["severity"] == "suspend"
    assert made["digest"] == hashlib.sha256(b"spam.example").hexdigest()
    assert (made["reject_media"], made["reject_reports"], made["obfuscate"]) == (True, False, False)
    # The same domain again is refused with the existing block named.
    dup = await node.client.post(BLOCKS, data={"domain": "spam.example"}, headers=auth(admin))
    body = await dup.json()
    assert dup.status == 422 and body["existing_domain_block"]["id"] == made["id"]
    # Defaults follow Mastodon: severity silence.
    loud = await answer(
        await node.client.post(BLOCKS, data={"domain": "loud.example"}, headers=auth(admin))
    )
    assert loud["severity"] == "silence" and loud["private_comment"] is None
    # Change: only what is sent changes.
    changed = await answer(
        await node.client.put(
            f"{BLOCKS}/{loud['id']}", data={"obfuscate": "true"}, headers=auth(admin)
        )
    )
    assert (changed["severity"], changed["obfuscate"]) == ("silence", True)
    listed = await node.client.get(BLOCKS, params={"limit": "1"}, headers=auth(admin))
    page = await answer(listed)
    assert [b["domain"] for b in page] == ["loud.example"] and 'rel="next"' in listed.headers[
        "Link"
    ]
    older = await answer(
        await node.client.get(BLOCKS, params={"max_id": loud["id"]}, headers=auth(admin))
    )
    assert [b["domain"] for b in older] == ["spam.example"]
    shown = await answer(await node.client.get(f"{BLOCKS}/{made['id']}", headers=auth(admin)))
    assert shown == made
    gone = await node.client.delete(f"{BLOCKS}/{made['id']}", headers=auth(admin))
    assert gone.status == 200 and await gone.json() == {}
    assert (await node.client.get(f"{BLOCKS}/{made['id']}", headers=auth(admin))).status == 404
    # Every change is in the moderation log under the admin's name.
    log = node.db.read_sync(lambda c: audit.entries(c, limit=10))
    assert [(e.by, e.action, e.target) for e in log] == [
        ("mod", "domain_unblock", "spam.example"),
        ("mod", "domain_block_change", "loud.example"),
        ("mod", "domain_block", "loud.example"),
        ("mod", "domain_block", "spam.example"),
    ]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({}, "domain is missing"),
        ({"domain": "https://x.example/"}, "is not a domain"),
        ({"domain": "x.example", "severity": "nuke"}, "severity must be one of"),
        ({"domain": "agora.test"}, "own domain"),
        ({"domain": "x.example", "reject_media": "perhaps"}, "reject_media"),
    ],
)
async def test_bad_blocks_are_refused_with_the_reason(
    node: Node, admin: str, form: dict[str, Any], message: str
) -> None:
    resp = await node.client.post(BLOCKS, data=form, headers=auth(admin))
    assert resp.status == 422, await resp.text()
    assert message in (await resp.json())["error"]
    assert await answer(await node.client.get(BLOCKS, headers=auth(admin))) == []


async def test_domain_allows(node: Node, admin: str) -> None:
    made = await answer(
        await node.client.post(ALLOWS, data={"domain": "friends.example"}, headers=auth(admin))
    )
    assert made["domain"] == "friends.example"
    assert await answer(await node.client.get(ALLOWS, headers=auth(admin))) == [made]
    assert (
        await answer(await node.client.get(f"{ALLOWS}/{made['id']}", headers=auth(admin))) == made
    )
    assert (await node.client.delete(f"{ALLOWS}/{made['id']}", headers=auth(admin))).status == 200
    assert (await node.client.delete(f"{ALLOWS}/{made['id']}", headers=auth(admin))).status == 404


async def _public_node(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remotes: list[WebFingerRemote], **fed: Any
) -> Node:
    node = await start_node(aiohttp_client, tmp_path, list(remotes), **fed)
    mod = add_account(node.db, node.settings, "mod", is_admin=True)
    token = token_for(node.db, mod, "admin:write")
    for form in (
        {"domain": "spam.example", "severity": "suspend", "public_comment": "spam"},
        {"domain": "hidden.example", "severity": "silence", "obfuscate": "true"},
        {"domain": "pics.example", "severity": "noop", "reject_media": "true"},
    ):
        await answer(await node.client.post(BLOCKS, data=form, headers=auth(token)))
    return node


async def test_the_public_list_as_the_settings_say(aiohttp_client, tmp_path, remotes) -> None:  # type: ignore[no-untyped-def]
    node = await _public_node(
        aiohttp_client, tmp_path / "all", remotes,
        show_domain_blocks="all", show_domain_block_comments=True,
    )  # fmt: skip
    listed = await answer(await node.client.get("/api/v1/instance/domain_blocks"))
    assert listed == [
        {"domain": "hidd**.****ple",
         "digest": hashlib.sha256(b"hidden.example").hexdigest(),
         "severity": "silence", "comment": ""},
        {"domain": "spam.example", "digest": hashlib.sha256(b"spam.example").hexdigest(),
         "severity": "suspend", "comment": "spam"},
    ]  # fmt: skip
    users = await _public_node(
        aiohttp_client, tmp_path / "users", remotes, show_domain_blocks="users"
    )
    assert (await users.client.get("/api/v1/instance/domain_blocks")).status == 401
    signed = await answer(
        await users.client.get("/api/v1/instance/domain_blocks", headers=auth(users.token))
    )
    assert [b["severity"] for b in signed] == ["silence", "suspend"]
    assert all("comment" not in b for b in signed)
    off = await start_node(aiohttp_client, tmp_path / "off", list(remotes))
    assert (await off.client.get("/api/v1/instance/domain_blocks")).status == 404
