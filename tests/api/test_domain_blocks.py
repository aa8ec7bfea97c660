"""One's own domain blocks: a server's accounts leave one's timelines and
notifications, follows both ways end, and the list pages like Mastodon's."""

from __future__ import annotations

from typing import Any

from agora_node.store import accounts as accounts_store
from agora_node.store import social
from tests.api.c2s_rig import ALICE, Node, answer, auth
from tests.store.test_timelines import post, remote_actor

PATH = "/api/v1/domain_blocks"


def _far_away(node: Node) -> tuple[str, int, int]:
    """eve@far.example, who alice follows and who follows alice, with a post;
    and zed@near.example's post."""

    def write(c: Any) -> tuple[str, int, int]:
        eve = remote_actor(c, "eve", "far.example")
        zed = remote_actor(c, "zed", "near.example")
        social.put_follow(c, ALICE, eve, "https://agora.test/f/1", "accepted", 1.0)
        social.put_follow(c, ALICE, zed, "https://agora.test/f/2", "accepted", 1.0)
        social.put_follow(c, eve, ALICE, "https://far.example/f/1", "accepted", 1.0)
        alice = accounts_store.get_account_by_actor_uri(c, ALICE)
        assert alice is not None
        social.add_notification(c, alice.id, "follow", eve, None, None, 2.0)
        return eve, post(c, eve), post(c, zed)

    return node.db.write_sync(write)  # type: ignore[no-any-return]


async def _ids(node: Node, path: str) -> list[str]:
    resp = await node.client.get(path, headers=auth(node.token))
    return [s["id"] for s in await answer(resp)]


async def test_a_blocked_server_leaves_timelines_notifications_and_follows(node: Node) -> None:
    eve, far_post, near_post = _far_away(node)
    assert {str(far_post), str(near_post)} <= set(await _ids(node, "/api/v1/timelines/home"))
    assert str(far_post) in await _ids(node, "/api/v1/timelines/public")
    done = await node.client.post(PATH, data={"domain": "Far.Example"}, headers=auth(node.token))
    assert done.status == 200 and await done.json() == {}
    home = await _ids(node, "/api/v1/timelines/home")
    assert str(far_post) not in home and str(near_post) in home
    assert str(far_post) not in await _ids(node, "/api/v1/timelines/public")
    notes = await answer(await node.client.get("/api/v1/notifications", headers=auth(node.token)))
    assert all(n["account"]["acct"] != "eve@far.example" for n in notes)
    assert node.db.read_sync(lambda c: social.get_follow(c, ALICE, eve)) is None
    assert node.db.read_sync(lambda c: social.get_follow(c, eve, ALICE)) is None
    listed = await node.client.get(PATH, headers=auth(node.token))
    assert await listed.json() == ["far.example"] and 'rel="next"' in listed.headers["Link"]
    again = await node.client.post(PATH, data={"domain": "far.example"}, headers=auth(node.token))
    assert again.status == 200  # blocking twice is fine
    lifted = await node.client.delete(f"{PATH}?domain=far.example", headers=auth(node.token))
    assert (
        lifted.status == 200
        and await (await node.client.get(PATH, headers=auth(node.token))).json() == []
    )
    assert str(far_post) in await _ids(node, "/api/v1/timelines/public")


async def test_bad_domain_blocks_are_refused(node: Node) -> None:
    for bad in ("", "not a domain", "agora.test", "a..b"):
        resp = await node.client.post(PATH, data={"domain": bad}, headers=auth(node.token))
        assert resp.status == 422, bad
    assert (await node.client.get(PATH)).status == 401
    assert await (await node.client.get(PATH, headers=auth(node.token))).json() == []
