"""Signed GETs of actor documents and collections (authorized fetch)."""

from __future__ import annotations

from typing import Any

import pytest

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.protocol.httpsig import sign_request
from agora_node.store import objects as objects_store
from agora_node.store import social
from tests.conftest import BASE_URL, add_account, make_settings
from tests.federation.remote import FakeRemote, RemoteActor

AS = "application/activity+json"


async def make_node(aiohttp_client: Any, tmp_path: Any, remote: FakeRemote, **fed: Any) -> Any:
    settings = make_settings(tmp_path, federation={"plain_http_hosts": [remote.netloc], **fed})
    client = await aiohttp_client(create_app(settings, run_workers=False))
    add_account(client.server.app[DB], settings, "alice")
    return client


def signed_get(actor: RemoteActor, path: str) -> dict[str, str]:
    return sign_request("GET", BASE_URL + path, {"Accept": AS}, None, actor.key)


@pytest.mark.parametrize("path", ["/users/alice", "/users/alice/followers"])
async def test_authorized_fetch_requires_a_signature(
    aiohttp_client, tmp_path, remote, path
) -> None:  # type: ignore[no-untyped-def]
    node = await make_node(aiohttp_client, tmp_path, remote, authorized_fetch=True)
    unsigned = await node.get(path, headers={"Accept": AS})
    assert unsigned.status == 401
    assert (await unsigned.json())["reason"] == "missing_signature"
    bob = remote.add_actor("bob")
    signed = await node.get(path, headers=signed_get(bob, path))
    assert signed.status == 200
    # The instance actor stays fetchable without a signature (it signs our own fetches).
    assert (await node.get("/actor", headers={"Accept": AS})).status == 200


async def test_forged_signature_on_get_is_refused(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    node = await make_node(aiohttp_client, tmp_path, remote)
    bob = remote.add_actor("bob")
    headers = signed_get(bob, "/users/alice")
    bob.rotate_key()  # the served key no longer matches the signature
    resp = await node.get("/users/alice/following", headers=headers)
    assert resp.status == 401
    assert (await node.get("/users/alice", headers={"Accept": AS})).status == 200


async def test_followers_see_followers_only_posts_in_the_outbox(
    aiohttp_client, tmp_path, remote
) -> None:  # type: ignore[no-untyped-def]
    node = await make_node(aiohttp_client, tmp_path, remote)
    db = node.server.app[DB]
    alice = f"{BASE_URL}/users/alice"
    bob = remote.add_actor("bob")
    mallory = remote.add_actor("mallory")
    create = {"id": f"{alice}/activities/1", "type": "Create", "actor": alice,
              "object": f"{alice}/statuses/1", "to": [f"{alice}/followers"]}  # fmt: skip

    def setup(c):  # type: ignore[no-untyped-def]
        objects_store.put_activity(
            c,
            uri=create["id"],
            type="Create",
            actor_uri=alice,
            object_uri=create["object"],
            local=True,
            visibility="private",
            data=create,
            created_at=0,
        )
        social.put_follow(c, bob.uri, alice, None, "accepted", 0)

    await db.write(setup)
    path = "/users/alice/outbox?page=true"
    as_follower = await (await node.get(path, headers=signed_get(bob, path))).json(
        content_type=None
    )
    assert [i["id"] for i in as_follower["orderedItems"]] == [create["id"]]
    as_stranger = await (await node.get(path, headers=signed_get(mallory, path))).json(
        content_type=None
    )
    assert as_stranger["orderedItems"] == []
    unsigned = await (await node.get(path, headers={"Accept": AS})).json(content_type=None)
    assert unsigned["orderedItems"] == []
