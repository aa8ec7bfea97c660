"""Handles and URIs to actors (WebFinger with loop-back), and unknown posts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from agora_node.context import DB, URLS
from agora_node.errors import AgoraError, NotFound, UnprocessableEntity
from agora_node.federation.resolve import Resolver, self_link, split_handle
from agora_node.federation.services import FETCHER
from agora_node.store import accounts as accounts_store
from tests.api.c2s_rig import AS_JSON, Node, WebFingerRemote, remote_note, start_node
from tests.conftest import BASE_URL, DOMAIN, add_account


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        ("@bob@Social.Example", ("bob", "social.example")),
        ("bob@social.example.", ("bob", "social.example")),
        ("acct:bob@social.example:8443", ("bob", "social.example:8443")),
        ("@bob", ("bob", DOMAIN)),
        ("bob", ("bob", DOMAIN)),
    ],
)
def test_split_handle(handle: str, expected: tuple[str, str]) -> None:
    assert split_handle(handle, DOMAIN) == expected


@pytest.mark.parametrize(
    "handle", ["", "@", "bob@", "@a@b@c", "bob@invalid..host", "bob@ho st", "bob@" + "x" * 64]
)
def test_split_handle_refuses(handle: str) -> None:
    with pytest.raises(UnprocessableEntity):
        split_handle(handle, DOMAIN)


def test_self_link_wants_the_activitypub_link() -> None:
    jrd = {
        "links": [
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": "x"},
            {"rel": "self", "type": "text/html", "href": "https://wrong.example"},
            {"rel": "self", "type": f'{AS_JSON}; charset="utf-8"', "href": "https://a.example/u"},
        ]
    }
    assert self_link(jrd) == "https://a.example/u"
    assert self_link({"links": "nonsense"}) is None


@pytest.fixture
async def remotes() -> AsyncIterator[list[WebFingerRemote]]:
    servers = [await WebFingerRemote.start() for _ in range(2)]
    yield servers
    for server in servers:
        await server.close()


@pytest.fixture
async def node(
    aiohttp_client: Callable[..., Any], tmp_path: Path, remotes: list[WebFingerRemote]
) -> Node:
    return await start_node(aiohttp_client, tmp_path, list(remotes))


def resolver(node: Node) -> Resolver:
    app = node.client.server.app
    return Resolver(app[DB], app[FETCHER], app[URLS], node.settings.domain)


async def test_handle_is_resolved_stored_and_cached(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    bob = a.add_actor("bob")
    found = await resolver(node).actor_by_handle(a.handle(bob))
    assert found.uri == bob.uri and found.acct == f"bob@{a.netloc}"
    key = await node.db.read(lambda c: accounts_store.get_public_key(c, bob.key_id))
    assert key is not None and key.actor_uri == bob.uri
    fetches = len(a.requests)
    again = await resolver(node).actor_by_handle(f"acct:BOB@{a.netloc}")
    assert again.uri == bob.uri and len(a.requests) == fetches


async def test_local_handle_needs_no_network(node, remotes) -> None:  # type: ignore[no-untyped-def]
    found = await resolver(node).actor_by_handle(f"@alice@{DOMAIN}")
    assert found.uri == f"{BASE_URL}/users/alice" and found.local
    with pytest.raises(NotFound):
        await resolver(node).actor_by_handle("@nobody")


async def test_a_handle_on_another_domain_must_loop_back(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b = remotes
    carol = b.add_actor("carol")
    # a.example answers for "bob@a" with carol's actor on b, and b agrees that
    # carol@b is carol: a split domain, accepted.
    a.webfinger[f"acct:bob@{a.netloc}"] = carol.uri
    found = await resolver(node).actor_by_handle(f"bob@{a.netloc}")
    assert found.uri == carol.uri
    assert len(b.webfinger_requests()) == 1


async def test_a_webfinger_claim_the_actor_denies_is_refused(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b = remotes
    carol = b.add_actor("carol")
    a.webfinger[f"acct:mallory@{a.netloc}"] = carol.uri
    b.webfinger[f"acct:carol@{b.netloc}"] = None  # b does not know this handle
    with pytest.raises(UnprocessableEntity, match="lead back"):
        await resolver(node).actor_by_handle(f"mallory@{a.netloc}")
    # The actor that was fetched is not kept under the forged handle.
    assert await node.db.read(lambda c: accounts_store.get_actor_by_uri(c, carol.uri)) is None


async def test_a_remote_handle_never_names_a_local_actor(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    a.webfinger[f"acct:alice@{a.netloc}"] = f"{BASE_URL}/users/alice"
    with pytest.raises(UnprocessableEntity, match="local account"):
        await resolver(node).actor_by_handle(f"alice@{a.netloc}")
    alice = await node.db.read(
        lambda c: accounts_store.get_actor_by_uri(c, f"{BASE_URL}/users/alice")
    )
    assert alice is not None and alice.local


async def test_unknown_handles_and_non_actors(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a = remotes[0]
    bob = a.add_actor("bob")
    post = remote_note(a, bob)
    r = resolver(node)
    with pytest.raises(UnprocessableEntity, match="could not be found"):
        await r.actor_by_handle(f"nobody@{a.netloc}")
    with pytest.raises(UnprocessableEntity, match="not an account"):
        await r.actor_by_uri(post["id"])
    found = await r.mentions([f"nobody@{a.netloc}", f"bob@{a.netloc}"])
    assert list(found) == [f"bob@{a.netloc}"] and found[f"bob@{a.netloc}"].actor_uri == bob.uri


async def test_unknown_post_is_fetched_with_its_author(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b = remotes
    bob = a.add_actor("bob")
    post = remote_note(a, bob)
    r = resolver(node)
    doc = await r.unknown_post(post["id"])
    assert doc is not None and doc["id"] == post["id"]
    assert await node.db.read(lambda c: accounts_store.get_actor_by_uri(c, bob.uri)) is not None
    assert await r.unknown_post(f"{BASE_URL}/users/alice/statuses/x") is None
    # A post that claims an author on another server is not used.
    carol = b.add_actor("carol")
    forged = remote_note(a, bob, attributedTo=carol.uri)
    with pytest.raises(UnprocessableEntity, match="not a post"):
        await r.unknown_post(forged["id"])
    with pytest.raises(AgoraError):
        await r.unknown_post(f"{a.base}/nothing/here")


async def test_deleted_local_account_is_not_found(node) -> None:  # type: ignore[no-untyped-def]
    gone = add_account(node.db, node.settings, "gone")
    node.db.write_sync(lambda c: accounts_store.mark_account_deleted(c, gone.id, 1.0))
    with pytest.raises(NotFound):
        await resolver(node).actor_by_handle("@gone")
