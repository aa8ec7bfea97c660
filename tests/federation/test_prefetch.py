"""What the inbox worker fetches before processing: threads, objects by URI, boosts."""

from __future__ import annotations

from typing import Any

from agora_node.app import create_app
from agora_node.context import DB
from agora_node.store import objects as objects_store
from tests.conftest import add_account, make_settings
from tests.federation.remote import FakeRemote, RemoteActor
from tests.federation.test_inbox import post, wait_for

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(actor: RemoteActor, text: str, parent: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor.new_id("notes"),
        "type": "Note",
        "attributedTo": actor.uri,
        "content": f"<p>{text}</p>",
        "to": [PUBLIC],
        "published": "2026-11-20T10:00:00Z",
    }
    if parent:
        doc["inReplyTo"] = parent
    return doc


def create(actor: RemoteActor, obj: Any) -> dict[str, Any]:
    return {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": actor.new_id(),
        "type": "Create",
        "actor": actor.uri,
        "object": obj,
        "to": [PUBLIC],
    }


async def node_for(aiohttp_client: Any, tmp_path: Any, remote: FakeRemote, **fed: Any) -> Any:
    settings = make_settings(tmp_path, federation={"plain_http_hosts": [remote.netloc], **fed})
    client = await aiohttp_client(create_app(settings))
    add_account(client.server.app[DB], settings, "alice")
    return client


async def known(client: Any, uri: str) -> bool:
    db = client.server.app[DB]
    return await db.read(lambda c: objects_store.get_object(c, uri)) is not None


async def test_reply_fetches_parent_chain_within_budget(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    client = await node_for(aiohttp_client, tmp_path, remote, thread_fetch_depth=2)
    bob = remote.add_actor("bob")
    root = note(bob, "root")
    middle = note(bob, "middle", root["id"])
    parent = note(bob, "parent", middle["id"])
    for doc in (root, middle, parent):
        remote.objects[doc["id"]] = doc
    reply = note(bob, "reply", parent["id"])
    assert (await post(client, bob, create(bob, reply), path="/inbox")).status == 202
    await wait_for(lambda: known(client, reply["id"]))
    assert await known(client, parent["id"]) and await known(client, middle["id"])
    # The depth budget (2) stops the walk before the root.
    assert not await known(client, root["id"])
    fetched = {r.path for r in remote.fetches()}
    assert root["id"].removeprefix(remote.base) not in fetched


async def test_create_by_uri_is_fetched_from_its_origin(aiohttp_client, tmp_path, remote) -> None:  # type: ignore[no-untyped-def]
    client = await node_for(aiohttp_client, tmp_path, remote)
    bob = remote.add_actor("bob")
    doc = note(bob, "by reference")
    remote.objects[doc["id"]] = doc
    assert (await post(client, bob, create(bob, doc["id"]), path="/inbox")).status == 202
    await wait_for(lambda: known(client, doc["id"]))


async def test_boost_of_someone_elses_post_is_fetched_not_trusted(
    aiohttp_client, tmp_path, remote
) -> None:  # type: ignore[no-untyped-def]
    client = await node_for(aiohttp_client, tmp_path, remote)
    bob = remote.add_actor("bob")
    carol = remote.add_actor("carol")
    original = note(carol, "the real text")
    remote.objects[original["id"]] = original
    forged = {**original, "content": "<p>words carol never wrote</p>"}
    announce = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": bob.new_id(),
        "type": "Announce",
        "actor": bob.uri,
        "object": forged,
        "to": [PUBLIC],
    }
    assert (await post(client, bob, announce, path="/inbox")).status == 202
    await wait_for(lambda: known(client, announce["id"]))
    db = client.server.app[DB]
    stored = await db.read(lambda c: objects_store.get_object(c, original["id"]))
    assert stored is not None and "the real text" in stored.content
    assert original["id"].removeprefix(remote.base) in {r.path for r in remote.fetches()}
