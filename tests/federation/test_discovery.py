from __future__ import annotations

import time

import pytest

from agora_node.store import accounts as accounts_store
from tests.conftest import BASE_URL, DOMAIN, add_account

AS = "application/activity+json"


@pytest.fixture
async def alice(client, settings):  # type: ignore[no-untyped-def]
    from agora_node.context import DB

    db = client.server.app[DB]
    return add_account(db, settings, "alice")


async def test_webfinger_acct_and_url(client, alice) -> None:  # type: ignore[no-untyped-def]
    for resource in (
        f"acct:alice@{DOMAIN}",
        f"acct:ALICE@{DOMAIN.upper()}",
        f"{BASE_URL}/users/alice",
    ):
        resp = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert resp.status == 200, resource
        assert resp.headers["Access-Control-Allow-Origin"] == "*"
        assert resp.content_type == "application/jrd+json"
        body = await resp.json(content_type=None)
        assert body["subject"] == f"acct:alice@{DOMAIN}"
        assert f"{BASE_URL}/users/alice" in body["aliases"]
        links = {link["rel"]: link for link in body["links"]}
        assert links["self"] == {"rel": "self", "type": AS, "href": f"{BASE_URL}/users/alice"}
        assert links["http://webfinger.net/rel/profile-page"]["href"] == f"{BASE_URL}/@alice"


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        (f"acct:nobody@{DOMAIN}", 404),
        ("acct:alice@elsewhere.example", 400),
        ("acct:", 400),
        ("nonsense", 400),
        ("", 400),
        ("https://elsewhere.example/users/alice", 400),
    ],
)
async def test_webfinger_errors(client, alice, resource: str, status: int) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert resp.status == status
    assert "error" in await resp.json()


async def test_webfinger_missing_resource(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/.well-known/webfinger")
    assert resp.status == 400


async def test_host_meta(client) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/.well-known/host-meta")
    assert resp.status == 200 and resp.content_type == "application/xrd+xml"
    text = await resp.text()
    assert f'template="{BASE_URL}/.well-known/webfinger?resource={{uri}}"' in text
    resp = await client.get("/.well-known/host-meta.json")
    body = await resp.json()
    assert body["links"][0]["rel"] == "lrdd"


async def test_nodeinfo_both_versions(client, alice) -> None:  # type: ignore[no-untyped-def]
    resp = await client.get("/.well-known/nodeinfo")
    links = (await resp.json())["links"]
    rels = {link["rel"]: link["href"] for link in links}
    assert rels == {
        "http://nodeinfo.diaspora.software/ns/schema/2.0": f"{BASE_URL}/nodeinfo/2.0",
        "http://nodeinfo.diaspora.software/ns/schema/2.1": f"{BASE_URL}/nodeinfo/2.1",
    }
    for version in ("2.0", "2.1"):
        resp = await client.get(f"/nodeinfo/{version}")
        assert resp.status == 200
        assert f"schema/{version}#" in resp.headers["Content-Type"]
        body = await resp.json(content_type=None)
        assert body["version"] == version
        assert body["software"]["name"] == "agora"
        assert body["protocols"] == ["activitypub"]
        assert body["usage"]["users"] == {"total": 1, "activeMonth": 1, "activeHalfyear": 1}
        assert body["usage"]["localPosts"] == 0
        assert body["openRegistrations"] is False
        assert body["metadata"]["nodeName"] == "Test Agora"
    assert (await client.get("/nodeinfo/3.0")).status == 404


async def test_deleted_account_webfinger_410(client, alice) -> None:  # type: ignore[no-untyped-def]
    from agora_node.context import DB

    db = client.server.app[DB]
    await db.write(lambda c: accounts_store.mark_account_deleted(c, alice.id, time.time()))
    resp = await client.get("/.well-known/webfinger", params={"resource": f"acct:alice@{DOMAIN}"})
    assert resp.status == 410
