"""Lists through the Mastodon API: making them, their members, their timelines and stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from tests.api.c2s_rig import Node, account, token_for


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _json(resp: Any, status: int = 200) -> Any:
    assert resp.status == status, await resp.text()
    return await resp.json()


async def _post(node: Node, token: str, **form: str) -> dict[str, Any]:
    return dict(
        await _json(await node.client.post("/api/v1/statuses", data=form, headers=_h(token)))
    )


async def _ids(node: Node, path: str) -> list[str]:
    return [s["id"] for s in await _json(await node.client.get(path, headers=_h(node.token)))]


async def _people(node: Node, *names: str) -> list[tuple[str, str]]:
    """Local accounts alice follows: (token, account id) each."""
    out = []
    for name in names:
        token = token_for(node.db, account(node.db, node.settings, name))
        me = await _json(
            await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(token))
        )
        await _json(
            await node.client.post(f"/api/v1/accounts/{me['id']}/follow", headers=_h(node.token))
        )
        out.append((token, me["id"]))
    return out


async def test_list_crud_and_members(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (_, carl) = await _people(node, "bob", "carl")
    made = await _json(
        await node.client.post("/api/v1/lists", data={"title": "Garden"}, headers=_h(node.token))
    )
    assert made == {**made, "title": "Garden", "replies_policy": "list", "exclusive": False}
    one = f"/api/v1/lists/{made['id']}"
    await _json(
        await node.client.post(
            f"{one}/accounts", data={"account_ids[]": [bob, carl]}, headers=_h(node.token)
        )
    )
    members = await _json(await node.client.get(f"{one}/accounts", headers=_h(node.token)))
    assert sorted(a["id"] for a in members) == sorted([bob, carl])
    holding = await _json(
        await node.client.get(f"/api/v1/accounts/{bob}/lists", headers=_h(node.token))
    )
    assert [x["id"] for x in holding] == [made["id"]]
    changed = await _json(
        await node.client.put(
            one,
            json={"title": "Veg", "replies_policy": "none", "exclusive": True},
            headers=_h(node.token),
        )
    )
    assert changed == {
        "id": made["id"],
        "title": "Veg",
        "replies_policy": "none",
        "exclusive": True,
    }
    assert await _json(await node.client.get(one, headers=_h(node.token))) == changed
    await _json(
        await node.client.delete(
            f"{one}/accounts", data={"account_ids[]": carl}, headers=_h(node.token)
        )
    )
    members = await _json(await node.client.get(f"{one}/accounts", headers=_h(node.token)))
    assert [a["id"] for a in members] == [bob]
    # Someone else's list is not there for them, and bad input changes nothing.
    assert (await node.client.get(one, headers=_h(bob_token))).status == 404
    assert (await node.client.delete(one, headers=_h(bob_token))).status == 404
    dan = token_for(node.db, account(node.db, node.settings, "dan"))
    dan_me = await _json(
        await node.client.get("/api/v1/accounts/verify_credentials", headers=_h(dan))
    )
    for bad in (
        {"account_ids[]": dan_me["id"]},  # not followed
        {"account_ids[]": "99999"},
        {"account_ids[]": "x"},
        {},
    ):
        resp = await node.client.post(f"{one}/accounts", data=bad, headers=_h(node.token))
        assert resp.status == 422, bad
    for bad_list in ({"title": ""}, {"title": "x" * 256}, {"title": "a", "replies_policy": "all"}):
        resp = await node.client.post("/api/v1/lists", data=bad_list, headers=_h(node.token))
        assert resp.status == 422, bad_list
    assert (
        await node.client.put(one, json={"exclusive": "perhaps"}, headers=_h(node.token))
    ).status == 422
    assert await _json(await node.client.get(one, headers=_h(node.token))) == changed
    assert (await node.client.get("/api/v1/lists")).status == 401
    await _json(await node.client.delete(one, headers=_h(node.token)))
    assert await _json(await node.client.get("/api/v1/lists", headers=_h(node.token))) == []


async def test_list_timeline_replies_policy_and_exclusive(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (carl_token, _) = await _people(node, "bob", "carl")
    dan_token = token_for(node.db, account(node.db, node.settings, "dan"))
    made = await _json(
        await node.client.post("/api/v1/lists", data={"title": "Bob"}, headers=_h(node.token))
    )
    one = f"/api/v1/lists/{made['id']}"
    await _json(
        await node.client.post(
            f"{one}/accounts", data={"account_ids[]": bob}, headers=_h(node.token)
        )
    )
    said = await _post(node, bob_token, status="bob speaks")
    to_self = await _post(node, bob_token, status="and again", in_reply_to_id=said["id"])
    carl_post = await _post(node, carl_token, status="carl speaks")
    to_carl = await _post(node, bob_token, status="@carl hi", in_reply_to_id=carl_post["id"])
    dan_post = await _post(node, dan_token, status="dan speaks")
    to_dan = await _post(node, bob_token, status="@dan hi", in_reply_to_id=dan_post["id"])
    timeline = f"/api/v1/timelines/list/{made['id']}"
    # "list": replies to members (bob himself) only.
    assert await _ids(node, timeline) == [to_self["id"], said["id"]]
    await _json(
        await node.client.put(one, json={"replies_policy": "followed"}, headers=_h(node.token))
    )
    assert await _ids(node, timeline) == [to_carl["id"], to_self["id"], said["id"]]
    await _json(await node.client.put(one, json={"replies_policy": "none"}, headers=_h(node.token)))
    assert await _ids(node, timeline) == [said["id"]]
    assert to_dan["id"] not in await _ids(node, timeline)
    # Exclusive: bob's posts leave the home timeline (they are read in the list).
    assert said["id"] in await _ids(node, "/api/v1/timelines/home")
    await _json(await node.client.put(one, json={"exclusive": True}, headers=_h(node.token)))
    home = await _ids(node, "/api/v1/timelines/home")
    assert said["id"] not in home and carl_post["id"] in home
    # Unfollowing takes bob out of the list.
    await _json(await node.client.post(f"/api/v1/accounts/{bob}/unfollow", headers=_h(node.token)))
    assert await _json(await node.client.get(f"{one}/accounts", headers=_h(node.token))) == []
    assert await _ids(node, timeline) == []
    assert (
        await node.client.get("/api/v1/timelines/list/99999", headers=_h(node.token))
    ).status == 404


async def test_a_list_stream_carries_its_members_posts(node) -> None:  # type: ignore[no-untyped-def]
    (bob_token, bob), (carl_token, _) = await _people(node, "bob", "carl")
    made = await _json(
        await node.client.post("/api/v1/lists", data={"title": "Bob"}, headers=_h(node.token))
    )
    await _json(
        await node.client.post(
            f"/api/v1/lists/{made['id']}/accounts",
            data={"account_ids[]": bob},
            headers=_h(node.token),
        )
    )
    async with node.client.ws_connect(f"/api/v1/streaming?access_token={node.token}") as ws:
        await ws.send_json({"type": "subscribe", "stream": "list", "list": "99999"})
        error = json.loads((await ws.receive()).data)
        assert "error" in error
        await ws.send_json({"type": "subscribe", "stream": "list", "list": made["id"]})
        await asyncio.sleep(0.3)
        await _post(node, carl_token, status="not in the list")
        mine = await _post(node, bob_token, status="in the list")
        async with asyncio.timeout(5):
            msg = await ws.receive()
        assert msg.type == aiohttp.WSMsgType.TEXT
        data = json.loads(msg.data)
        assert data["stream"] == ["list", made["id"]] and data["event"] == "update"
        assert json.loads(data["payload"])["id"] == mine["id"]
    other = token_for(node.db, account(node.db, node.settings, "erin"))
    resp = await node.client.get(f"/api/v1/streaming/list?list={made['id']}&access_token={other}")
    assert resp.status == 400
