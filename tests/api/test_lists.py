"""Lists through the Mastodon API: making them, their members, their timelines and stream."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from tests.api.c2s_rig import Node, account, answer, auth, post_status, token_for


async def _ids(node: Node, path: str) -> list[str]:
    return [s["id"] for s in await answer(await node.client.get(path, headers=auth(node.token)))]


async def _people(node: Node, *names: str) -> list[tuple[str, str]]:
    """Local accounts alice follows: (token, account id) each."""
    out = []
    for name in names:
        token = token_for(node.db, account(node.db, node.settings, name))
        me = await answer(
            await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(token))
        )
        await answer(
            await node.client.post(f"/api/v1/accounts/{me['id']}/follow", headers=auth(node.token))
        )
        out.append((token, me["id"]))
    return out


async def test_list_crud_and_members(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (_, carl) = await _people(node, "bob", "carl")
    made = await answer(
        await node.client.post("/api/v1/lists", data={"title": "Garden"}, headers=auth(node.token))
    )
    assert made == {**made, "title": "Garden", "replies_policy": "list", "exclusive": False}
    one = f"/api/v1/lists/{made['id']}"
    await answer(
        await node.client.post(
            f"{one}/accounts", data={"account_ids[]": [bob, carl]}, headers=auth(node.token)
        )
    )
    members = await answer(await node.client.get(f"{one}/accounts", headers=auth(node.token)))
    assert sorted(a["id"] for a in members) == sorted([bob, carl])
    holding = await answer(
        await node.client.get(f"/api/v1/accounts/{bob}/lists", headers=auth(node.token))
    )
    assert [x["id"] for x in holding] == [made["id"]]
    changed = await answer(
        await node.client.put(
            one,
            json={"title": "Veg", "replies_policy": "none", "exclusive": True},
            headers=auth(node.token),
        )
    )
    assert changed == {
        "id": made["id"],
        "title": "Veg",
        "replies_policy": "none",
        "exclusive": True,
    }
    assert await answer(await node.client.get(one, headers=auth(node.token))) == changed
    await answer(
        await node.client.delete(
            f"{one}/accounts", data={"account_ids[]": carl}, headers=auth(node.token)
        )
    )
    members = await answer(await node.client.get(f"{one}/accounts", headers=auth(node.token)))
    assert [a["id"] for a in members] == [bob]
    # Someone else's list is not there for them, and bad input changes nothing.
    assert (await node.client.get(one, headers=auth(bob_token))).status == 404
    assert (await node.client.delete(one, headers=auth(bob_token))).status == 404
    dan = token_for(node.db, account(node.db, node.settings, "dan"))
    dan_me = await answer(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=auth(dan))
    )
    for bad in (
        {"account_ids[]": dan_me["id"]},  # not followed
        {"account_ids[]": "99999"},
        {"account_ids[]": "x"},
        {},
    ):
        resp = await node.client.post(f"{one}/accounts", data=bad, headers=auth(node.token))
        assert resp.status == 422, bad
    for bad_list in ({"title": ""}, {"title": "x" * 256}, {"title": "a", "replies_policy": "all"}):
        resp = await node.client.post("/api/v1/lists", data=bad_list, headers=auth(node.token))
        assert resp.status == 422, bad_list
    assert (
        await node.client.put(one, json={"exclusive": "perhaps"}, headers=auth(node.token))
    ).status == 422
    assert await answer(await node.client.get(one, headers=auth(node.token))) == changed
    assert (await node.client.get("/api/v1/lists")).status == 401
    await answer(await node.client.delete(one, headers=auth(node.token)))
    assert await answer(await node.client.get("/api/v1/lists", headers=auth(node.token))) == []


async def test_list_timeline_replies_policy_and_exclusive(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (carl_token, _) = await _people(node, "bob", "carl")
    dan_token = token_for(node.db, account(node.db, node.settings, "dan"))
    made = await answer(
        await node.client.post("/api/v1/lists", data={"title": "Bob"}, headers=auth(node.token))
    )
    one = f"/api/v1/lists/{made['id']}"
    await answer(
        await node.client.post(
            f"{one}/accounts", data={"account_ids[]": bob}, headers=auth(node.token)
        )
    )
    said = await post_status(node, bob_token, status="bob speaks")
    to_self = await post_status(node, bob_token, status="and again", in_reply_to_id=said["id"])
    carl_post = await post_status(node, carl_token, status="carl speaks")
    to_carl = await post_status(node, bob_token, status="@carl hi", in_reply_to_id=carl_post["id"])
    dan_post = await post_status(node, dan_token, status="dan speaks")
    to_dan = await post_status(node, bob_token, status="@dan hi", in_reply_to_id=dan_post["id"])
    timeline = f"/api/v1/timelines/list/{made['id']}"
    # "list": replies to members (bob himself) only.
    assert await _ids(node, timeline) == [to_self["id"], said["id"]]
    await answer(
        await node.client.put(one, json={"replies_policy": "followed"}, headers=auth(node.token))
    )
    assert await _ids(node, timeline) == [to_carl["id"], to_self["id"], said["id"]]
    await answer(
        await node.client.put(one, json={"replies_policy": "none"}, headers=auth(node.token))
    )
    assert await _ids(node, timeline) == [said["id"]]
    assert to_dan["id"] not in await _ids(node, timeline)
    # Exclusive: bob's posts leave the home timeline (they are read in the list).
    assert said["id"] in await _ids(node, "/api/v1/timelines/home")
    await answer(await node.client.put(one, json={"exclusive": True}, headers=auth(node.token)))
    home = await _ids(node, "/api/v1/timelines/home")
    assert said["id"] not in home and carl_post["id"] in home
    # Unfollowing takes bob out of the list.
    await answer(
        await node.client.post(f"/api/v1/accounts/{bob}/unfollow", headers=auth(node.token))
    )
    assert await answer(await node.client.get(f"{one}/accounts", headers=auth(node.token))) == []
    assert await _ids(node, timeline) == []
    assert (
        await node.client.get("/api/v1/timelines/list/99999", headers=auth(node.token))
    ).status == 404


async def test_a_list_stream_carries_its_members_posts(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (carl_token, _) = await _people(node, "bob", "carl")
    made = await answer(
        await node.client.post("/api/v1/lists", data={"title": "Bob"}, headers=auth(node.token))
    )
    await answer(
        await node.client.post(
            f"/api/v1/lists/{made['id']}/accounts",
            data={"account_ids[]": bob},
            headers=auth(node.token),
        )
    )
    async with node.client.ws_connect(f"/api/v1/streaming?access_token={node.token}") as ws:
        await ws.send_json({"type": "subscribe", "stream": "list", "list": "99999"})
        error = json.loads((await ws.receive()).data)
        assert "error" in error
        await ws.send_json({"type": "subscribe", "stream": "list", "list": made["id"]})
        await asyncio.sleep(0.3)
        await post_status(node, carl_token, status="not in the list")
        mine = await post_status(node, bob_token, status="in the list")
        async with asyncio.timeout(5):
            msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.TEXT
        data = json.loads(msg.data)
        assert data["stream"] == ["list", made["id"]] and data["event"] == "update"
        assert json.loads(data["payload"])["id"] == mine["id"]
    other = token_for(node.db, account(node.db, node.settings, "erin"))
    resp = await node.client.get(f"/api/v1/streaming/list?list={made['id']}&access_token={other}")
    assert resp.status == 400
