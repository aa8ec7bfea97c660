"""Accounts and relationships through the Mastodon API on a live app."""

from __future__ import annotations

from typing import Any

from tests.api.c2s_rig import Node, account, settle, store_remote_actor, token_for


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _json(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _id_of(node: Node, uri: str) -> str:
    (row,) = await node.rows("SELECT id FROM actors WHERE uri = ?", uri)
    return str(row[0])


async def _post(node: Node, token: str, **form: str) -> dict[str, Any]:
    resp = await node.client.post("/api/v1/statuses", data=form, headers=_h(token))
    return dict(await _json(resp))


async def test_lookup_account_and_its_statuses(node) -> None:  # type: ignore[no-untyped-def]
    me = await _json(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(node.token))
    )
    found = await _json(await node.client.get("/api/v1/accounts/lookup?acct=alice"))
    assert found["id"] == me["id"] and found["acct"] == "alice"
    also = await _json(await node.client.get("/api/v1/accounts/lookup?acct=alice@agora.test"))
    assert also["id"] == me["id"]
    await _json(await node.client.get("/api/v1/accounts/lookup?acct=nobody"), 404)
    await _json(await node.client.get("/api/v1/accounts/lookup?acct=a@b@c"), 404)
    await _json(await node.client.get("/api/v1/accounts/lookup"), 400)
    first = await _post(node, node.token, status="first #garden")
    reply = await _post(node, node.token, status="a reply", in_reply_to_id=first["id"])
    secret = await _post(node, node.token, status="friends only", visibility="private")
    path = f"/api/v1/accounts/{me['id']}/statuses"
    anonymous = await _json(await node.client.get(path))
    assert [s["id"] for s in anonymous] == [reply["id"], first["id"]]
    mine = await _json(await node.client.get(path, headers=_h(node.token)))
    assert [s["id"] for s in mine] == [secret["id"], reply["id"], first["id"]]
    no_replies = await _json(await node.client.get(f"{path}?exclude_replies=true"))
    assert [s["id"] for s in no_replies] == [first["id"]]
    tagged = await _json(await node.client.get(f"{path}?tagged=Garden"))
    assert [s["id"] for s in tagged] == [first["id"]]
    paged = await node.client.get(f"{path}?limit=1")
    assert len(await paged.json()) == 1 and 'rel="next"' in paged.headers["Link"]
    await _json(await node.client.get(f"{path}?exclude_replies=maybe"), 400)
    await _json(await node.client.get("/api/v1/accounts/999999/statuses"), 404)


async def test_follow_unfollow_and_lists(node) -> None:  # type: ignore[no-untyped-def]
    bob = account(node.db, node.settings, "bob")
    assert bob.actor is not None
    bob_id = await _id_of(node, bob.actor.uri)
    one = f"/api/v1/accounts/{bob_id}"
    for _ in range(2):  # asking twice is not an error
        rel = await _json(await node.client.post(f"{one}/follow", headers=_h(node.token)))
        assert rel["id"] == bob_id and rel["following"] is True and rel["requested"] is False
    followers = await _json(await node.client.get(f"{one}/followers"))
    assert [a["acct"] for a in followers] == ["alice"]
    me = await _json(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(node.token))
    )
    following = await _json(await node.client.get(f"/api/v1/accounts/{me['id']}/following"))
    assert [a["acct"] for a in following] == ["bob"]
    bob_token = token_for(node.db, bob)
    rels = await _json(
        await node.client.get(
            f"/api/v1/accounts/relationships?id[]={me['id']}&id[]=999999", headers=_h(bob_token)
        )
    )
    assert rels == [{**rels[0], "id": me["id"], "followed_by": True, "following": False}]
    for _ in range(2):
        rel = await _json(await node.client.post(f"{one}/unfollow", headers=_h(node.token)))
        assert rel["following"] is False
    assert await _json(await node.client.get(f"{one}/followers")) == []
    self_follow = await node.client.post(
        f"/api/v1/accounts/{me['id']}/follow", headers=_h(node.token)
    )
    assert self_follow.status == 422
    read_only = token_for(node.db, node.alice, "read")
    assert (await node.client.post(f"{one}/follow", headers=_h(read_only))).status == 403


async def test_locked_account_requests_and_blocks(node) -> None:  # type: ignore[no-untyped-def]
    dan = account(node.db, node.settings, "dan", locked=True)
    dan_token = token_for(node.db, dan)
    assert dan.actor is not None
    dan_id = await _id_of(node, dan.actor.uri)
    rel = await _json(
        await node.client.post(f"/api/v1/accounts/{dan_id}/follow", headers=_h(node.token))
    )
    assert rel["following"] is False and rel["requested"] is True
    requests = await _json(await node.client.get("/api/v1/follow_requests", headers=_h(dan_token)))
    assert [a["acct"] for a in requests] == ["alice"]
    alice_id = requests[0]["id"]
    rel = await _json(
        await node.client.post(
            f"/api/v1/follow_requests/{alice_id}/authorize", headers=_h(dan_token)
        )
    )
    assert rel["followed_by"] is True and rel["requested_by"] is False
    again = await node.client.post(
        f"/api/v1/follow_requests/{alice_id}/authorize", headers=_h(dan_token)
    )
    assert again.status == 404
    rel = await _json(
        await node.client.post(f"/api/v1/accounts/{alice_id}/block", headers=_h(dan_token))
    )
    assert rel["blocking"] is True and rel["followed_by"] is False
    blocks = await _json(await node.client.get("/api/v1/blocks", headers=_h(dan_token)))
    assert [a["acct"] for a in blocks] == ["alice"]
    seen = await _json(
        await node.client.get(f"/api/v1/accounts/relationships?id={dan_id}", headers=_h(node.token))
    )
    assert seen[0]["blocked_by"] is True
    rel = await _json(
        await node.client.post(f"/api/v1/accounts/{alice_id}/unblock", headers=_h(dan_token))
    )
    assert rel["blocking"] is False


async def test_remote_follow_and_search_with_resolve(node, remotes) -> None:  # type: ignore[no-untyped-def]
    a, b, _ = remotes
    carol = a.add_actor("carol")
    erin = b.add_actor("erin")
    store_remote_actor(node.db, carol)
    carol_id = await _id_of(node, carol.uri)
    rel = await _json(
        await node.client.post(f"/api/v1/accounts/{carol_id}/follow", headers=_h(node.token))
    )
    assert rel["requested"] is True and rel["following"] is False
    await settle(node)
    (sent,) = a.inbox_posts()
    assert sent["type"] == "Follow" and sent["object"] == carol.uri
    found = await _json(
        await node.client.get("/api/v1/accounts/search?q=car", headers=_h(node.token))
    )
    assert [x["acct"] for x in found] == [f"carol@{a.netloc}"]
    assert (
        await _json(
            await node.client.get(
                f"/api/v1/accounts/search?q={b.handle(erin)}", headers=_h(node.token)
            )
        )
        == []
    )
    resolved = await _json(
        await node.client.get(
            f"/api/v1/accounts/search?q={b.handle(erin)}&resolve=true", headers=_h(node.token)
        )
    )
    assert [x["acct"] for x in resolved] == [f"erin@{b.netloc}"]
    assert b.webfinger_requests()
    assert (await node.client.get("/api/v1/accounts/search?q=x")).status == 401
