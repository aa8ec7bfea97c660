"""Mastodon's admin API for accounts: listing, actions and their undoing, the log."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.actions import admin as admin_actions
from agora_node.actions.signups import Node as Site
from agora_node.protocol.urls import LocalUrls
from agora_node.store import reports as reports_store
from tests.api.c2s_rig import (
    Node,
    WebFingerRemote,
    answer,
    auth,
    store_remote_actor,
    token_for,
)
from tests.conftest import add_account
from tests.store.test_timelines import post

ADMIN = "/api/v1/admin/accounts"


def _id(node: Node, uri: str) -> str:
    return str(node.db.read_sync(lambda c: c.execute(
        "SELECT id FROM actors WHERE uri = ?", [uri]).fetchone()[0]))  # fmt: skip


@pytest.fixture
def admin(node: Node) -> str:
    mod = add_account(node.db, node.settings, "mod", is_admin=True)
    return token_for(node.db, mod, "read write admin:read admin:write")


@pytest.fixture
def bob(node: Node, remotes: list[WebFingerRemote]) -> Any:
    actor = remotes[0].add_actor("bob")
    store_remote_actor(node.db, actor)
    return actor


async def test_lists_and_filters(node: Node, admin: str, bob: Any) -> None:
    everyone = await answer(await node.client.get("/api/v2/admin/accounts", headers=auth(admin)))
    assert {a["username"] for a in everyone} == {"alice", "mod", "bob"}
    local = await answer(await node.client.get(
        "/api/v2/admin/accounts", params={"origin": "local"}, headers=auth(admin)))  # fmt: skip
    assert {a["username"] for a in local} == {"alice", "mod"}
    assert all(a["domain"] is None for a in local)
    remote = await answer(await node.client.get(
        ADMIN, params={"remote": "true"}, headers=auth(admin)))  # fmt: skip
    assert [a["username"] for a in remote] == ["bob"] and remote[0]["domain"]
    named = await answer(await node.client.get(
        "/api/v2/admin/accounts", params={"username": "ali"}, headers=auth(admin)))  # fmt: skip
    assert [a["username"] for a in named] == ["alice"]
    bad = await node.client.get(
        "/api/v2/admin/accounts", params={"status": "asleep"}, headers=auth(admin)
    )
    assert bad.status == 400
    assert (await node.client.get(ADMIN, headers=auth(node.token))).status == 403


async def test_actions_and_their_undoing(node: Node, admin: str, bob: Any) -> None:
    alice_id, bob_id = _id(node, node.alice.actor.uri), _id(node, bob.uri)  # type: ignore[union-attr]
    node.db.write_sync(lambda c: post(c, bob.uri, data={"attachments": [
        {"type": "Image", "url": f"{bob.uri}/a.png", "mediaType": "image/png"}]}))  # fmt: skip
    done = await node.client.post(f"{ADMIN}/{bob_id}/action", data={"type": "sensitive"},
                                  headers=auth(admin))  # fmt: skip
    assert done.status == 200 and await done.json() == {}
    shown = await answer(await node.client.get(f"{ADMIN}/{bob_id}", headers=auth(admin)))
    assert shown["sensitized"] is True
    statuses = await answer(await node.client.get(
        f"/api/v1/accounts/{bob_id}/statuses", headers=auth(node.token)))  # fmt: skip
    assert statuses and all(s["sensitive"] for s in statuses)
    back = await answer(await node.client.post(f"{ADMIN}/{bob_id}/unsensitive",
                                               headers=auth(admin)))  # fmt: skip
    assert back["sensitized"] is False
    # Disabling a local sign-in: the token stops working; enabling gives sign-in back.
    await answer(await node.client.post(f"{ADMIN}/{alice_id}/action", data={"type": "disable"},
                                        headers=auth(admin)))  # fmt: skip
    assert (await node.client.get("/api/v1/accounts/verify_credentials",
                                  headers=auth(node.token))).status == 401  # fmt: skip
    assert (await answer(await node.client.get(f"{ADMIN}/{alice_id}", headers=auth(admin)))
            )["disabled"] is True  # fmt: skip
    enabled = await answer(await node.client.post(f"{ADMIN}/{alice_id}/enable",
                                                  headers=auth(admin)))  # fmt: skip
    assert enabled["disabled"] is False
    # A remote account cannot be disabled; types are checked.
    wrong = await node.client.post(f"{ADMIN}/{bob_id}/action", data={"type": "disable"},
                                   headers=auth(admin))  # fmt: skip
    assert wrong.status == 422
    odd = await node.client.post(f"{ADMIN}/{bob_id}/action", data={"type": "banish"},
                                 headers=auth(admin))  # fmt: skip
    assert odd.status == 422 and "type must be one of" in (await odd.json())["error"]
    # The log has all of it, newest first.
    log = await answer(await node.client.get("/api/v1/admin/action_logs", headers=auth(admin)))
    assert [e["action"] for e in log][:4] == [
        "account_enable", "account_disable", "account_unsensitive", "account_sensitive",
    ]  # fmt: skip
    assert log[0]["by"] == "mod"


async def test_an_action_can_resolve_its_report(node: Node, admin: str, bob: Any) -> None:
    bob_id = _id(node, bob.uri)
    filed = await answer(await node.client.post(
        "/api/v1/reports", data={"account_id": bob_id}, headers=auth(node.token)))  # fmt: skip
    await answer(await node.client.post(
        f"{ADMIN}/{bob_id}/action",
        data={"type": "silence", "report_id": filed["id"], "text": "limited for spam"},
        headers=auth(admin)))  # fmt: skip
    report = node.db.read_sync(lambda c: reports_store.get_report(c, int(filed["id"])))
    assert report is not None and report.resolved_at is not None
    assert (report.action_taken, report.action_comment) == ("silence", "limited for spam")
    shown = await answer(await node.client.get(f"{ADMIN}/{bob_id}", headers=auth(admin)))
    assert shown["silenced"] is True
    lifted = await answer(await node.client.post(f"{ADMIN}/{bob_id}/unsilence",
                                                 headers=auth(admin)))  # fmt: skip
    assert lifted["silenced"] is False


async def test_force_unlisted_keeps_public_posts_out_of_the_public_timelines(
    node: Node, admin: str, bob: Any
) -> None:
    bob_id = _id(node, bob.uri)
    spam = node.db.write_sync(lambda c: post(c, bob.uri))

    async def public_ids() -> list[str]:
        resp = await node.client.get("/api/v1/timelines/public", headers=auth(node.token))
        return [s["id"] for s in await answer(resp)]

    assert str(spam) in await public_ids()
    unlist = {"type": "force_unlisted"}
    await answer(
        await node.client.post(f"{ADMIN}/{bob_id}/action", data=unlist, headers=auth(admin))
    )
    assert str(spam) not in await public_ids()
    # Still on the profile: it is unlisted, not hidden.
    profile = await answer(await node.client.get(
        f"/api/v1/accounts/{bob_id}/statuses", headers=auth(node.token)))  # fmt: skip
    assert str(spam) in [s["id"] for s in profile]
    await answer(await node.client.post(f"{ADMIN}/{bob_id}/unforce_unlisted", headers=auth(admin)))
    assert str(spam) in await public_ids()


async def test_suspended_accounts_are_purged_after_the_reversal_period(
    node: Node, bob: Any
) -> None:
    carol = add_account(node.db, node.settings, "carol")
    assert carol.actor is not None
    now = 2_000_000_000.0
    day = 86400.0
    for uri, when in ((carol.actor.uri, now - 31 * day), (bob.uri, now - 10 * day)):
        node.db.write_sync(lambda c, uri=uri, when=when: c.execute(
            "UPDATE actors SET suspended_at = ? WHERE uri = ?", [when, uri]))  # fmt: skip
    site = Site(node.db, LocalUrls(node.settings.base_url), node.settings.domain)
    assert await admin_actions.purge_suspended(site, days=30, now=now) == 1
    deleted = "SELECT deleted_at IS NOT NULL FROM accounts WHERE username = 'carol'"
    gone = node.db.read_sync(lambda c: c.execute(deleted).fetchone()[0])
    assert gone == 1
    kept = node.db.read_sync(lambda c: c.execute(
        "SELECT deleted_at FROM actors WHERE uri = ?", [bob.uri]).fetchone()[0])  # fmt: skip
    assert kept is None  # within its 30 days: a mistake can still be undone
    assert await admin_actions.purge_suspended(site, days=30, now=now + 30 * day) == 1
    assert await admin_actions.purge_suspended(site, days=0, now=now + 90 * day) == 0
