from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from agora_node.context import DB
from agora_node.protocol.keys import ed25519_public_from_multibase, load_public_key
from agora_node.store import accounts as accounts_store
from tests.conftest import BASE_URL, add_account

AS = "application/activity+json"
LD = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'


@pytest.fixture
async def alice(client, settings):  # type: ignore[no-untyped-def]
    return add_account(client.server.app[DB], settings, "alice")


@pytest.mark.parametrize("accept", [AS, LD, "application/json", f"text/html;q=0.5, {AS}"])
async def test_actor_document(client, alice, accept: str) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/users/alice", headers={"Accept": accept})
    assert resp.status == 200
    assert resp.content_type == AS
    assert resp.headers["Vary"] == "Accept"
    doc = await resp.json(content_type=None)
    uri = f"{BASE_URL}/users/alice"
    assert doc["@context"][:2] == [
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1",
    ]
    assert doc["id"] == uri and doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    for key, suffix in (
        ("inbox", "/inbox"),
        ("outbox", "/outbox"),
        ("followers", "/followers"),
        ("following", "/following"),
        ("featured", "/collections/featured"),
    ):
        assert doc[key] == uri + suffix
    assert doc["endpoints"]["sharedInbox"] == f"{BASE_URL}/inbox"
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True and doc["indexable"] is True
    assert doc["url"] == f"{BASE_URL}/@alice"
    assert doc["published"].endswith("Z")
    assert doc["publicKey"]["id"] == uri + "#main-key"
    assert doc["publicKey"]["owner"] == uri
    assert isinstance(load_public_key(doc["publicKey"]["publicKeyPem"]), rsa.RSAPublicKey)
    method = doc["assertionMethod"][0]
    assert method["type"] == "Multikey" and method["controller"] == uri
    assert isinstance(
        ed25519_public_from_multibase(method["publicKeyMultibase"]), ed25519.Ed25519PublicKey
    )
    assert "PRIVATE" not in await resp.text()


async def test_actor_html_profile_is_escaped(client, alice) -> None:  # type: ignore[no-untyped-def]
    db = client.server.app[DB]
    await db.write(
        lambda c: accounts_store.set_account_profile(
            c, alice.id, {"display_name": "<script>x</script>"}
        )
    )
    resp = await client.get("/users/alice", headers={"Accept": "text/html,application/xhtml+xml"})
    assert resp.status == 200 and resp.content_type == "text/html"
    assert resp.headers["Vary"] == "Accept"
    text = await resp.text()
    assert "&lt;script&gt;x&lt;/script&gt;" in text and "<script>x" not in text
    assert "@alice@agora.test" in text
    page = await client.get("/@alice")
    assert page.status == 200 and "<!DOCTYPE html>" in await page.text()


async def test_actor_not_acceptable(client, alice) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/users/alice", headers={"Accept": "image/png"})
    assert resp.status == 406


async def test_unknown_and_deleted_actor(client, alice) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/users/nobody", headers={"Accept": AS})
    assert resp.status == 404
    await client.server.app[DB].write(
        lambda c: accounts_store.mark_account_deleted(c, alice.id, time.time())
    )
    resp = await client.get("/users/alice", headers={"Accept": AS})
    assert resp.status == 410
    doc = await resp.json(content_type=None)
    assert doc["type"] == "Tombstone" and doc["id"] == f"{BASE_URL}/users/alice"


async def test_instance_actor(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/actor", headers={"Accept": AS})
    doc = await resp.json(content_type=None)
    assert doc["type"] == "Application"
    assert doc["publicKey"]["id"] == f"{BASE_URL}/actor#main-key"
    assert "BEGIN PUBLIC KEY" in doc["publicKey"]["publicKeyPem"]


@pytest.mark.parametrize("name", ["outbox", "followers", "following", "collections/featured"])
async def test_empty_collections(client, alice, name: str) -> None:  # type: ignore[no-untyped-def]
    uri = f"{BASE_URL}/users/alice/{name}"
    resp = await client.get(f"/users/alice/{name}", headers={"Accept": AS})
    doc = await resp.json(content_type=None)
    assert doc["type"] == "OrderedCollection" and doc["id"] == uri
    assert doc["totalItems"] == 0 and doc["first"] == f"{uri}?page=true"
    page = await (await client.get(f"/users/alice/{name}?page=true")).json(content_type=None)
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == uri
    assert page["orderedItems"] == [] and "next" not in page and "prev" not in page


async def test_followers_paging(client, alice) -> None:  # type: ignore[no-untyped-def]
    db = client.server.app[DB]
    uri = f"{BASE_URL}/users/alice"

    def add(c):  # type: ignore[no-untyped-def]
        for i in range(45):
            c.execute(
                "INSERT INTO follows (follower_uri, followee_uri, state, created_at) "
                "VALUES (?, ?, 'accepted', 0)",
                [f"https://r.example/u/{i}", uri],
            )

    await db.write(add)
    coll = await (await client.get("/users/alice/followers")).json(content_type=None)
    assert coll["totalItems"] == 45
    seen: list[str] = []
    url = coll["first"]
    pages = 0
    while url:
        page = await (await client.get(url.replace(BASE_URL, ""))).json(content_type=None)
        seen += page["orderedItems"]
        pages += 1
        url = page.get("next")
        if pages > 1:
            assert "prev" in page
    assert pages == 3
    assert seen == [f"https://r.example/u/{i}" for i in reversed(range(45))]
    # prev from the last page goes back to the newer items
    assert (await client.get("/users/alice/followers?max_id=x")).status == 400


async def test_errors_are_rendered_without_traces(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/no/such/route", headers={"Accept": "application/json"})
    assert resp.status == 404 and await resp.json() == {"error": "not found"}
    resp = await client.get("/no/such/route", headers={"Accept": "text/html"})
    assert resp.status == 404 and "<h1>404</h1>" in await resp.text()
    resp = await client.delete("/users/alice")
    assert resp.status == 405 and "GET" in resp.headers.get("Allow", "")
